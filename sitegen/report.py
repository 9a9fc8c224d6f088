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


def summary_line(
    n_posts: int, n_pages: int, n_files: int, seconds: float, out: str, report: Report
) -> str:
    parts = [f"built {n_posts} posts and {n_pages} pages ({n_files} files) in {seconds:.2f} s"]
    parts.append(f"-> {out}")
    if report.errors or report.warnings:
        parts.append(f"({len(report.errors)} errors, {len(report.warnings)} warnings)")
    return " ".join(parts)


def show_progress(text: str, enabled: bool) -> None:
    """One status line on a terminal, rewritten in place; nothing when output is not a TTY."""
    if enabled and sys.stderr.isatty():
        sys.stderr.write("\r\033[K" + text if text else "\r\033[K")
        sys.stderr.flush()
