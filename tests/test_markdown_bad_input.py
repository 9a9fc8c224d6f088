"""Input that Markdown used to mangle: math in table cells, a comment that starts a line,
math in image alt text, Liquid lookups of Python internals; and the closer index that
keeps math scanning linear agrees with a plain walk."""

from __future__ import annotations

import random
import re

import pytest

from sitegen.markdown import LiquidContext, create_parser
from sitegen.markdown.math_tex import BRACKET_TOKENS, PAREN_TOKENS, env_end_pattern, find_tex_end
from sitegen.markdown.scan import build_closer_index
from sitegen.markdown.tables import math_spans


@pytest.fixture(scope="module")
def md():
    return create_parser(highlight=False)


def render(md, text: str, **liquid) -> tuple[str, list]:
    env: dict = {"diagnostics": []}
    if liquid:
        env["liquid"] = LiquidContext(**liquid)
    html = md.render(text, env)
    return html, env["diagnostics"]


def cells(html: str) -> list[str]:
    return re.findall(r"<td>(.*?)</td>", html, re.S)


# -- math in GFM tables ---------------------------------------------------------------------

TABLE = """\
| quantity | meaning |
|---|---|
| $p(y|x)$ | likelihood KEEPME1 |
| $\\|w\\|_2$ | norm KEEPME2 |
| \\(|x|\\) | absolute value KEEPME3 |
| \\\\(a|b\\\\) | kramdown KEEPME4 |
"""


def test_pipes_inside_math_split_no_cell(md) -> None:
    html, diagnostics = render(md, TABLE)
    assert cells(html) == [
        '<span class="math inline">\\(p(y|x)\\)</span>', "likelihood KEEPME1",
        '<span class="math inline">\\(\\|w\\|_2\\)</span>', "norm KEEPME2",
        '<span class="math inline">\\(|x|\\)</span>', "absolute value KEEPME3",
        '<span class="math inline">\\(a|b\\)</span>', "kramdown KEEPME4",
    ]
    assert diagnostics == []


def test_pipes_outside_math_still_split_cells(md) -> None:
    html, _ = render(md, "| a | b |\n|---|---|\n| `x|y` | costs $5 | and $6 |\n| p \\| q | r |\n")
    # GFM: a pipe in code splits; an escaped pipe is a pipe; extra cells are dropped
    assert cells(html) == ["`x", "y`", "p | q", "r"]


def test_math_spans_in_a_line() -> None:
    line = "| $a|b$ | `$x|` | \\(c|d\\) | $$e|f$$ | $5 and $ g $ | \\\\[h|i\\\\] |"
    assert [line[s:e] for s, e in math_spans(line)] == [
        "$a|b$", "\\(c|d\\)", "$$e|f$$", "\\\\[h|i\\\\]",
    ]


# -- a line that starts with an HTML comment ------------------------------------------------


def test_comment_at_line_start_keeps_math_and_footnote(md) -> None:
    text = (
        "<!-- TODO check --> The loss is $L = \\frac{1}{2}(y-\\hat y)^2$, see note[^1].\n\n"
        "[^1]: FOOTNOTE-TEXT\n"
    )
    html, _ = render(md, text)
    assert html.startswith("<p><!-- TODO check --> The loss is ")
    assert '<span class="math inline">\\(L = \\frac{1}{2}(y-\\hat y)^2\\)</span>' in html
    assert 'href="#fn1"' in html and "FOOTNOTE-TEXT" in html
    assert "$L" not in html


def test_comment_lines_that_are_only_comments_stay_html_blocks(md) -> None:
    html, _ = render(md, "text\n<!-- c --> more $x$\n\n<!-- alone -->\n\n<!-- two\nlines -->\n")
    assert html == (
        '<p>text\n<!-- c --> more <span class="math inline">\\(x\\)</span></p>\n'
        "<!-- alone -->\n<!-- two\nlines -->\n"
    )


# -- math in image alt text -----------------------------------------------------------------


def test_image_alt_keeps_math_as_written(md) -> None:
    html, _ = render(md, "![plot of $\\sigma(x)$ against *x* and \\(y<1\\)](plot.png)\n")
    assert 'alt="plot of $\\sigma(x)$ against x and \\(y&lt;1\\)"' in html


# -- Liquid lookups -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr",
    [
        "page.title.__class__",
        "page.title.__class__.__mro__",
        "page.title.upper",
        "site.name.__len__",
        "page.date.__reduce__",
    ],
)
def test_liquid_never_reaches_python_internals(md, expr: str) -> None:
    import datetime

    page = {"title": "T", "date": datetime.date(2024, 1, 2)}
    for text in (f"a {{{{ {expr} }}}} b", f"<div>{{{{ {expr} }}}}</div>"):
        html, diagnostics = render(md, text, page=page, site={"name": "S"})
        assert "class" not in html and "method" not in html and "built-in" not in html
        assert diagnostics and "is not defined" in diagnostics[0][2]
    html, _ = render(md, "{{ page.date.year }} {{ page.title }}", page=page)
    assert html == "<p>2024 T</p>\n"


# -- the closer index agrees with a walk from each start ------------------------------------


# One token per match (closer, backslash pair, brace), as MathJax walks them.
_WALK = {
    "\\)": re.compile(r"\\\)|\\.|[{}]", re.S),
    "\\]": re.compile(r"\\\]|\\.|[{}]", re.S),
    "": re.compile(r"\\end\s*\{align\}|\\.|[{}]", re.S),
}


def _walk(text: str, pos: int, closer: str) -> tuple[int, int]:
    start, stop, _ = find_tex_end(text, pos, _WALK[closer], closer)
    return start, stop


@pytest.mark.parametrize("seed", range(60))
def test_closer_index_agrees_with_a_walk(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = ["{", "}", "\\", ")", "]", "(", "a", " ", "\\end{align}", "\\end {align}", "\n"]
    text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 120)))
    for pattern, closer in (
        (PAREN_TOKENS, "\\)"),
        (BRACKET_TOKENS, "\\]"),
        (env_end_pattern("align"), ""),
    ):
        index = build_closer_index(text, pattern)
        # starts right after "(", "[" or "}", where the rules start their scans
        starts = [i + 1 for i, ch in enumerate(text) if ch in "([}"] + [0]
        for pos in starts:
            found, stop, balanced = index.find(pos, len(text))
            assert (found, stop) == _walk(text, pos, closer), (text, pos)
            # the first questions to an index walk, later ones read its table: both agree,
            # also when the closer must end by a limit
            limit = rng.randrange(pos, len(text) + 1)
            fresh = build_closer_index(text, pattern).find(pos, limit)
            expected = (found, stop, balanced) if 0 <= found and stop <= limit else (-1, -1, False)
            assert fresh == index.find(pos, limit) == expected, (text, pos, limit)
            if found >= 0:
                body = text[pos:found]
                depth, dipped = 0, False
                for m in _WALK[closer].finditer(body):
                    if m.group(0) == "{":
                        depth += 1
                    elif m.group(0) == "}":
                        dipped = dipped or depth == 0
                        depth = max(depth - 1, 0)
                assert balanced == (not dipped and depth == 0), (text, pos)
