"""``sitegen check [PATHS]``, the command this plugin adds: run only the verification and
report like pytest.

Reads and parses the posts, calls the ``sitegen_posts_parsed`` hook (where the verification
plugin runs the code) and prints one line per check. Nothing is rendered or written.
Results are plain rows in ``post.data["checks"]`` (see ``summary.post_rows``):
dicts with ``source``, ``line``, ``name``, ``status`` (pass/fail/error), ``message`` and,
for checks, ``max_rel_err``, ``tolerance``, ``entries_checked``, ``entries_total``, ``hint``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from sitegen.model import BuildOptions

WORDS = {"pass": "PASSED", "fail": "FAILED", "error": "ERROR", "inconclusive": "INCONCLUSIVE"}
PROBLEMS = ("fail", "error")  # what fails the command (inconclusive: cannot tell here)


def _expand(paths: list[Path]) -> list[Path]:
    """Folders stand for every file below them."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if p.is_file())
        else:
            files.append(path)
    return files


def collect(root: Path, options: BuildOptions) -> tuple[Any, list[dict[str, Any]]]:
    """Read, parse and verify; return the site and every check row, by source and line."""
    from sitegen.bodies import create_markdown, parse_posts
    from sitegen.build import load_site
    from sitegen.plugins import call_hook
    from sitegen.posts import read_posts
    from sitegen.templates import create_environment, template_dirs

    options.extra["verify"] = True
    if options.only:
        options.only = _expand(options.only)
    site = load_site(root, options)
    read_posts(site)
    jinja_env = create_environment(template_dirs(site.root, site.theme_dirs))
    md = create_markdown(site)
    everything = site.posts + site.pages
    parse_posts(site, md, jinja_env, everything)
    call_hook(
        site, "sitegen_posts_parsed", site=site, posts=[p for p in everything if not p.failed]
    )
    rows = [row for post in everything for row in post.data.get("checks", [])]
    rows.sort(key=lambda r: (str(r.get("source")), r.get("line") or 0))
    return site, rows


def _number(value: Any) -> str:
    return f"{value:.1e}" if isinstance(value, int | float) else "n/a"


def format_row(row: dict[str, Any]) -> str:
    where = f"{row.get('source')}:{row.get('line')}" if row.get("line") else row.get("source")
    status = row.get("status", "error")
    text = f"{where}: {row.get('name') or 'check'} {WORDS.get(status, status.upper())}"
    if row.get("kind") == "check" and status not in ("error", "inconclusive") and row.get(
        "entries_checked"
    ):  # a failure before any entry was compared (a shape, a NaN) has no figures
        unit = row.get("measure") or ("se" if row.get("stderr") is not None else "rel")
        if unit == "se":  # a Monte Carlo estimate, judged in standard errors
            measure = (
                f"{_number(row.get('max_rel_err'))} standard errors off, "
                f"allowed {_number(row.get('tolerance'))}"
            )
        elif unit == "abs":  # the reference is 0: no relative error to speak of
            measure = (
                f"abs. error {_number(row.get('max_rel_err'))}, "
                f"allowed {_number(row.get('tolerance'))}"
            )
        else:
            measure = (
                f"max rel. error {_number(row.get('max_rel_err'))}, "
                f"tolerance {_number(row.get('tolerance'))}"
            )
        text += f"  ({measure}, {row.get('entries_checked')} of {row.get('entries_total')} entries)"
    if status != "pass" and row.get("message"):
        text += f"\n    {row['message']}"
    if status == "fail" and row.get("hint"):
        text += f"\n    hint: {row['hint']}"
    if row.get("equation_status") == "contradicts":  # the equation as written (a plugin's)
        text += f"\n    equation contradicts the check: {row.get('equation_reason')}"
    for step in row.get("equation_steps") or []:
        if step.get("status") == "breaks":
            text += f"\n    step {step.get('from')} → {step.get('to')} breaks: {step.get('reason')}"
    return text


def summary(rows: list[dict[str, Any]], seconds: float) -> str:
    counts = {status: sum(1 for r in rows if r.get("status") == status) for status in WORDS}
    parts = [f"{counts['pass']} passed"]
    if counts["fail"]:
        parts.append(f"{counts['fail']} failed")
    if counts["error"]:
        parts.append(f"{counts['error']} error" + ("s" if counts["error"] > 1 else ""))
    if counts["inconclusive"]:
        parts.append(f"{counts['inconclusive']} inconclusive")
    if not rows:
        parts = ["no checks found"]
    return f"{', '.join(parts)} in {seconds:.1f} s"


def run_check(
    root: Path, options: BuildOptions, as_json: bool, stream: TextIO | None = None
) -> int:
    """The ``sitegen check`` command; exit 1 if any check failed or errored."""
    out = stream or sys.stdout
    missing = [p for p in options.only or [] if not p.exists()]
    if missing:
        messages = [f"{path}: error: no such file or folder" for path in missing]
        for message in messages:
            print(message, file=sys.stderr)
        if as_json:  # a machine reading stdout learns why there are no checks
            document = {"checks": [], "diagnostics": messages, "summary": None}
            print(json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True), file=out)
        return 2  # a usage error, as for an unknown option
    start = time.perf_counter()
    site, rows = collect(root, options)
    seconds = time.perf_counter() - start
    problems = [r for r in rows if r.get("status") in PROBLEMS]
    # a failed check is also a build error; its row says it already
    shown = {(r.get("source"), r.get("line")) for r in rows if r.get("status") != "pass"}
    errors = [d for d in site.report.errors if (d.path, d.line) not in shown]
    # what was not checked and why (blocks after a failed one, posts left out) is said too
    said = [d for d in site.report.diagnostics
            if d in errors or (d.level == "note" and not options.quiet)]
    if as_json:
        document = {
            "summary": {
                "passed": sum(1 for r in rows if r.get("status") == "pass"),
                "inconclusive": sum(1 for r in rows if r.get("status") == "inconclusive"),
                "failed": sum(1 for r in rows if r.get("status") == "fail"),
                "errors": sum(1 for r in rows if r.get("status") == "error"),
                "seconds": round(seconds, 3),
            },
            "checks": rows,
            "diagnostics": [str(d) for d in said],
        }
        print(json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True), file=out)
    else:
        for diagnostic in said:
            print(diagnostic, file=sys.stderr)
        if not options.quiet:
            for row in rows:
                if row.get("status") != "pass" or options.verbose or len(rows) <= 200:
                    print(format_row(row), file=out)
        bar = "=" * 8
        print(f"{bar} {summary(rows, seconds)} {bar}", file=out)
    # a plugin may fail the verification beyond its rows (an equation that contradicts them)
    return 1 if problems or errors or site.failed else 0


def add_command(subparsers: Any, common: Any) -> None:
    from sitegen.cli import HelpFormatter, add_build_options

    check = subparsers.add_parser(
        "check",
        parents=[common],
        help="run only the verification",
        description="Run only the verification.",
        epilog="examples:\n"
        "  sitegen check                           every post\n"
        "  sitegen check posts/2024-01-02-x.md -v  one post, every check listed\n"
        "  sitegen check --json > report.json",
        formatter_class=HelpFormatter,
    )
    check.add_argument("paths", nargs="*", type=Path, help="posts to check (default: all)")
    check.add_argument("--json", action="store_true", help="machine-readable report")
    add_build_options(check)
    check.set_defaults(run=_run)


def _run(args: Any) -> int:
    from sitegen.cli import options_from_args

    options = options_from_args(args)
    options.only = list(args.paths) or None
    return run_check(args.source, options, as_json=args.json)
