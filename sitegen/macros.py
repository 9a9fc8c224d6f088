"""Site-wide TeX macros: ``\\newcommand`` lines from one file, handed to MathJax's config."""

from __future__ import annotations

import re
from pathlib import Path

from sitegen.errors import ConfigError

_NEWCOMMAND = re.compile(r"\\(?:re)?newcommand\s*\{?\\([A-Za-z]+)\}?\s*(?:\[(\d)\])?\s*\{")


def _braced(text: str, start: int, path: str, line: int) -> tuple[str, int]:
    """The text of a brace group whose '{' is at ``start - 1``; returns (body, end)."""
    depth, i = 1, start
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start:i], i + 1
        i += 1
    raise ConfigError("unbalanced braces in \\newcommand", path, line)


def parse_macros(text: str, path: str = "macros") -> dict[str, str | list]:
    """``\\newcommand{\\R}{\\mathbb{R}}`` → {"R": "\\mathbb{R}"}; with ``[n]`` → [body, n]."""
    macros: dict[str, str | list] = {}
    for match in _NEWCOMMAND.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        body, _ = _braced(text, match.end(), path, line)
        name, nargs = match.group(1), match.group(2)
        macros[name] = [body, int(nargs)] if nargs else body
    return macros


def load_macros(root: Path, filename: str) -> dict[str, str | list]:
    if not filename:
        return {}
    path = root / filename
    if not path.is_file():
        raise ConfigError(f"math.macros_file '{filename}' not found", filename)
    return parse_macros(path.read_text(encoding="utf-8"), filename)
