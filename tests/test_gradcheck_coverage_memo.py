"""The shortcuts in front of the coverage and stated-shape analyses: the prefilters never
skip a formula the full analysis would find something in, and memoised results are shared
only as immutable values."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import random
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from sitegen_plugins.gradcheck import PostState, coverage, shapes

from sitegen.markdown import create_parser

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures" / "corpus_math"
BENCH = TESTS.parent / "bench"

# Hand-written formulas around the edges of every rule (and of every trigger substring).
EDGES = [
    r"\frac{\partial L}{\partial W} = X^\top \delta",
    r"\partial L / \partial W = a",
    r"\partial L/\partial W",
    r"\nabla_W L = a",
    r"\nabla = 0",
    r"\frac{dL}{dw} = a",
    r"\tfrac{dL}{dw} = a",
    r"\frac{\mathrm{d} L}{\mathrm{d} w} = a",
    r"\frac{\operatorname{d} L}{\operatorname{d} w} = a",
    r"\frac{d}{dx} f(x) = a",
    r"dL/dw = a",
    r"dL_{1}/dw = a",
    r"x \label{a}",
    r"x \tag{3}",
    r"x \tag*{3}",
    r"\begin{equation} \frac{\partial L}{\partial W} = a \\ \label{w} \end{equation}",
    r"\begin{align} a &= b \\ \nabla_b L &= c \tag{5} \end{align}",
    "\\par% comment\ntial L = a",  # a comment between the halves of a word joins nothing
    r"\na\begin{x}bla L = a",
    r"d\end{align}L/dw = a",
    r"\fr\\ac{dL}{dw} = a",
    r"L = \frac{1}{N} \sum_n \ell_n",
    r"y \leq x",
    r"W \in \mathbb{R}^{D \times H}",
    r"[W]_{3 \times 1}",
    "",
    " ",
]
# Pieces for random formulas: every literal the patterns look for, and the characters
# that separate or break them.
PIECES = (
    r"""
    \frac \dfrac \tfrac frac \partial \nabla \label{a} \tag{1} \tag*{b} \mathrm{d}
    \operatorname{d} d L W w x _1 _{ij} { } / = <= \leq % \\ \\[2pt] \begin{align}
    \end{align} & \in \mathbb{R} ^{D\times\!H} [ ] _{3\times1} \hat \Delta N D \times
""".split()
    + [" ", "\n", "^{D \\times H}"]
)


def _fixture_tex() -> list[str]:
    found = []
    for path in sorted(FIXTURES.rglob("*.json")):
        found += [item["tex"] for item in json.loads(path.read_text(encoding="utf-8"))]
    return found


def _synthetic_tex() -> list[str]:
    """The math of a few posts of the benchmark's synthetic corpus, parsed as a build does."""
    spec = importlib.util.spec_from_file_location(
        "bench_make_corpus_memo", BENCH / "make_corpus.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while decorating
    spec.loader.exec_module(module)
    md = create_parser(highlight=False)
    found = []
    for index in range(30):
        post = module.make_post(index, verify=index % 3 == 0)
        tokens = md.parse(post.body, {"diagnostics": [], "line_offset": 1})
        found += [t.content for t in coverage.math_tokens(tokens)]
    return found


def _random_tex(count: int) -> list[str]:
    rng = random.Random(7)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 14))) for _ in range(count)]


def _without_triggers(texts: list[str]) -> list[str]:
    """Each formula once more with one trigger spoiled, so the prefilter rejects more of them."""
    spoiled = []
    for tex in texts:
        for trigger in ("\\partial", "\\nabla", "frac", "/", "\\label", "\\tag", "\\in", "["):
            if trigger in tex:
                spoiled.append(tex.replace(trigger, trigger[:-1] + " " + trigger[-1], 1))
    return spoiled


@pytest.fixture(scope="module")
def all_tex() -> list[str]:
    texts = EDGES + _fixture_tex() + _synthetic_tex() + _random_tex(4000)
    return texts + _without_triggers(texts)


def test_the_corpora_are_there(all_tex):
    assert len(_fixture_tex()) > 200  # the real blog's formulas
    assert any(coverage.analyse(t) for t in _synthetic_tex())


def test_the_prefilter_never_skips_a_statement(all_tex):
    skipped = [t for t in all_tex if not coverage.may_state(t)]
    assert len(skipped) > 1000  # the check below means something
    missed = [t for t in skipped if coverage.analyse(t)]
    assert missed == []
    # and the memoised path agrees with the full analysis everywhere (a list of the
    # disagreements: pytest would take ages to diff two long lists)
    assert [t for t in all_tex if tuple(coverage.statements(t)) != coverage.analyse(t)] == []


def test_the_shape_prefilter_never_skips_a_stated_shape(all_tex):
    assert sum(1 for t in all_tex if shapes.find_stated_shapes(t)) > 50
    skipped = [t for t in all_tex if "\\in" not in t and "[" not in t]
    assert len(skipped) > 1000
    assert [
        t for t in all_tex if tuple(shapes.stated_shapes(t)) != shapes.find_stated_shapes(t)
    ] == []


