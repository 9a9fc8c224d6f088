"""Reading TeX: each construct the grammar knows, each refusal, and a property test that
random well-typed matrix expressions, printed as TeX, read back to the same value."""

from __future__ import annotations

import numpy as np
import pytest
from sitegen_plugins.gradcheck.tex import evaluate as ev
from sitegen_plugins.gradcheck.tex import parse as p
from sitegen_plugins.gradcheck.tex.bind import Bindings
from sitegen_plugins.gradcheck.tex.printer import to_tex
from sitegen_plugins.gradcheck.tex.refusals import REASONS, ShapeError, Unread

rng = np.random.default_rng(7)
N, D, H = 5, 3, 4
X = rng.standard_normal((N, D))
W = rng.standard_normal((D, H))
Y = rng.random((N, 1))
Y_hat = rng.random((N, 1))
z = rng.standard_normal(N)  # a 1-D array: a column
Z = rng.standard_normal((N, H))
b = rng.standard_normal(H)
s = 0.7


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


NAMESPACE = {
    "X": X, "W1": W, "Y": Y, "Y_hat": Y_hat, "z": z, "Z": Z, "b": b, "s": s, "N": N,
    "delta": Y - Y_hat, "Delta": Z, "sigmoid": sigmoid, "dZ": Z * 2, "mu_bar": 0.25,
    "W_2": W.T,
}


def read(tex: str, namespace: dict | None = None, **notation: str) -> np.ndarray:
    bindings = Bindings(NAMESPACE if namespace is None else namespace)
    tree = p.parse(tex, notation.get("superscript") == "index")
    ctx = ev.Context(bindings.bind, bindings.bind_partial, notation.get("product") == "entrywise")
    value = ev.evaluate(tree, ctx)
    return value.fill(1) if isinstance(value, ev.Free) else value


col = z.reshape(-1, 1)
CONSTRUCTS = [
    # names: subscripts, hats, bars, Greek, layers
    (r"W_1", W), (r"W^{(1)}", W), (r"\hat Y", Y_hat), (r"\hat{Y}", Y_hat),
    (r"\bar{\mu}", 0.25), (r"\delta", Y - Y_hat), (r"\Delta", Z), (r"\mathbf{X}", X),
    # transposes, inverse, powers
    (r"X^\top", X.T), (r"X^T", X.T), (r"X^{\mathsf T}", X.T), (r"W_2^{\top}", W),
    (r"(X^\top X)^{-1}", np.linalg.inv(X.T @ X)), (r"z^2", col**2), (r"s^{-1}", 1 / s),
    # products: matrix when both are matrices, scaling otherwise
    (r"X W_1", X @ W), (r"X \cdot W_1", X @ W), (r"s X", s * X), (r"X s", s * X),
    (r"\hat Y \odot (1 - \hat Y)", Y_hat * (1 - Y_hat)), (r"\hat Y \circ Y", Y_hat * Y),
    (r"z^\top z", float(z @ z)), (r"\frac{1}{N} X^\top \delta", X.T @ (Y - Y_hat) / N),
    (r"\frac{X}{2}", X / 2), (r"X / 2", X / 2), (r"-X", -X), (r"1 - \hat Y", 1 - Y_hat),
    # functions
    (r"\exp(z)", np.exp(col)), (r"\log(\hat Y)", np.log(Y_hat)), (r"\tanh z", np.tanh(col)),
    (r"\sqrt{\hat Y}", np.sqrt(Y_hat)), (r"\sigma(z)", sigmoid(col)),
    (r"\sigma'(z)", sigmoid(col) * (1 - sigmoid(col))), (r"\max(0, z)", np.maximum(col, 0)),
    (r"\operatorname{diag}(\hat Y)", np.diag(Y_hat[:, 0])),
    (r"\operatorname{softmax}(z)", np.exp(col) / np.exp(col).sum()),
    (r"e^{-z}", np.exp(-col)), (r"\frac{1}{1+e^{-z}}", sigmoid(col)),
    # ones, Iverson brackets, sums
    (r"X^\top \mathbf{1}", X.T @ np.ones((N, 1))), (r"\mathbf{1}^\top Z", Z.sum(0, keepdims=True)),
    (r"\mathbf{1} b^\top", np.ones((1, 1)) @ b.reshape(1, -1)),
    (r"[z > 0]", (col > 0) * 1.0), (r"\mathbb{1}[z > 0]", (col > 0) * 1.0),
    (r"\mathbb{1}_{z>0}", (col > 0) * 1.0), (r"\sum_{n=1}^{N} z_n", z.sum()),
    (r"\sum_n z_n^2", (z**2).sum()), (r"\sum_{n} X_n", X.sum(0).reshape(-1, 1)),
    # sizes of parentheses, spacing, labels
    (r"\left( X \right)^\top \big(\delta\big) \, \label{eq:x} \tag{3}", X.T @ (Y - Y_hat)),
    (r"\Bigl[ s \Bigr] \; X", s * X), (r"\frac{\partial L}{\partial Z}", Z * 2),
]


