"""The ``sitegen`` command: parse arguments, run a command, choose the exit code.

Exit codes: 0 success; 1 the build finished but something failed (a post, a check);
2 usage or configuration error (nothing was built).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from sitegen import __version__
from sitegen.errors import SiteError
from sitegen.model import BuildOptions

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_build_options(p: argparse.ArgumentParser) -> None:
    """The options every command that builds takes (plugins' commands too)."""
    p.add_argument("--drafts", action="store_true", help="include posts marked draft")
    p.add_argument("--future", action="store_true", help="include posts dated in the future")
    p.add_argument("--jobs", "-j", type=int, default=0, help="parallel workers (default: cores)")
    p.add_argument(
        "--rerun", action="store_true", help="ignore every cache: run all code, render every page"
    )
    p.add_argument("--source", "-s", type=Path, default=Path("."), help="site folder (default .)")


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
        prog="sitegen", description="Static site generator for math blogs with verified gradients."
    )
    parser.add_argument("--version", action="version", version=f"sitegen {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="say more")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    # -v/-q are accepted after the command too ("sitegen build -q")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=parser_class)

    build = sub.add_parser("build", parents=[common], help="build the site")
    build.add_argument("--out", "-o", type=Path, default=None, help="output folder (default _site)")
    build.add_argument(
        "--no-strict", dest="strict", action="store_false",
        help="exit 0 even when a post fails or a plugin fails the site",
    )
    add_build_options(build)

    serve = sub.add_parser("serve", parents=[common], help="build, serve, watch and reload")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--open", action="store_true", help="open a browser")
    serve.add_argument("--out", "-o", type=Path, default=None)
    add_build_options(serve)

    new = sub.add_parser("new", parents=[common], help="create a new post")
    new.add_argument("title")
    new.add_argument("--source", "-s", type=Path, default=Path("."))

    init = sub.add_parser("init", parents=[common], help="create a new site")
    init.add_argument("directory", type=Path)
    if plugins is not None:
        for command, command_parser in (("build", build), ("serve", serve)):
            group = command_parser.add_argument_group("options of plugins")
            plugins.hook.sitegen_add_options(command=command, parser=group)
        plugins.hook.sitegen_add_commands(subparsers=sub, common=common)
    return parser


# what the built-in commands parse; any other option a plugin added goes to options.extra
_BUILTIN_DESTS = {
    "command", "verbose", "quiet", "out", "strict", "drafts", "future", "jobs", "rerun",
    "source", "host", "port", "open", "run",
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
        extra={k: v for k, v in vars(args).items() if k not in _BUILTIN_DESTS},
    )


def cmd_build(args: argparse.Namespace) -> int:
    from sitegen.manifest import unchanged_since_last_build

    options = options_from_args(args)
    start = time.perf_counter()
    root = args.source.absolute()
    out = (options.out or root / "_site").absolute()
    # The fast path imports neither Markdown nor templates: nothing changed, nothing to do.
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
        result = build_site(root, options, fingerprint=fingerprint)
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


NEW_POST = """---
title: "{title}"
date: {date}
tags: []
excerpt: ""
---

Write the derivation here. Inline math: $\\nabla_W L$; display math:

$$
\\frac{{\\partial L}}{{\\partial w}} = (\\hat y - y)\\, x \\label{{eq:grad}}
$$

```python verify
dims(D=3)
x = rng.standard_normal(D); y = 1.0; w = rng.standard_normal(D)

def loss(w):
    return 0.5 * (x @ w - y) ** 2

dw = (x @ w - y) * x
check_grad(loss, w, dw, name="∂L/∂w", eq="eq:grad")
```
"""


def cmd_new(args: argparse.Namespace) -> int:
    from sitegen.read import slugify

    now = datetime.now().replace(microsecond=0)
    folder = args.source / (
        "_posts"
        if (args.source / "_posts").is_dir() and not (args.source / "posts").is_dir()
        else "posts"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now:%Y-%m-%d}-{slugify(args.title)}.md"
    if path.exists():
        print(f"{path}: error: already exists", file=sys.stderr)
        return EXIT_FAILED
    title = args.title.replace('"', '\\"')
    path.write_text(
        NEW_POST.format(title=title, date=now.strftime("%Y-%m-%d %H:%M:%S")), encoding="utf-8"
    )
    print(path)
    return EXIT_OK


SITE_CONFIG = """# sitegen configuration; every key is optional.
title = "{title}"
description = ""
author = ""
url = ""            # e.g. "https://example.org", for feeds and the sitemap
baseurl = ""        # e.g. "/blog" when the site lives below the domain's root
permalink = "/:year/:month/:day/:slug/"
posts_per_page = 10

[math]
# mathjax_url = "/assets/mathjax/tex-chtml-full.js"   # to self-host MathJax
# macros_file = "macros.tex"                          # \\newcommand lines for every post

[verify]
timeout = 60
memory_mb = 2048
"""


def cmd_init(args: argparse.Namespace) -> int:
    target: Path = args.directory
    if target.exists() and any(target.iterdir()):
        print(f"{target}: error: folder exists and is not empty", file=sys.stderr)
        return EXIT_FAILED
    (target / "posts").mkdir(parents=True, exist_ok=True)
    (target / "assets").mkdir(exist_ok=True)
    (target / "sitegen.toml").write_text(SITE_CONFIG.format(title=target.name), encoding="utf-8")
    (target / ".gitignore").write_text("_site/\n.sitegen-cache/\n", encoding="utf-8")
    args.source, args.title = target, "Hello, world"
    cmd_new(args)
    if not args.quiet:
        print(f"created a new site in {target}; next: cd {target} && sitegen serve")
    return EXIT_OK


COMMANDS = {
    "build": cmd_build,
    "serve": cmd_serve,
    "new": cmd_new,
    "init": cmd_init,
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
    sys.exit(main(argv))