def test_memoised_equations_are_immutable():
    tex = r"\frac{\partial L}{\partial W} = a \label{w}"
    first = coverage.equation_for(tex, True)
    assert coverage.equation_for(tex, True) is first  # memoised
    assert isinstance(first.statements, tuple)
    assert isinstance(first.statements[0].labels, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.statements = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.statements[0].labels = ("x",)  # type: ignore[misc]
    # a list passed in is not kept: whoever made it cannot change the equation later
    rows = [coverage.Statement(True, ("w",))]
    equation = coverage.Equation(tex, True, rows)  # type: ignore[arg-type]
    rows.clear()
    assert equation.statements == (coverage.Statement(True, ("w",)),)


def test_statements_returns_a_fresh_list():
    tex = r"\nabla_b L = c \tag{5}"
    got = coverage.statements(tex)
    got.clear()
    assert coverage.statements(tex) == [coverage.Statement(True, ("5",))]


def test_stated_shapes_returns_a_fresh_list():
    tex = r"W \in \mathbb{R}^{D \times H}"
    got = shapes.stated_shapes(tex)
    assert [s.dims for s in got] == [("D", "H")]
    got.clear()
    assert len(shapes.stated_shapes(tex)) == 1


def _token(kind: str, content: str, display: bool = False) -> SimpleNamespace:
    meta = {"display": True} if display else {}
    return SimpleNamespace(type=kind, content=content, meta=meta)


def test_display_is_part_of_the_key():
    tex = r"\nabla_W L = a"
    inline = coverage.equation_of(_token("math_inline", tex))
    shown = coverage.equation_of(_token("math_inline", tex, display=True))
    block = coverage.equation_of(_token("math_block", tex))
    assert inline is not None and shown is not None and block is not None
    assert (inline.display, shown.display, block.display) == (False, True, True)
    assert coverage.equation_of(_token("text", tex)) is None


def test_the_render_rule_finds_what_the_parse_found():
    parsed = [_token("math_block", r"\frac{\partial L}{\partial W} = a \label{w}")]
    equations = [coverage.equation_of(t) for t in parsed]
    state = PostState(blocks=[], equations=[e for e in equations if e is not None])
    assert state.equation_of(parsed[0]) is equations[0]
    assert state.labels == {"w"}
    # a token the parse did not see (it cannot happen in a build) is still analysed
    other = state.equation_of(_token("math_inline", r"\nabla_b L = c"))
    assert other is not None and other.statements == (coverage.Statement(True, ()),)
    assert state.equation_of(_token("fence", "x")) is None


def test_post_state_survives_pickling_with_its_equations():
    import pickle

    from markdown_it.token import Token
    from sitegen_plugins.gradcheck import PostState

    equations = [
        coverage.equation_for(r"\frac{\partial L}{\partial W} = X^\top \delta \label{g}", True),
        coverage.equation_for(r"x_1", False),
    ]
    state = PostState([], equations)
    copy = pickle.loads(pickle.dumps(state))
    assert copy.equations == state.equations and copy.labels == {"g"}
    token = Token("math_block", "", 0)
    token.content = equations[0].tex
    assert copy.equation_of(token) == equations[0]
    # and once more: a state loaded from the cache may be stored again
    assert pickle.loads(pickle.dumps(copy)).equations == state.equations


def test_post_state_survives_pickling_with_its_results():
    import pickle

    from sitegen_plugins.gradcheck import PostState

    class Post:
        rel, source, data = "posts/p.md", "", {}

    state = PostState([], [coverage.equation_for(r"\nabla f = 2x \label{g}", True)])
    result = {"blocks": [{"index": 0, "kind": "verify", "line": 3, "error": None, "arrays": [
        {"name": "x", "shape": [3]}], "checks": [{"name": "grad", "status": "pass", "eq": "g",
                                               "line": 4}]}]}
    state.finish(type("Site", (), {"report": type("R", (), {"add_level": print})(),
                                   "failed": []})(), Post(), result)
    copy = pickle.loads(pickle.dumps(state))
    again = pickle.loads(pickle.dumps(copy))  # stored again before anything read it
    for loaded in (copy, again):
        assert loaded.checks == state.checks and loaded.checks[0]["number"] == 1
        assert loaded.by_index[0]["checks"][0] is loaded.checks[0]  # shared, as before
        assert loaded.arrays == {"x": [3]} and loaded.cover == state.cover
        assert loaded.labels == {"g"} and not loaded.pending


NO_CODE = r"""---
title: Without code
---
Plain $x_1 + y$ and, stated inline, $\nabla_W L = X^\top \delta$.

$$
\frac{\partial L}{\partial W} = X^\top \delta \label{eq:w}
$$

$$
W \in \mathbb{R}^{3 \times 4}
$$
"""

WITH_CODE = NO_CODE.replace("Without code", "With code") + """
```python exec
import numpy as np
W = np.zeros((4, 3))
```
"""


def test_formulas_of_a_post_with_and_without_code_get_their_badges(tmp_path):
    """A post without code marks what its formulas state (its shapes have nothing to be
    compared with); with code, every formula's stated shape is compared too."""
    from sitegen.build import build_site
    from sitegen.model import BuildOptions

    (tmp_path / "posts").mkdir()
    (tmp_path / "sitegen.toml").write_text('title = "t"\n')
    (tmp_path / "posts" / "2024-01-02-plain.md").write_text(NO_CODE)
    (tmp_path / "posts" / "2024-01-03-code.md").write_text(WITH_CODE)
    build_site(tmp_path, BuildOptions(out=tmp_path / "_site", jobs=1))
    plain = (tmp_path / "_site/2024/01/02/plain/index.html").read_text()
    code = (tmp_path / "_site/2024/01/03/code/index.html").read_text()
    for html in (plain, code):
        assert html.count("sg-badge-unverified") == 2  # the inline ∇ and the ∂L/∂W
        assert "0 of 2 stated gradients verified" in html
    assert plain.count('class="sg-eq"') == 2 and "sg-badge-shape" not in plain
    assert code.count('class="sg-eq"') == 3  # W ∈ ℝ^{3×4} too: the code's W is 4×3
    assert re.search(r'class="sg-badge sg-badge-shape" title="[^"]*3×4[^"]*"', code)
