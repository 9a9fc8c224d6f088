"""Which Markdown a site's posts were written for: sitegen's own, or Jekyll's kramdown.

A Jekyll site (a ``_posts/`` folder or a ``_config.yml``) was written for kramdown and for the
MathJax setup in its own layouts, so its posts are read by their rules: kramdown's HTML
blocks, tables and backslash escapes (:mod:`sitegen.markdown.kramdown`), and single-dollar
math only when the site's MathJax configuration turned it on. A native sitegen site keeps
sitegen's rules (pandoc's single dollars).

``[math] dollars`` in ``sitegen.toml`` ("off", "pandoc", "mathjax") overrides the detection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sitegen.errors import ConfigError
from sitegen.macros import parse_macros
from sitegen.markdown.lines import report
from sitegen.markdown.mathjax_gate import MathJaxGate, detect_mathjax_gate, site_setting

__all__ = [
    "DOLLAR_RULES",
    "MarkdownDialect",
    "detect_dialect",
    "note_difference",
    "template_macros",
]

DOLLAR_RULES = ("off", "pandoc", "mathjax")

# Folders of a Jekyll site whose templates load and configure MathJax.
_TEMPLATE_DIRS = ("_layouts", "_includes")
_TEMPLATE_SUFFIXES = (".html", ".htm", ".liquid", ".md")

_INLINE_MATH = re.compile(r"inlineMath\s*[:=]\s*\[")
# A ['$', '$'] pair (either quote, any spacing).
_DOLLAR_PAIR = re.compile(r"""\[\s*(['"])\$\1\s*,\s*(['"])\$\2\s*\]""")
_PROCESS_ESCAPES = re.compile(r"processEscapes\s*[:=]\s*(true|false)")
_MATHJAX_2 = re.compile(r"MathJax\.js|MathJax\.Hub|tex2jax", re.I)


@dataclass(frozen=True)
class MarkdownDialect:
    """The rules a site's posts are read by."""

    kramdown: bool = False  # kramdown's block rules and escapes (a Jekyll site)
    dollars: str = "pandoc"  # single-dollar math: "off" | "pandoc" | "mathjax"
    process_escapes: bool = True  # MathJax reads "\\$" as a dollar sign (mathjax rule)
    found_in: str = ""  # the template that configured MathJax's dollars ("" if none)
    # MathJax loads only on pages that ask ({% if page.mathjax %}): None when always
    mathjax_gate: MathJaxGate | None = None
    # kramdown's parse_block_html in _config.yml: HTML blocks' content is Markdown
    parse_block_html: bool = False


def _bracket_list(text: str, start: int) -> str:
    """The text of the ``[...]`` list that opens at ``start`` (brackets balanced)."""
    depth = 0
    for i in range(start, min(len(text), start + 400)):
        if text[i] == "[":
            depth += 1
        elif text[i] == "]":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return text[start : start + 400]


def _templates(root: Path) -> list[Path]:
    found: list[Path] = []
    for name in _TEMPLATE_DIRS:
        folder = root / name
        if folder.is_dir():
            found.extend(
                p
                for p in sorted(folder.rglob("*"))
                if p.suffix in _TEMPLATE_SUFFIXES and p.is_file()
            )
    return found


def detect_dialect(root: Path, dollars: str = "") -> MarkdownDialect:
    """The dialect of the site at ``root``; ``dollars`` is ``[math] dollars`` ("" = detect).

    For a Jekyll site, single dollars are math only if a template in ``_layouts/`` or
    ``_includes/`` lists ``['$','$']`` in MathJax's ``inlineMath``; otherwise they are
    text, as with MathJax's defaults (2 and 3 alike).
    """
    jekyll = (root / "_posts").is_dir() or (root / "_config.yml").is_file()
    if not jekyll:
        return MarkdownDialect(dollars=dollars or "pandoc")
    rule, escapes, found_in = "off", True, ""
    for path in _templates(root):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "inlineMath" not in text:
            continue
        for match in _INLINE_MATH.finditer(text):
            if _DOLLAR_PAIR.search(_bracket_list(text, match.end() - 1)):
                rule = "mathjax"
                found_in = path.relative_to(root).as_posix()
                # MathJax 2's processEscapes is off unless set; MathJax 3's is on.
                setting = _PROCESS_ESCAPES.search(text)
                if setting:
                    escapes = setting.group(1) == "true"
                else:
                    escapes = not _MATHJAX_2.search(text)
                break
        if found_in:
            break
    return MarkdownDialect(
        kramdown=True,
        dollars=dollars or rule,
        process_escapes=escapes,
        found_in=found_in,
        mathjax_gate=detect_mathjax_gate(root, _templates(root)),
        parse_block_html=_parse_block_html(root),
    )


def _parse_block_html(root: Path) -> bool:
    settings = site_setting(root, "kramdown")
    return isinstance(settings, dict) and settings.get("parse_block_html") is True


_NOTED_KEY = "_sg_differences"  # env key: kinds of difference already reported for a post


def note_difference(env: dict, kind: str, body_line: int, message: str) -> None:
    """Warn, once per post and kind, where sitegen knowingly shows a Jekyll post differently
    (``body_line``: 0-based line of the post's body)."""
    noted = env.setdefault(_NOTED_KEY, set())
    if kind in noted:
        return
    noted.add(kind)
    report(env, body_line, "warning", message)


# MathJax 2's TeX.Macros object in a layout: name: "body" or name: ["body", n].
_MACROS_OBJECT = re.compile(r"\bMacros\s*:\s*\{")
_JS_MACRO = re.compile(
    r"""([A-Za-z]+)\s*:\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'"""
    r"""|\[\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*,\s*(\d+)\s*\])"""
)
_JS_ESCAPE = re.compile(r"\\(.)", re.S)
_OPERATOR = re.compile(r"\\DeclareMathOperator(\*?)\s*\{?\\([A-Za-z]+)\}?\s*\{([^{}]*)\}")


def _object_end(text: str, start: int) -> int:
    """Index of the ``}`` closing the JS object whose ``{`` is at ``start - 1`` (braces in
    its strings are TeX's and balanced)."""
    depth = 1
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return len(text)


def _js_macros(text: str) -> dict[str, str | list]:
    found: dict[str, str | list] = {}
    for start in _MACROS_OBJECT.finditer(text):
        for m in _JS_MACRO.finditer(text, start.end(), _object_end(text, start.end())):
            single = m.group(2) if m.group(2) is not None else m.group(3)
            if single is not None:
                found[m.group(1)] = _JS_ESCAPE.sub(r"\1", single)
            else:
                tex = m.group(4) if m.group(4) is not None else m.group(5)
                found[m.group(1)] = [_JS_ESCAPE.sub(r"\1", tex), int(m.group(6))]
    return found


def template_macros(root: Path) -> dict[str, str | list]:
    """The TeX macros a Jekyll site's layouts give MathJax: ``\\newcommand`` and
    ``\\DeclareMathOperator`` lines (often in a hidden ``$$`` block) and MathJax 2's
    ``TeX: {Macros: {…}}``. Posts use them, and sitegen's theme has none of its own;
    ``[math] macros_file`` takes precedence. Empty for a native sitegen site."""
    if not ((root / "_posts").is_dir() or (root / "_config.yml").is_file()):
        return {}
    macros: dict[str, str | list] = {}
    for path in _templates(root):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "Macros" in text:
            macros.update(_js_macros(text))
        if "\\newcommand" in text or "\\renewcommand" in text:
            try:
                macros.update(parse_macros(text, path.relative_to(root).as_posix()))
            except ConfigError:
                pass  # a template's broken TeX is the template's; MathJax will say so
        for m in _OPERATOR.finditer(text):
            macros[m.group(2)] = f"\\operatorname{m.group(1)}{{{m.group(3)}}}"
    return macros
