"""The ``sitegen`` command: parse arguments, run a command, choose the exit code.

Exit codes: 0 success; 1 the build finished but something failed (a post, a check);
2 usage or configuration error (nothing was built).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from sitegen import __version__
from sitegen.errors import SiteError
from sitegen.model import BuildOptions

if TYPE_CHECKING:  # imported where it starts, before the rest of the engine
    from sitegen.reading_copy import ReadingCopy

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_build_options(p: argparse.ArgumentParser) -> None:
    """The options every command that builds takes (plugins' commands too)."""
    p.add_argument("--drafts", action="store_true", help="include posts marked draft")
    p.add_argument("--future", action="store_true", help="include posts dated in the future")
    p.add_argument("--jobs", "-j", type=int, default=0, help="parallel workers (0: one per core)")
    p.add_argument(
        "--rerun", action="store_true", help="ignore every cache: run all code, render every page"
    )
    p.add_argument("--source", "-s", type=Path, default=Path("."), help="site folder")


class _Unparsed(Exception):
    """The built-in commands alone do not parse these arguments (a plugin's may)."""


class _TrialParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _Unparsed(message)


def make_parser(
    plugins: Any = None, parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """The program's arguments; ``plugins`` (a plugin manager) add options to ``build`` and
    ``serve`` and commands of their own."""
    parser = parser_class(
        prog="sitegen",
        description="Static site generator for math blogs with verified gradients.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sitegen {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="say more")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    # -v/-q are accepted after the command too ("sitegen build -q")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="say more"
    )
    common.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="print only errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=parser_class)

    def command(name: str, help: str, examples: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            parents=[common],
            help=help,
            description=help[0].upper() + help[1:] + ".",
            epilog="examples:\n" + examples,
            formatter_class=HelpFormatter,
        )

    build = command(
        "build",
        "build the site",
        "  sitegen build                 build into _site/, exit 1 if a check fails\n"
        "  sitegen build -o public -j 2  into public/, with two workers\n"
        "  sitegen build --no-strict -q  exit 0 whatever fails; print only errors\n"
        "  sitegen build --atomic        replace the whole output at once (a live web root)",
    )
    build.add_argument("--out", "-o", type=Path, default=None, help="output folder (_site)")
    build.add_argument(
        "--no-strict", dest="strict", action="store_false", help="exit 0 even when checks fail"
    )
    build.add_argument(
        "--atomic",
        action="store_true",
        help="build beside the output and swap it in whole: readers never see a mix",
    )
    add_build_options(build)

    serve = command(
        "serve",
        "build, serve, watch and reload",
        "  sitegen serve                 http://127.0.0.1:8000/, rebuilt on every save\n"
        "  sitegen serve --port 8001 --open\n"
        "  sitegen serve --host 0.0.0.0  reachable from other machines (a phone)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument("--open", action="store_true", help="open a browser")
    serve.add_argument(
        "--out", "-o", type=Path, default=None, help="output folder (_site)"
    )
    add_build_options(serve)

    new = command(
        "new",
        "create a new post",
        '  sitegen new "Backprop through softmax"   posts/YYYY-MM-DD-backprop-through-softmax.md',
    )
    new.add_argument("title", help="the post's title; its file is named after it")
    new.add_argument("--source", "-s", type=Path, default=Path("."), help="site folder")

    init = command(
        "init",
        "create a new site",
        "  sitegen init my-blog && cd my-blog && sitegen serve",
    )
    init.add_argument("directory", type=Path, help="a new or empty folder")

    deploy = command(
        "deploy",
        "build strict and publish the output to a gh-pages branch",
        "  sitegen deploy                      build, commit to gh-pages, push to origin\n"
        "  sitegen deploy --remote upstream -b pages\n"
        "  sitegen deploy --no-push            commit only, to look at it first",
    )
    deploy.add_argument("--remote", default="origin", help="where to push")
    deploy.add_argument("--branch", "-b", default="gh-pages", help="the branch to publish to")
    deploy.add_argument("--message", "-m", default="", help="commit message")
    deploy.add_argument("--no-push", dest="push", action="store_false", help="only commit")
    deploy.add_argument(
        "--allow-dirty", action="store_true", help="publish although files are uncommitted"
    )
    deploy.add_argument("--out", "-o", type=Path, default=None, help="output folder")
    add_build_options(deploy)
    if plugins is not None:
        for name, command_parser in (("build", build), ("serve", serve), ("deploy", deploy)):
            group = command_parser.add_argument_group("options of plugins")
            plugins.hook.sitegen_add_options(command=name, parser=group)
        plugins.hook.sitegen_add_commands(subparsers=sub, common=common)
    return parser


EXAMPLES = """examples:
  sitegen init my-blog              a new site, with a workflow that publishes it
  sitegen new "Why the gradient vanishes"
  sitegen serve                     preview at http://127.0.0.1:8000/
  sitegen build                     build into _site/ (exit 1 if a check fails)
  sitegen deploy                    publish to the gh-pages branch

-v/--verbose and -q/--quiet may also follow the command; 'sitegen COMMAND --help' for more.
exit codes: 0 success, 1 something in the site failed, 2 the command could not run."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Examples kept as written; an option's default shown when it has a telling one."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if default in (None, False, True, argparse.SUPPRESS) or "%(default)" in text:
            return text
        if action.option_strings and action.nargs != 0:
            text += " (default: %(default)s)"
        return text


# what the built-in commands parse; any other option a plugin added goes to options.extra
_BUILTIN_DESTS = {
    "command", "verbose", "quiet", "out", "strict", "drafts", "future", "jobs", "rerun",
    "source", "host", "port", "open", "run", "remote", "branch", "message", "push",
    "allow_dirty", "atomic",
}


def options_from_args(args: argparse.Namespace) -> BuildOptions:
    """The build options the arguments give (for plugins' commands too)."""
    return BuildOptions(
        out=getattr(args, "out", None),
        drafts=args.drafts,
        future=args.future,
        strict=getattr(args, "strict", True),
        jobs=args.jobs,
        rerun=args.rerun,
        quiet=args.quiet,
        verbose=args.verbose,
        atomic=getattr(args, "atomic", False),
        extra={k: v for k, v in vars(args).items() if k not in _BUILTIN_DESTS},
    )


def cmd_build(args: argparse.Namespace) -> int:
    from sitegen.reading_copy import ReadingCopy

    options = options_from_args(args)
    start = time.perf_counter()
    root = args.source.absolute()
    out = (options.out or root / "_site").absolute()
    # A clean build forks its reading copy first, before anything else is imported: it
    # reads while this process starts. (The fingerprint is still taken before this
    # process reads: what the copy read is used only if its file is as the copy found it.)
    jobs = min(options.jobs or os.cpu_count() or 1, 8)
    copy = ReadingCopy.start(root, out, options, jobs)
    try:
        return _build(args, options, root, out, start, copy)
    finally:
        if copy is not None:  # (also when the build stopped early, or Ctrl-C stopped it:
            copy.dismiss()  # the folders made for it and left empty go)


def _build(
    args: argparse.Namespace,
    options: BuildOptions,
    root: Path,
    out: Path,
    start: float,
    copy: ReadingCopy | None,
) -> int:
    from sitegen.manifest import unchanged_since_last_build

    # The fast path imports neither Markdown nor templates: nothing changed, nothing to do
    # (never with a reading copy: it needs an earlier build's output).
    fingerprint, manifest = unchanged_since_last_build(root, options, out)
    if manifest is not None:
        if not args.quiet:
            for warning in manifest.get("warnings", []):
                print(warning, file=sys.stderr)
            print(
                f"nothing changed: {manifest.get('posts', 0)} posts up to date in {out} "
                f"({time.perf_counter() - start:.2f} s)"
            )
        return EXIT_OK

    from sitegen.build import build_site
    from sitegen.plugins import plugin_names
    from sitegen.report import print_diagnostics, summary_line
    from sitegen.write import OutputError

    # A build makes millions of short-lived objects (Markdown tokens) and few cycles; the
    # collector's default thresholds spend ~5% of a large build looking for them.
    gc.set_threshold(50_000, 20, 50)
    try:
        result = build_site(root, options, fingerprint=fingerprint, copy=copy)
    except OutputError as exc:  # the output folder is full or read-only: nothing more to do
        print(exc, file=sys.stderr)
        return EXIT_FAILED
    report = result.site.report
    print_diagnostics(report, quiet=args.quiet)
    if args.verbose:
        print("plugins: " + ", ".join(sorted(plugin_names(result.site.plugins))))
        for stage, seconds in result.timings:
            print(f"  {seconds:7.3f} s  {stage}")
    if not args.quiet:
        print(
            summary_line(
                len(result.site.posts),
                len(result.site.pages),
                result.file_count,
                time.perf_counter() - start,
                str(result.out),
                report,
            )
        )
    return EXIT_FAILED if result.failed and options.strict else EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from sitegen.server import serve

    return serve(
        args.source, options_from_args(args), host=args.host, port=args.port, open_browser=args.open
    )


def cmd_new(args: argparse.Namespace) -> int:
    from sitegen.scaffold import new_post

    return new_post(args.source, args.title)


def cmd_init(args: argparse.Namespace) -> int:
    from sitegen.scaffold import init_site

    return init_site(args.directory, quiet=args.quiet)


def cmd_deploy(args: argparse.Namespace) -> int:
    from sitegen.deploy import DeployOptions, deploy

    options = DeployOptions(
        remote=args.remote,
        branch=args.branch,
        message=args.message,
        push=args.push,
        allow_dirty=args.allow_dirty,
    )
    return deploy(args.source, options_from_args(args), options)


COMMANDS = {
    "build": cmd_build,
    "serve": cmd_serve,
    "new": cmd_new,
    "init": cmd_init,
    "deploy": cmd_deploy,
}


def _site_plugins(argv: list[str]) -> Any:
    """The plugins of the site ``--source`` names (built-ins when it cannot be loaded)."""
    from sitegen.config import load_config
    from sitegen.plugins import load_plugins

    first = argparse.ArgumentParser(add_help=False)
    first.add_argument("--source", "-s", type=Path, default=Path("."))
    known, _ = first.parse_known_args(argv)
    root = known.source.absolute()
    try:
        settings = load_config(root).plugins
    except SiteError:
        settings = {}
    try:
        return load_plugins(root, settings)
    except SiteError:
        return load_plugins(root / ".no-site", {})


def parse_args(argv: list[str]) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """Built-in commands are parsed without loading any plugin (a build with nothing to
    do stays quick); anything else is parsed again with the site's plugins."""
    if not {"-h", "--help"} & set(argv):
        try:
            parser = make_parser(parser_class=_TrialParser)
            return parser, parser.parse_args(argv)
        except _Unparsed:
            pass
    parser = make_parser(_site_plugins(argv))
    return parser, parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    parser, args = parse_args(sys.argv[1:] if argv is None else list(argv))
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if args.command in ("build", "serve", "deploy") or getattr(args, "run", None):
        from sitegen.scaffold import not_a_site

        problem = not_a_site(args.source)
        if problem:  # as Hugo and MkDocs do: building nothing is not a success
            print(problem, file=sys.stderr)
            return EXIT_USAGE
    try:
        run = getattr(args, "run", None) or COMMANDS[args.command]
        return run(args)
    except SiteError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def run(argv: list[str] | None = None) -> None:
    """The ``sitegen`` program (console script and ``python -m sitegen``)."""
    code = main(argv)
    # What the command made is garbage now, much of it in reference cycles (posts link to
    # their neighbours), which the interpreter's last collection would walk object by
    # object (~65 ms after a build of 1,000 posts) to free memory the system takes back
    # anyway. Frozen, it is left alone; the rest of the exit is Python's own: exit
    # handlers run, output and files still open are flushed.
    gc.freeze()
    sys.exit(code)
