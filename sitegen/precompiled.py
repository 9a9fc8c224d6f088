"""Theme templates compiled ahead of time, so a clean build does not compile them again.

Jinja2 turns a template into Python source and then into code; the first step is most of
the ~40 ms a clean build spent on the built-in theme. A theme's ``templates/`` folder may
hold that Python source in ``precompiled.json``, made by

    python -m sitegen.precompiled [TEMPLATES_FOLDER ...]   # default: the built-in ones

Each entry is found by a digest of everything the generated code depends on (the format,
Jinja2's version, the environment's settings, the template's name and its exact source),
and carries the sha256 of its code. A template whose source, settings or Jinja2 differ
finds no entry; an entry whose code does not match its digest (a damaged or edited file)
is ignored; either way the template is compiled from its source, as without the file.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2

FILE_NAME = "precompiled.json"
FORMAT = 1
TEMPLATE_SUFFIXES = (".html", ".xml", ".txt")


def _settings(env: jinja2.Environment, name: str) -> list[Any]:
    """What Jinja2's generated code depends on besides the source."""
    autoescape = env.autoescape(name) if callable(env.autoescape) else env.autoescape
    return [
        FORMAT,
        jinja2.__version__,
        env.block_start_string, env.block_end_string,
        env.variable_start_string, env.variable_end_string,
        env.comment_start_string, env.comment_end_string,
        env.line_statement_prefix, env.line_comment_prefix,
        env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
        env.optimized, env.is_async, bool(autoescape),
        getattr(env.finalize, "__qualname__", repr(env.finalize)),
        sorted(env.extensions), sorted(env.filters), sorted(env.tests),
    ]


def entry_key(env: jinja2.Environment, name: str, source: str) -> str:
    text = json.dumps([_settings(env, name), name, source], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


class PrecompiledTemplates:
    """The entries of the ``precompiled.json`` files of some template folders, read
    when a template is first looked up."""

    def __init__(self, folders: list[Path]) -> None:
        self.files = [f / FILE_NAME for f in folders if (f / FILE_NAME).is_file()]
        self._entries: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._entries is None:
            self._entries = {}
            for path in self.files:
                try:
                    entries = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue  # unreadable: its templates are compiled from source
                if isinstance(entries, dict):
                    self._entries.update(entries)
        return self._entries

    def code(
        self, env: jinja2.Environment, name: str, filename: str | None, source: str
    ) -> CodeType | None:
        """The compiled code of template ``name`` with this ``source``, or None when no
        sound entry has it."""
        if not self.files:
            return None
        entry = self._load().get(entry_key(env, name, source))
        if not isinstance(entry, dict):
            return None
        code, digest = entry.get("code"), entry.get("sha256")
        if not isinstance(code, str) or _digest(code) != digest:
            return None
        try:
            return compile(code, filename or name, "exec")
        except (SyntaxError, ValueError):
            return None


def precompile(folder: Path, env: jinja2.Environment) -> dict[str, Any]:
    """The entries for every template in ``folder``, compiled by ``env``."""
    entries = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix not in TEMPLATE_SUFFIXES:
            continue
        name = path.relative_to(folder).as_posix()
        source = path.read_text(encoding="utf-8")
        code = env.compile(source, name, str(path), raw=True)
        entries[entry_key(env, name, source)] = {"name": name, "sha256": _digest(code),
                                                 "code": code}
    return entries


def write_precompiled(folder: Path) -> Path:
    """Write ``folder``'s ``precompiled.json`` for the environment builds use."""
    from sitegen.templates import create_environment

    entries = precompile(folder, create_environment([folder]))
    target = folder / FILE_NAME
    target.write_text(json.dumps(entries, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return target


def builtin_template_folders() -> list[Path]:
    """The ``templates`` folders of the built-in themes and of what the built-in plugins
    ship in their ``theme/`` folders."""
    import importlib.util

    folders = []
    for package, pattern in (("sitegen_themes", "*/templates"),
                             ("sitegen_plugins", "*/theme/templates")):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        folders += sorted(p for p in root.glob(pattern) if p.is_dir())
    return folders


def main(argv: list[str]) -> int:
    folders = [Path(a) for a in argv] or builtin_template_folders()
    for folder in folders:
        target = write_precompiled(folder)
        print(f"wrote {target} ({len(json.loads(target.read_text(encoding='utf-8')))} templates)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
