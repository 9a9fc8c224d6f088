"""Posts whose Jekyll page never loaded MathJax: the site's layouts load it only when a page
asks, ``{% if page.mathjax %}{% include mathjax.html %}{% endif %}`` and the like.

On such a site a post without the flag showed its ``$…$`` as typed, and an author may well
have written dollars for money there. So a post of such a site gets no math markup unless
it sets the flag (itself, through ``defaults`` in ``_config.yml``, or through its layout's
front matter when the condition reads ``layout.KEY``) or loads MathJax with a script of its
own, and a warning says how to turn math on when the post holds some.

Only conditions sitegen can read are honoured: ``page.KEY``, ``layout.KEY`` and
``site.KEY`` terms joined by ``or``. Anything else (``and``, comparisons, ``unless``, an
``else`` branch) counts as "MathJax always loads", which is what sitegen does by default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

__all__ = [
    "GATE_RULES",
    "MathJaxGate",
    "detect_mathjax_gate",
    "mathjax_gate_plugin",
    "site_setting",
]

# Where a template loads or configures MathJax.
_LOADS_MATHJAX = re.compile(
    r"<script[^>]*\bsrc\s*=\s*[\"'][^\"']*mathjax|MathJax\.Hub\.Config|MathJax\s*=\s*\{",
    re.I,
)
_CONDITION_TAG = re.compile(r"\{%-?\s*(if|unless|elsif|else|endif|endunless)\b(.*?)-?%\}", re.S)
_TERM = re.compile(r"(page|layout|site)\.([A-Za-z_][\w-]*)(?:\s*==\s*true)?")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.S)
_GATED_KEY = "_sg_mathjax_gated"  # env: this post's math is shown as typed (no MathJax)


@dataclass(frozen=True)
class MathJaxGate:
    """What makes a page of the site load MathJax: any of ``page_keys`` set in its front
    matter, or a layout in ``layouts`` (whose front matter, or a parent's, sets a key the
    condition reads as ``layout.KEY``). ``found_in``: the template with the condition."""

    page_keys: tuple[str, ...]
    layouts: frozenset[str]
    found_in: str

    def loads(self, meta: dict[str, Any]) -> bool:
        if any(meta.get(key) for key in self.page_keys):
            return True
        return str(meta.get("layout", "")) in self.layouts


def _conditions_at(text: str, pos: int) -> list[str] | None:
    """The ``if`` conditions around ``pos`` in a Liquid template, innermost last; None when
    ``pos`` sits in a branch sitegen does not read (``unless``, ``elsif``, ``else``)."""
    stack: list[str | None] = []
    for match in _CONDITION_TAG.finditer(text, 0, pos):
        tag, rest = match.group(1), match.group(2).strip()
        if tag == "if":
            stack.append(rest)
        elif tag == "unless":
            stack.append(None)
        elif tag in ("elsif", "else") and stack:
            stack[-1] = None
        elif stack:
            stack.pop()
    if any(condition is None for condition in stack):
        return None
    return [condition for condition in stack if condition is not None]


def _terms(condition: str) -> list[tuple[str, str]] | None:
    """``[(scope, key)]`` of a condition made of ``page.X or layout.Y or site.Z``."""
    found = []
    for part in re.split(r"\s+or\s+", condition.strip()):
        match = _TERM.fullmatch(part.strip())
        if match is None:
            return None
        found.append((match.group(1), match.group(2)))
    return found


def _front_matter(path: Path) -> dict[str, Any]:
    import yaml

    match = _FRONT_MATTER.match(path.read_text(encoding="utf-8", errors="replace"))
    if not match:
        return {}
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def _layouts_setting(root: Path, keys: set[str]) -> frozenset[str]:
    """Names of the layouts whose front matter, or a parent layout's, sets one of ``keys``."""
    folder = root / "_layouts"
    if not keys or not folder.is_dir():
        return frozenset()
    meta = {p.stem: _front_matter(p) for p in folder.glob("*.htm*") if p.is_file()}
    found = set()
    for name in meta:
        seen, current = set(), name
        while current in meta and current not in seen:
            seen.add(current)
            if any(meta[current].get(key) for key in keys):
                found.add(name)
                break
            current = str(meta[current].get("layout", ""))
    return frozenset(found)


def site_setting(root: Path, key: str) -> Any:
    """The value of ``key`` in the site's ``_config.yml`` (None when unset or unreadable)."""
    import yaml

    try:
        data = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    return data.get(key) if isinstance(data, dict) else None