@pytest.mark.parametrize("tex,expected", CONSTRUCTS, ids=[c[0] for c in CONSTRUCTS])
def test_each_construct_reads_to_its_value(tex, expected):
    value = read(tex)
    assert np.shape(value) == np.shape(expected)
    np.testing.assert_allclose(value, expected, rtol=1e-6, atol=1e-12)


def test_superscripts_as_indices_when_the_post_says_so():
    value = read(r"\sum_{i=1}^{5} x_i^2", {"x": X}, superscript="index")
    assert value == pytest.approx(X[:, 1].sum())
    # without the notation, the superscript is a power and x_2 a name of its own
    assert read(r"x_2^2", {"x_2": 3.0}) == pytest.approx(9.0)
    with pytest.raises(Unread):
        read(r"x_2^2", {"x": X})


def test_entrywise_products_when_the_post_says_so():
    with pytest.raises(ShapeError):
        read(r"\sigma(z)(1 - \sigma(z))")
    value = read(r"\sigma(z)(1 - \sigma(z))", product="entrywise")
    np.testing.assert_allclose(value, sigmoid(col) * (1 - sigmoid(col)))


SHAPE_ERRORS = [
    r"X \delta",  # a missing transpose: 5×3 times 5×1
    r"\hat Y + b",  # 5×1 and 4×1
    r"Y \odot X",
    r"s \mathbf{1} + b^\top",  # a column of ones where a row was meant
    r"\delta + \mathbf{1}^\top",
]


@pytest.mark.parametrize("tex", SHAPE_ERRORS)
def test_shapes_are_strict(tex):
    with pytest.raises(ShapeError) as caught:
        read(tex)
    assert "×" in str(caught.value)


def test_shape_error_names_the_sub_expression():
    with pytest.raises(ShapeError) as caught:
        read(r"\frac{1}{N} X (\hat Y - Y)")
    assert "X" in caught.value.where and "Y" in caught.value.where


def test_conform_is_strict_about_orientation():
    assert ev.conform(np.ones((3, 1)), (3,), "v").shape == (3,)
    with pytest.raises(ShapeError):
        ev.conform(np.ones((1, 3)), (3,), "v")
    with pytest.raises(ShapeError):
        ev.conform(np.asarray(2.0), (3, 1), "s")
    assert ev.conform(ev.Free(np.ones((1, 1)) * 2, 0), (4, 1), "s1").tolist() == [[2.0]] * 4
    with pytest.raises(ShapeError):
        ev.conform(ev.Free(np.ones((1, 1)), 0), (1, 4), "1")


REFUSALS = [
    (r"\Phi X", "unbound"),
    (r"\nabla_W L", "nabla-rhs"),
    (r"\mathbb{E}[X]", "expectation"),
    (r"\begin{bmatrix} a & b \end{bmatrix}", "entry-by-entry"),
    (r"\frac{d}{dz} z", "derivative-rhs"),
    (r"\partial X", "derivative-rhs"),
    (r"X^\top X + ", "syntax"),
    (r"\int X", "unsupported"),
    (r"\sum X_n", "index-range"),
    (r"W^2", "ambiguous"),  # W_2^T W_2 is square: entry-wise or matrix power?
    (r"X \quad \forall i", "quantifier"),
    (r"", "no-rhs"),
    (r"\sigma(z)", "unbound"),  # no function sigmoid/sigma in this namespace
]


