"""What a command prints: diagnostics in ``path:line: level: message`` form and a summary."""

from __future__ import annotations

import sys
from typing import TextIO

from sitegen.errors import Report


def print_diagnostics(report: Report, stream: TextIO | None = None, quiet: bool = False) -> None:
    stream = stream or sys.stderr
    for diagnostic in report.diagnostics:
        if quiet and diagnostic.level != "error":
            continue
        print(diagnostic, file=stream)


def plural(count: int, noun: str, many: str = "") -> str:
    """ "1 post", "2 posts" (``many`` for an irregular plural)."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def summary_line(
    n_posts: int, n_pages: int, n_files: int, seconds: float, out: str, report: Report
) -> str:
    built = f"{plural(n_posts, 'post')} and {plural(n_pages, 'page')}"
    parts = [f"built {built} ({plural(n_files, 'file')}) in {seconds:.2f} s"]
    parts.append(f"-> {out}")
    if report.errors or report.warnings:
        counts = f"{plural(len(report.errors), 'error')}, {plural(len(report.warnings), 'warning')}"
        parts.append(f"({counts})")
    return " ".join(parts)


def show_progress(text: str, enabled: bool) -> None:
    """One status line on a terminal, rewritten in place; nothing when output is not a TTY."""
    if enabled and sys.stderr.isatty():
        sys.stderr.write("\r\033[K" + text if text else "\r\033[K")
        sys.stderr.flush()