def detect_mathjax_gate(root: Path, templates: Iterable[Path]) -> MathJaxGate | None:
    """The gate of a Jekyll site's MathJax, or None when it loads on every page (or the
    condition is one sitegen cannot read, or no template loads MathJax at all)."""
    texts = {}
    for path in templates:
        try:
            texts[path] = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    includes = root / "_includes"
    conditions: list[str] = []
    found_in = ""
    for path, text in texts.items():
        for match in _LOADS_MATHJAX.finditer(text):
            around = _conditions_at(text, match.start())
            if around is None:
                return None
            if not around and path.is_relative_to(includes):
                # Loaded by its include: every place that includes it must ask for it.
                name = re.escape(path.relative_to(includes).as_posix())
                use = re.compile(r"\{%-?\s*include(?:_cached)?\s+" + name + r"[\s%-]")
                for other, other_text in texts.items():
                    for site_of_use in use.finditer(other_text):
                        outer = _conditions_at(other_text, site_of_use.start())
                        if not outer:
                            return None
                        conditions.extend(outer)
                        found_in = other.relative_to(root).as_posix()
                continue
            if not around:
                return None
            conditions.extend(around)
            found_in = path.relative_to(root).as_posix()
    if not conditions:
        return None
    page_keys: list[str] = []
    layout_keys: set[str] = set()
    for condition in conditions:
        terms = _terms(condition)
        if terms is None:
            return None
        for scope, key in terms:
            if scope == "site":
                if site_setting(root, key):
                    return None
            elif scope == "page":
                page_keys.append(key)
            else:
                layout_keys.add(key)
    return MathJaxGate(
        tuple(dict.fromkeys(page_keys)), _layouts_setting(root, layout_keys), found_in
    )


# What MathJax reads besides dollars in a page written in HTML: \( and \[.
_HTML_BRACKETS = re.compile(r"\\\(|\\\[")
# The names of the gate's rules, which a page written in HTML runs too (see html_math).
GATE_RULES = ("mathjax_gate_close", "mathjax_gate_note")


def mathjax_gate_plugin(md: MarkdownIt, gate: MathJaxGate) -> None:
    """Show the math of a post as typed where the site's layouts loaded no MathJax for it."""
    from sitegen.markdown.jekyll import note_difference

    def mathjax_gate_close(state: StateCore) -> None:
        post = state.env.get("post")
        if state.env.get("mathjax") is not None or post is None or gate.loads(post.meta):
            return
        if not _LOADS_MATHJAX.search(post.body):  # a post may load MathJax itself
            state.env["mathjax"] = False
            state.env[_GATED_KEY] = True

    def mathjax_gate_note(state: StateCore) -> None:
        if not state.env.get(_GATED_KEY):
            return
        for line in _gated_math_lines(state):
            keys = " or ".join(f"{key}: true" for key in gate.page_keys) or "its layout"
            note_difference(
                state.env,
                "mathjax-gate",
                line,
                f"math shown as typed: {gate.found_in} loads MathJax only for pages "
                f"that ask for it, and this post does not; add {keys} to its front "
                "matter to typeset it",
            )
            return

    md.core.ruler.before("normalize", "sg_mathjax_gate", mathjax_gate_close)
    md.core.ruler.push("sg_mathjax_gate_note", mathjax_gate_note)


def _gated_math_lines(state: StateCore) -> Iterable[int]:
    """0-based body lines holding math the gate kept as typed: math tokens of Markdown,
    the delimiters in the raw HTML of a page written in HTML (which has no line map)."""
    for token in state.tokens:
        children = token.children or []
        if token.map and (
            token.type == "math_block" or any(c.type == "math_inline" for c in children)
        ):
            yield token.map[0]
        elif token.map is None and token.type == "html_block":
            line = _html_math_line(token.content)
            if line is not None:
                yield line


def _html_math_line(html: str) -> int | None:
    """0-based line of the first math MathJax 2 finds by default in ``html`` ($$, \\(, \\[)."""
    from sitegen.markdown.html_math import mark_up_html_math

    marked, found = mark_up_html_math(html, dollars=False)
    starts = [marked.index('<span class="math')] if found else []
    bracket = _HTML_BRACKETS.search(html)
    starts += [] if bracket is None else [bracket.start()]
    if not starts:
        return None
    # the text before the first span is as it was: the span starts where its $$ did
    return html.count("\n", 0, min(starts))
