"""Site-wide TeX macros: ``\\newcommand`` lines from one file, handed to MathJax's config."""

from __future__ import annotations

import re
from pathlib import Path

from sitegen.errors import ConfigError
from sitegen.texgroups import group_end

_NEWCOMMAND = re.compile(r"\\(?:re)?newcommand\s*\{?\\([A-Za-z]+)\}?\s*(?:\[(\d)\])?\s*\{")


def parse_macros(text: str, path: str = "macros") -> dict[str, str | list]:
    """``\\newcommand{\\R}{\\mathbb{R}}`` → {"R": "\\mathbb{R}"}; with ``[n]`` → [body, n]."""
    macros: dict[str, str | list] = {}
    for match in _NEWCOMMAND.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        end = group_end(text, match.end() - 1)  # the pattern ends at the body's "{"
        if end is None:
            raise ConfigError("unbalanced braces in \\newcommand", path, line)
        body = text[match.end() : end - 1]
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
