"""kramdown's ``\\\\( … \\\\)`` and ``\\\\[ … \\\\]``: the shortcut for a span that kramdown's
escapes leave as it is (every backslash starts a command name, the braces close) renders
exactly what the general path renders, which resolves the escapes of the whole text and
walks it; random texts built from the pieces that make the difference."""

from __future__ import annotations

import random

import pytest

from sitegen.markdown import create_parser, math_inline
from sitegen.markdown.jekyll import MarkdownDialect

PIECES = [
    "\\\\(", "\\\\)", "\\\\[", "\\\\]", "\\(", "\\)", "\\[", "\\]", "\\\\", "\\", "{", "}",
    "\\{", "\\}", "\\frac", "\\in", "\\mathbb{R}", "x", "y_1", "^2", " ", " ", "\n", "*",
    "_", "$", "|", "--", "...", "\\*", "\\_", "'", '"', "a", "\\\\\n", "(", ")",
]

DIALECTS = {
    "sitegen": MarkdownDialect(),
    "kramdown": MarkdownDialect(kramdown=True, dollars="off"),
    "kramdown with dollars": MarkdownDialect(kramdown=True, dollars="mathjax"),
}


def _render(text: str, dialect: MarkdownDialect) -> tuple[str, list]:
    md = create_parser(highlight=False, dialect=dialect)
    env: dict = {"diagnostics": []}
    return md.render(text, env), env["diagnostics"]


def _texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        pieces = [rng.choice(PIECES) for _ in range(rng.randint(1, 30))]
        # most texts hold a well-formed span or two, as posts do
        for _ in range(rng.randint(0, 2)):
            at = rng.randint(0, len(pieces))
            pieces[at:at] = [rng.choice(["\\\\(", "\\\\["]), rng.choice(PIECES),
                             rng.choice(PIECES), rng.choice(["\\\\)", "\\\\]"])]
        found.append("Text " + "".join(pieces) + " end.")
    return found


@pytest.mark.parametrize("name", sorted(DIALECTS))
@pytest.mark.parametrize("seed", range(3))
def test_the_shortcut_renders_what_the_general_path_renders(monkeypatch, name, seed):
    dialect = DIALECTS[name]
    texts = _texts(seed, 300)
    fast = [_render(text, dialect) for text in texts]
    monkeypatch.setattr(math_inline, "_PLAIN_SPAN", math_inline.re.compile(r"(?!)"))
    general = [_render(text, dialect) for text in texts]
    for text, one, other in zip(texts, fast, general, strict=True):
        assert one == other, text


def test_the_shortcut_is_taken_for_a_post_s_common_spans():
    for segment in (r"Z_6 \in \mathbb{R}^{M \times C}", r"\frac{\partial L_18}{\partial Z}",
                    r"x^7 ~~x^59"):
        assert math_inline._PLAIN_SPAN.fullmatch(segment)
    for segment in (r"a \\ b", r"\{x", r"\*", "a\\\nb", r"\)"):
        assert not math_inline._PLAIN_SPAN.fullmatch(segment)