@pytest.mark.parametrize("tex,code", REFUSALS)
def test_each_refusal_is_named(tex, code):
    namespace = {"X": X, "W": W @ W.T} if code in ("unbound", "ambiguous") else NAMESPACE
    with pytest.raises(Unread) as caught:
        read(tex, namespace)
    assert caught.value.code == code
    assert caught.value.code in REASONS and caught.value.reason


def test_ambiguous_names_are_refused_not_guessed():
    with pytest.raises(Unread) as caught:
        read(r"W_1", {"W1": W, "W_1": W.copy()})
    assert caught.value.code == "ambiguous" and "W1" in str(caught.value)
    assert read(r"W_1", {"W1": W, "W_1": W}) is not None  # one value under two names is fine
    with pytest.raises(Unread):
        read(r"w", {"W": W})  # no case folding


def test_symbols_bind_what_names_do_not():
    bindings = Bindings({"probs": Y_hat, "act": sigmoid}, {r"\hat{Y}": Y_hat, r"\sigma": sigmoid})
    ctx = ev.Context(bindings.bind, bindings.bind_partial)
    value = ev.evaluate(p.parse(r"\sigma(\hat Y) \odot \hat Y"), ctx)
    np.testing.assert_allclose(value, sigmoid(Y_hat) * Y_hat)


def test_mixed_products_are_read_both_ways_and_refused_when_they_differ():
    A = rng.standard_normal((3, 3))
    B = rng.standard_normal((3, 3))
    v = rng.standard_normal((3, 1))
    ns = {"A": A, "B": B, "C": rng.standard_normal((3, 3)), "v": v,
          "u": rng.standard_normal((3, 1))}
    with pytest.raises(Unread) as caught:
        read(r"A \odot B C", ns)  # (A⊙B)C or A⊙(BC)? both fit; they differ
    assert caught.value.code == "ambiguous"
    np.testing.assert_allclose(read(r"u \odot B v", ns), ns["u"] * (B @ v))  # only one fits


def test_one_by_one_arrays_act_as_scalars_and_are_noted():
    bindings = Bindings({"a": np.ones((1, 1)) * 3, "X": X})
    ctx = ev.Context(bindings.bind, bindings.bind_partial)
    np.testing.assert_allclose(ev.evaluate(p.parse("a X"), ctx), 3 * X)
    assert any("1×1" in note for note in ctx.notes)


# ------------------------------------------------------------------ property test


