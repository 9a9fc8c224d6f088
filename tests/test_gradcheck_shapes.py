"""Named sizes, shape traces of a gradient's expression, and shapes stated in TeX."""

from __future__ import annotations

import ast

from sitegen_plugins.gradcheck.shapes import (
    bound_names,
    compare_stated,
    named_shape,
    size_names,
    stated_shapes,
    trace_check,
)


class Arr:
    def __init__(self, *shape: int) -> None:
        self.shape = shape

    @property
    def T(self) -> Arr:
        return Arr(*reversed(self.shape))

    def __matmul__(self, other: Arr) -> Arr:
        return Arr(*(self.shape[:-1] + other.shape[1:]))

    def __mul__(self, other: object) -> Arr:
        return self

    __rmul__ = __mul__

    def __sub__(self, other: object) -> Arr:
        return self


def test_size_names_prefer_dims_and_skip_ambiguous_values():
    assert size_names({"N": 4, "D": 3}, {"K": 3}) == {4: "N", 3: "D"}
    assert size_names({}, {"N": 4, "D": 3, "H": 3, "flag": True}) == {4: "N"}  # 3 is ambiguous
    assert named_shape((4, 3, 1), {4: "N", 3: "D"}) == "N×D×1"
    assert named_shape((), {}) == "scalar"


def test_bound_names_in_order_of_assignment():
    tree = ast.parse("X = 1\na, (b, *c) = 2, (3, 4)\nX += 1\nd: int = 5\nf(x=1)\n")
    assert bound_names(tree) == ["X", "a", "b", "c", "d"]


def test_trace_of_a_named_gradient_follows_its_assignment():
    source = "dW = X.T @ delta\ncheck_grad(loss, W, dW)\n"
    tree = ast.parse(source)
    namespace = {"X": Arr(4, 3), "delta": Arr(4, 1), "W": Arr(3, 1), "dW": Arr(3, 1)}
    trace = trace_check([tree], 2, namespace, {4: "N", 3: "D"})
    assert trace is not None
    assert trace.text() == "dW = X.T @ delta : (D×N)(N×1) → D×1, matching W"


def test_trace_says_when_the_shape_disagrees_and_never_reruns_random_draws():
    tree = ast.parse("check_grad(loss, W, delta.T @ X)\ncheck_grad(loss, W, rng.normal(size=3))\n")
    namespace = {"X": Arr(4, 3), "delta": Arr(4, 1), "W": Arr(3, 1)}
    trace = trace_check([tree], 1, namespace, {4: "N", 3: "D"})
    assert trace is not None and trace.text().endswith("→ 1×D, but W is D×1")
    assert trace_check([tree], 2, {**namespace, "rng": object()}, {}) is None


def test_stated_shapes_in_both_notations():
    tex = r"W_1 \in \mathbb{R}^{D \times H}, \quad [\delta]_{\scriptscriptstyle 1\times 1}"
    found = stated_shapes(tex)
    assert [(s.symbol, s.names, s.dims) for s in found] == [
        ("W_1", ("W_1", "W1"), ("D", "H")),
        (r"\delta", ("delta", "δ"), ("1", "1")),
    ]
    assert stated_shapes(r"x \in \mathbb R^D")[0].dims == ("D",)


def test_compare_stated_against_code_arrays():
    sizes = {"D": 3, "H": 2}
    (w1,) = stated_shapes(r"W_1 \in \mathbb{R}^{D \times H}")
    assert compare_stated(w1, {"W1": [3, 2]}, sizes) is None
    message = compare_stated(w1, {"W1": [2, 3]}, sizes)
    assert message == "W_1 is stated as D×H = 3×2, but the code's W1 is 2×3"
    (x,) = stated_shapes(r"x \in \mathbb{R}^{D}")
    assert compare_stated(x, {"x": [3, 1]}, sizes) is None  # a column holds a vector
    (z,) = stated_shapes(r"z \in \mathbb{R}^{K}")
    assert compare_stated(z, {"z": [3]}, sizes) is None  # K is not a known size: no verdict
