"""Every scanner of the Markdown stage runs in time linear in its input.

Each family below is input that made one scanner super-linear (an opener whose closer is
looked for again from every later opener, a regex that tries every split of a run of
spaces, a block rule that walks the lines below or above every line). Each is rendered at
1x, 4x and 16x its size; the CPU time may grow with the size, with room for noise, but not
with its square: a quadratic scanner takes ~256 times as long at 16x, a linear one ~16.
The measure is a ratio of CPU times of this process (not wall time, and no absolute time),
the best of a few runs, so other work on the machine moves it little.
"""

from __future__ import annotations

import gc
import time

import pytest

from sitegen.markdown import LiquidContext, MarkdownDialect, create_parser

# 4x and 16x the size may take at most this many times as long (linear: 4 and 16,
# quadratic: 16 and 256).
MAX_RATIO_4X = 14.0
MAX_RATIO_16X = 56.0

FAMILIES = {
    # Liquid
    "liquid tag, unclosed, then spaces": lambda n: "{% a" + " " * (40 * n) + "b",
    "liquid output, unclosed, then spaces": lambda n: "{{ a" + " " * (40 * n) + "b",
    "liquid tags, unclosed": lambda n: "{% a " * n,
    "liquid outputs, unclosed": lambda n: "{{ a " * n,
    "liquid in raw HTML, unclosed": lambda n: "<div>" + "{{ a {% b " * (20 * n) + "\n</div>",
    "HTML comments, unclosed, with liquid": lambda n: "<div>" + "<!-- {{ a }}" * n + "\n</div>",
    "raw tags, unclosed": lambda n: "{% raw %} a " * n,
    "highlight lines, unclosed": lambda n: "{% highlight python %}\n" * (n // 4),
    "comment lines, unclosed": lambda n: "{% comment %}\n" * (n // 4),
    "links to liquid, unclosed": lambda n: "[a]({ " * n,
    # math delimiters
    "nested braces in $ math": lambda n: "$" + "{" * (10 * n) + "}" * (10 * n) + "$",
    "$ openers that never close": lambda n: "$a " * n,
    "$$ openers that never close": lambda n: "x $$a" + " a" * (20 * n),
    "\\( unclosed": lambda n: "\\( a " * n,
    "\\( { with a closer inside the braces": lambda n: "\\( { \\) " * n,
    "\\( { then many closers": lambda n: "\\( {" + "}\\)" * n,
    "\\[ unclosed": lambda n: "\\[ a " * n,
    "\\\\( unclosed": lambda n: "\\\\( a " * n,
    "\\\\( \\{ with a closer inside the braces": lambda n: "\\\\( \\{ \\\\) " * n,
    "\\\\( \\{ then many closers": lambda n: "\\\\( \\{ " + "}\\\\)" * n,
    "one stray \\{ before many \\\\( x_i \\\\)": lambda n: "\\\\( \\{ a \\\\) "
    + "".join(f"\\\\(x_{{{i}}}\\\\) " for i in range(n // 3)),
    "\\begin{align} unclosed": lambda n: "\\begin{align} a " * (n // 3),
    "\\begin{align} { unclosed": lambda n: "\\begin{align} { a " * (n // 3),
    "\\eqref{ unclosed": lambda n: "\\eqref{ " * n,
    # block rules
    "lines of $$a": lambda n: "text\n" + "$$a\n" * (n // 2),
    "lines of \\[": lambda n: "\\[\n" * (n // 2),
    "lines of \\[ {, closed at the end": lambda n: "\\[ {\n" * (n // 2) + "\\]\n",
    "lines of \\\\[ \\{": lambda n: "\\\\[ \\{\n" * (n // 2),
    "lines of \\begin{align}": lambda n: "\\begin{align}\n" * (n // 4),
    "table rows with $ that never close": lambda n: "| a | b |\n|---|---|\n"
    + "| $a | $b |\n" * (n // 4),
    "a table row of $ that never close": lambda n: "| a | b |\n|---|---|\n| " + "$a |" * n,
    # other rules
    "kramdown attribute lists, unclosed": lambda n: "{: .a " * n,
}

# Posts of a Jekyll site are read by kramdown's rules, with MathJax's own rule for "$".
JEKYLL_FAMILIES = {
    "MathJax $ openers that never close": lambda n: "$a " * n,
    "MathJax ${ openers that never close": lambda n: "$a{ " * n,
    "one MathJax ${ before many dollars": lambda n: "${ " + "$ " * n,
    "MathJax $ with kramdown escapes": lambda n: "$a\\_ " * n,
    "kramdown <div> blocks, unclosed": lambda n: "<div>\n\n" * (n // 2),
    "kramdown table rows, code unclosed": lambda n: "| `a | b |\n" * (n // 4),
    "a kramdown table row of $$ unclosed": lambda n: "| " + "$$a | " * n,
}

BASE = 1000  # units at 1x: large enough that a render takes milliseconds


@pytest.fixture(scope="module")
def md():
    return create_parser(highlight=False)


@pytest.fixture(scope="module")
def jekyll_md():
    return create_parser(highlight=False, dialect=MarkdownDialect(kramdown=True, dollars="mathjax"))


def _cpu_seconds(md, text: str, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        env = {"liquid": LiquidContext(site={}, page={"title": "t"}), "diagnostics": []}
        gc.collect()
        gc.disable()
        try:
            start = time.process_time()
            md.render(text, env)
            best = min(best, time.process_time() - start)
        finally:
            gc.enable()
    return best


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_scanner_time_grows_linearly(md, family: str) -> None:
    assert_linear(md, family, FAMILIES[family])


@pytest.mark.parametrize("family", sorted(JEKYLL_FAMILIES))
def test_jekyll_scanner_time_grows_linearly(jekyll_md, family: str) -> None:
    assert_linear(jekyll_md, family, JEKYLL_FAMILIES[family])


def assert_linear(md, family: str, make) -> None:
    small = _cpu_seconds(md, make(BASE), runs=3)
    middle = _cpu_seconds(md, make(4 * BASE), runs=2)
    large = _cpu_seconds(md, make(16 * BASE), runs=1)
    # the clock's resolution (and a render of ~0 s) must not make the ratios meaningless
    small = max(small, 1e-3)
    times = f"1x {small * 1e3:.1f} ms, 4x {middle * 1e3:.1f} ms, 16x {large * 1e3:.1f} ms"
    assert middle / small <= MAX_RATIO_4X, f"{family}: {times}"
    assert large / small <= MAX_RATIO_16X, f"{family}: {times}"