class Gen:
    """Random well-typed expressions over matrices of known shapes, with their values."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.sizes = [2, 3, 4]
        self.names: dict[str, np.ndarray] = {}
        self.ns: dict[str, object] = {"sigmoid": sigmoid}

    def leaf(self, shape: tuple[int, int]) -> tuple[p.Node, np.ndarray]:
        letters = "ABCFGKMPQRUV"
        base = letters[int(self.rng.integers(len(letters)))]
        sub = str(int(self.rng.integers(1, 4)))
        name = base + sub
        if name in self.ns and np.shape(self.ns[name]) != shape:
            name = f"{base}{sub}{len(self.ns)}"
            sub = name[1:]
        if name not in self.ns:
            self.ns[name] = self.rng.standard_normal(shape) * 0.5
        return p.Sym(base, None, sub), np.asarray(self.ns[name])

    def expr(self, shape: tuple[int, int], depth: int) -> tuple[p.Node, np.ndarray]:
        if depth == 0:
            return self.leaf(shape)
        kind = int(self.rng.integers(6))
        if kind == 0:  # a matrix product through a random inner size
            k = int(self.rng.choice(self.sizes))
            a, va = self.expr((shape[0], k), depth - 1)
            b_, vb = self.expr((k, shape[1]), depth - 1)
            return p.Mul((a, b_), ("product",)), va @ vb
        if kind == 1:
            a, va = self.expr(shape, depth - 1)
            b_, vb = self.expr(shape, depth - 1)
            return p.Mul((a, b_), ("entrywise",)), va * vb
        if kind == 2:
            a, va = self.expr(shape, depth - 1)
            b_, vb = self.expr(shape, depth - 1)
            sign = int(self.rng.choice([-1, 1]))
            return p.Add(((1, a), (sign, b_))), va + sign * vb
        if kind == 3:
            a, va = self.expr((shape[1], shape[0]), depth - 1)
            return p.Unary("transpose", a), va.T
        if kind == 4:
            a, va = self.expr(shape, depth - 1)
            return p.Call("sigma", (a,), 0, p.Sym("sigma")), sigmoid(va)
        c = float(self.rng.integers(2, 9))
        a, va = self.expr(shape, depth - 1)
        return p.Frac(a, p.Num(c)), va / c


@pytest.mark.parametrize("seed", range(60))
def test_random_expressions_printed_as_tex_read_back_to_the_same_value(seed):
    gen = Gen(seed)
    shape = (int(gen.rng.choice(gen.sizes)), int(gen.rng.choice(gen.sizes)))
    tree, expected = gen.expr(shape, int(gen.rng.integers(1, 5)))
    tex = to_tex(tree)
    bindings = Bindings(gen.ns)
    value = ev.evaluate(p.parse(tex), ev.Context(bindings.bind, bindings.bind_partial))
    value = value if np.ndim(value) == 2 else np.reshape(value, (1, 1))
    assert value.shape == expected.shape, tex
    np.testing.assert_allclose(value, expected, rtol=1e-9, atol=1e-12, err_msg=tex)


BATCHED_BODIES = [
    r"r_n s_n", r"(r_n - c) s_n", r"s_n \odot t_n", r"M s_n", r"s_n^\top M^\top",
    r"\exp(r_n) s_n - t_n", r"\frac{s_n}{2} + u", r"-r_n u", r"s_n t_n^\top",
    r"s_n^\top t_n", r"\frac{r_n}{1 + e^{-r_n}}", r"s_n \odot u \odot t_n", r"P s_n",
]


@pytest.mark.parametrize("rows_as", ["column", "row"])
@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("body", BATCHED_BODIES)
def test_a_sum_read_at_once_equals_the_sum_term_by_term(body, seed, rows_as):
    g = np.random.default_rng(seed)
    B, K = int(g.integers(1, 40)), int(g.integers(2, 5))
    ns = {"r": g.standard_normal(B), "s": g.standard_normal((B, K)),
          "t": g.standard_normal((B, K)), "M": g.standard_normal((K, K)), "c": 0.3,
          "u": g.standard_normal((K, 1)), "P": g.standard_normal((K + 1, K + 2)), "B": B}
    bindings = Bindings(ns)

    def context():
        ctx = ev.Context(bindings.bind, bindings.bind_partial)
        ctx.rows_as = rows_as
        return ctx

    tree = p.parse(body)
    try:
        at_once = ev.evaluate(p.parse(rf"\sum_{{n=1}}^{{B}} \left({body}\right)"), context())
    except ShapeError:
        at_once = "shape error"
    try:
        terms = []
        for n in range(1, B + 1):
            ctx = context()
            ctx.indices["n"] = n
            terms.append(ev.evaluate(tree, ctx))
        by_terms = sum(terms[1:], terms[0])
    except ShapeError:
        by_terms = "shape error"
    if isinstance(by_terms, str) or isinstance(at_once, str):
        assert at_once == by_terms
    else:
        assert np.shape(at_once) == np.shape(by_terms)
        np.testing.assert_allclose(at_once, by_terms, rtol=1e-10, atol=1e-12)


def test_simple_sums_are_read_at_once():
    from sitegen_plugins.gradcheck.tex import batch

    g = np.random.default_rng(0)
    bindings = Bindings({"r": g.standard_normal(50), "s": g.standard_normal((50, 3))})
    ctx = ev.Context(bindings.bind, bindings.bind_partial)
    value = batch.summed(p.parse(r"r_n s_n"), "n", range(1, 51), bindings.bind,
                         ctx.indices_used, lambda child: ev.evaluate(child, ctx))
    np.testing.assert_allclose(value, (bindings.bind(p.Sym("r"))[:, None] *
                                       bindings.bind(p.Sym("s"))).sum(0)[:, None])
    with pytest.raises(batch.NoBatch):  # \mathbf{1} has no length yet: term by term
        batch.summed(p.parse(r"r_n \mathbf{1}"), "n", range(1, 51), bindings.bind,
                     ctx.indices_used, lambda child: ev.evaluate(child, ctx))
