"""Tests of the gradient checker's numerics (plugins/gradcheck/checker.py).

The heart is a table of families: each builds a function, a point, its correct gradient and
the wrong gradients authors actually write.  Every correct gradient must pass and every wrong
one must fail.  Separate tests cover the "correct but hard" cases, hints, messages, errors,
Monte Carlo checks and determinism.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the built-in plugins live at the top of the repository
    sys.path.insert(0, str(ROOT))

from plugins.gradcheck.checker import CheckResult, check_grad, check_vjp  # noqa: E402


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@dataclass
class Case:
    """One family: f at x with its correct gradient and named wrong ones."""

    f: Callable[..., Any]
    x: Any
    grad: Any
    wrong: dict[str, Any] = field(default_factory=dict)
    vjp_upstream: np.ndarray | None = None  # set: check_vjp instead of check_grad

    def run(self, grad: Any, **kw: Any) -> CheckResult:
        if self.vjp_upstream is not None:
            return check_vjp(self.f, self.x, self.vjp_upstream, grad, **kw)
        return check_grad(self.f, self.x, grad, **kw)


def _bump(g: Any, rel: float = 1e-3) -> Any:
    """Relative error `rel` in the largest entry (of the first parameter for dicts)."""
    if isinstance(g, dict):
        k = next(iter(g))
        return {**g, k: _bump(g[k], rel)}
    out = np.array(g, dtype=np.float64, copy=True)
    i = np.argmax(np.abs(out))
    out.flat[i] *= 1 + rel
    return out


def _neg(g: Any) -> Any:
    return {k: -v for k, v in g.items()} if isinstance(g, dict) else -g


# --------------------------------------------------------------------------- families


def one_layer_single() -> Case:
    """One neuron, one example: L = ½(y − σ(wᵀx))²."""
    rng = np.random.default_rng(1)
    x, y, w = rng.standard_normal(3), 0.3, rng.standard_normal(3)

    def f(w):
        return 0.5 * (y - sigmoid(x @ w)) ** 2

    a = sigmoid(x @ w)
    g = (a - y) * a * (1 - a) * x
    return Case(f, w, g, {"sigma_not_sigma_prime": (a - y) * a * x})


def one_layer_batch() -> Case:
    """Sigmoid layer on a batch, mean half squared error (SPEC's example, with 1/N)."""
    rng = np.random.default_rng(2)
    n, d = 4, 3
    X, y, W = rng.standard_normal((n, d)), rng.random((n, 1)), rng.standard_normal((d, 1))

    def f(W):
        return 0.5 * np.mean((y - sigmoid(X @ W)) ** 2)

    a = sigmoid(X @ W)
    g = X.T @ ((a - y) * a * (1 - a)) / n
    return Case(f, W, g, {
        "missing_1_over_N": X.T @ ((a - y) * a * (1 - a)),
        "sigma_not_sigma_prime": X.T @ ((a - y) * a) / n,
        "factor_2": 2 * g,
    })


def one_layer_tanh_bias() -> Case:
    """tanh layer with a bias on a batch: the bias gradient sums over the batch."""
    rng = np.random.default_rng(3)
    n, d, h = 5, 3, 2
    X, T = rng.standard_normal((n, d)), rng.standard_normal((n, h))
    p = {"W": rng.standard_normal((d, h)), "b": rng.standard_normal(h)}

    def f(W, b):
        return 0.5 * np.sum((np.tanh(X @ W + b) - T) ** 2)

    a = np.tanh(X @ p["W"] + p["b"])
    delta = (a - T) * (1 - a**2)
    g = {"W": X.T @ delta, "b": delta.sum(axis=0)}
    return Case(f, p, g, {
        "bias_not_summed": {"W": X.T @ delta, "b": delta},
        "tanh_prime_1_minus_a": {"W": X.T @ ((a - T) * (1 - a)), "b": ((a - T) * (1 - a)).sum(0)},
    })


def two_layer_sigmoid_single() -> Case:
    """Two sigmoid layers, one example, no biases."""
    rng = np.random.default_rng(4)
    d, h = 3, 4
    x, y = rng.standard_normal((1, d)), np.array([[0.7]])
    p = {"W1": rng.standard_normal((d, h)), "W2": rng.standard_normal((h, 1))}

    def f(W1, W2):
        return 0.5 * np.sum((sigmoid(sigmoid(x @ W1) @ W2) - y) ** 2)

    a1 = sigmoid(x @ p["W1"])
    a2 = sigmoid(a1 @ p["W2"])
    d2 = (a2 - y) * a2 * (1 - a2)
    d1 = (d2 @ p["W2"].T) * a1 * (1 - a1)
    g = {"W1": x.T @ d1, "W2": a1.T @ d2}
    d1_bad = (d2 @ p["W2"].T) * a1  # σ instead of σ(1 − σ) in the hidden layer
    return Case(f, p, g, {"sigma_not_sigma_prime": {"W1": x.T @ d1_bad, "W2": a1.T @ d2}})


def _relu_net(seed: int, n: int = 6, d: int = 4, h: int = 5) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((n, d)), rng.standard_normal((n, 2))
    p = {"W1": rng.standard_normal((d, h)), "b1": rng.standard_normal(h) * 0.1,
         "W2": rng.standard_normal((h, 2)), "b2": rng.standard_normal(2)}
    return X, Y, p


def _relu_loss(X: np.ndarray, Y: np.ndarray) -> Callable[..., float]:
    n = X.shape[0]

    def f(W1, b1, W2, b2):
        return 0.5 * np.sum((np.maximum(X @ W1 + b1, 0) @ W2 + b2 - Y) ** 2) / n

    return f


def _relu_grads(X: np.ndarray, Y: np.ndarray, p: dict, mask: bool = True) -> dict:
    n = X.shape[0]
    z1 = X @ p["W1"] + p["b1"]
    a1 = np.maximum(z1, 0)
    e = (a1 @ p["W2"] + p["b2"] - Y) / n
    da1 = e @ p["W2"].T
    dz1 = da1 * (z1 > 0) if mask else da1
    return {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": a1.T @ e, "b2": e.sum(0)}


def two_layer_relu_batch() -> Case:
    """ReLU hidden layer, linear output, biases, mean squared error over a batch."""
    X, Y, p = _relu_net(5)
    f = _relu_loss(X, Y)
    g = _relu_grads(X, Y, p)
    n = X.shape[0]
    col = dict(g)
    col["W1"] = g["W1"].copy()
    col["W1"][:, 2] *= 1.5  # one hidden unit's column mishandled
    z1 = X @ p["W1"] + p["b1"]
    dz_sum = (((np.maximum(z1, 0) @ p["W2"] + p["b2"] - Y) / n) @ p["W2"].T * (z1 > 0))
    return Case(f, p, g, {
        "missing_relu_mask": _relu_grads(X, Y, p, mask=False),
        "missing_1_over_N": {k: v * n for k, v in g.items()},
        "bias_not_summed": {**g, "b1": dz_sum},
        "single_wrong_column": col,
    })


def two_layer_tanh_batch() -> Case:
    """tanh hidden layer, sigmoid output, cross-entropy over a batch, with biases."""
    rng = np.random.default_rng(6)
    n, d, h = 8, 3, 4
    X, y = rng.standard_normal((n, d)), (rng.random((n, 1)) > 0.5).astype(float)
    p = {"W1": rng.standard_normal((d, h)), "b1": rng.standard_normal(h),
         "W2": rng.standard_normal((h, 1)), "b2": rng.standard_normal(1)}

    def f(W1, b1, W2, b2):
        q = sigmoid(np.tanh(X @ W1 + b1) @ W2 + b2)
        return -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))

    a1 = np.tanh(X @ p["W1"] + p["b1"])
    q = sigmoid(a1 @ p["W2"] + p["b2"])
    e = (q - y) / n
    dz1 = (e @ p["W2"].T) * (1 - a1**2)
    g = {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": a1.T @ e, "b2": e.sum(0)}
    return Case(f, p, g, {
        "missing_1_over_N": {k: v * n for k, v in g.items()},
        "tanh_prime_wrong": {**g, "W1": X.T @ ((e @ p["W2"].T) * (1 - a1))},
    })


def linear_regression() -> Case:
    """L = (1/2N)‖Xw − y‖²."""
    rng = np.random.default_rng(7)
    n, d = 10, 4
    X, y, w = rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal(d)

    def f(w):
        return 0.5 * np.sum((X @ w - y) ** 2) / n

    g = X.T @ (X @ w - y) / n
    return Case(f, w, g, {"missing_1_over_N": g * n, "factor_2": 2 * g, "sign": -g})


def logistic_regression() -> Case:
    rng = np.random.default_rng(8)
    n, d = 12, 3
    X, y = rng.standard_normal((n, d)), (rng.random(n) > 0.5).astype(float)
    p = {"w": rng.standard_normal(d), "b": np.array(0.3)}

    def f(w, b):
        z = X @ w + b
        return np.mean(np.logaddexp(0, z) - y * z)

    q = sigmoid(X @ p["w"] + p["b"])
    g = {"w": X.T @ (q - y) / n, "b": np.array(np.mean(q - y))}
    return Case(f, p, g, {
        "sign": {"w": X.T @ (y - q) / n, "b": np.array(np.mean(y - q))},
        "sigma_prime_extra": {"w": X.T @ ((q - y) * q * (1 - q)) / n, "b": g["b"]},
    })


def softmax_xent() -> Case:
    rng = np.random.default_rng(9)
    n, d, c = 6, 4, 3
    X, labels, W = rng.standard_normal((n, d)), rng.integers(0, c, n), rng.standard_normal((d, c))
    Y = np.eye(c)[labels]

    def f(W):
        z = X @ W
        z = z - z.max(axis=1, keepdims=True)
        return -np.mean(np.sum(Y * (z - np.log(np.exp(z).sum(1, keepdims=True))), 1))

    P = softmax(X @ W)
    g = X.T @ (P - Y) / n
    return Case(f, W, g, {
        "missing_1_over_N": X.T @ (P - Y),
        "forgot_onehot": X.T @ P / n,
        "sign": X.T @ (Y - P) / n,
    })


def _hinge_parts(X: np.ndarray, W: np.ndarray, labels: np.ndarray) -> tuple[Any, ...]:
    n = X.shape[0]
    S = X @ W
    margins = S - S[np.arange(n), labels][:, None] + 1.0
    margins[np.arange(n), labels] = 0
    return S, margins


def _hinge_loss(X: np.ndarray, labels: np.ndarray) -> Callable[[np.ndarray], float]:
    def f(W):
        _, m = _hinge_parts(X, W, labels)
        return np.sum(np.maximum(m, 0)) / X.shape[0]

    return f


def _hinge_grad(X: np.ndarray, W: np.ndarray, labels: np.ndarray,
                count_correct: bool = True) -> np.ndarray:
    n = X.shape[0]
    _, m = _hinge_parts(X, W, labels)
    A = (m > 0).astype(float)
    if count_correct:
        A[np.arange(n), labels] = -A.sum(1)
    return X.T @ A / n


def multiclass_hinge() -> Case:
    rng = np.random.default_rng(10)
    n, d, c = 8, 5, 4
    X, labels, W = rng.standard_normal((n, d)), rng.integers(0, c, n), rng.standard_normal((d, c))
    f = _hinge_loss(X, labels)
    g = _hinge_grad(X, W, labels)
    return Case(f, W, g, {
        "forgot_correct_class_term": _hinge_grad(X, W, labels, count_correct=False),
        "missing_1_over_N": g * n,
    })


def l2_regularised() -> Case:
    """Softmax regression plus (λ/2)‖W‖²."""
    base = softmax_xent()
    lam = 0.1

    def f(W):
        return base.f(W) + 0.5 * lam * np.sum(W * W)

    W = base.x
    g = base.grad + lam * W
    return Case(f, W, g, {"reg_factor_2": base.grad + 2 * lam * W, "reg_missing": base.grad})


def batch_norm() -> Case:
    """Batch norm's backward pass w.r.t. its input, as a VJP."""
    rng = np.random.default_rng(11)
    n, d, eps = 6, 3, 1e-5
    x, gamma, beta = rng.standard_normal((n, d)) * 2 + 1, rng.random(d) + 0.5, rng.random(d)
    dy = rng.standard_normal((n, d))

    def f(x):
        mu, var = x.mean(0), x.var(0)
        return gamma * (x - mu) / np.sqrt(var + eps) + beta

    mu, var = x.mean(0), x.var(0)
    xhat = (x - mu) / np.sqrt(var + eps)
    dxhat = dy * gamma
    g = (dxhat - dxhat.mean(0) - xhat * (dxhat * xhat).mean(0)) / np.sqrt(var + eps)
    return Case(f, x, g, {
        "forgot_variance_path": (dxhat - dxhat.mean(0)) / np.sqrt(var + eps),
        "forgot_mean_path": (dxhat - xhat * (dxhat * xhat).mean(0)) / np.sqrt(var + eps),
        "missing_1_over_N": (dxhat - dxhat.sum(0) - xhat * (dxhat * xhat).sum(0))
        / np.sqrt(var + eps),
    }, vjp_upstream=dy)


def layer_norm() -> Case:
    """Layer norm (per row) w.r.t. its input, as a VJP."""
    rng = np.random.default_rng(12)
    n, d, eps = 4, 5, 1e-5
    x, gamma = rng.standard_normal((n, d)), rng.random(d) + 0.5
    dy = rng.standard_normal((n, d))

    def f(x):
        mu, var = x.mean(1, keepdims=True), x.var(1, keepdims=True)
        return gamma * (x - mu) / np.sqrt(var + eps)

    mu, var = x.mean(1, keepdims=True), x.var(1, keepdims=True)
    xhat, s = (x - mu) / np.sqrt(var + eps), np.sqrt(var + eps)
    dxh = dy * gamma
    g = (dxh - dxh.mean(1, keepdims=True) - xhat * (dxh * xhat).mean(1, keepdims=True)) / s
    batch_axis = (dxh - dxh.mean(0) - xhat * (dxh * xhat).mean(0)) / s
    return Case(f, x, g, {"normalised_over_batch_axis": batch_axis,
                          "forgot_variance_path": (dxh - dxh.mean(1, keepdims=True)) / s},
                vjp_upstream=dy)


def rnn_step() -> Case:
    """h' = tanh(x Wx + h Wh + b); loss = ½‖h' − t‖².  Wh is square: transposition bites."""
    rng = np.random.default_rng(13)
    d, h = 3, 4
    x, hp, t = rng.standard_normal((1, d)), rng.standard_normal((1, h)), rng.standard_normal((1, h))
    p = {"Wx": rng.standard_normal((d, h)), "Wh": rng.standard_normal((h, h)),
         "b": rng.standard_normal(h)}

    def f(Wx, Wh, b):
        return 0.5 * np.sum((np.tanh(x @ Wx + hp @ Wh + b) - t) ** 2)

    a = np.tanh(x @ p["Wx"] + hp @ p["Wh"] + p["b"])
    dz = (a - t) * (1 - a**2)
    g = {"Wx": x.T @ dz, "Wh": hp.T @ dz, "b": dz.sum(0)}
    return Case(f, p, g, {"Wh_transposed": {**g, "Wh": (hp.T @ dz).T},
                          "sigma_style_derivative": {**g, "Wh": hp.T @ ((a - t) * a)}})


def attention() -> Case:
    """One attention head, gradient w.r.t. the queries as a VJP."""
    rng = np.random.default_rng(14)
    tq, tk, dk, dv = 3, 4, 4, 2
    Q, K, V = rng.standard_normal((tq, dk)), rng.standard_normal((tk, dk)), rng.standard_normal(
        (tk, dv))
    U = rng.standard_normal((tq, dv))

    def f(Q):
        return softmax(Q @ K.T / np.sqrt(dk)) @ V

    A = softmax(Q @ K.T / np.sqrt(dk))
    dA = U @ V.T
    dS = A * (dA - np.sum(dA * A, axis=1, keepdims=True))
    g = dS @ K / np.sqrt(dk)
    return Case(f, Q, g, {
        "forgot_1_over_sqrt_d": dS @ K,
        "softmax_jacobian_diagonal_only": (A * dA) @ K / np.sqrt(dk),
    }, vjp_upstream=U)


def trace_identity() -> Case:
    """∂ tr(AB)/∂A = Bᵀ."""
    rng = np.random.default_rng(15)
    A, B = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    return Case(lambda A: np.trace(A @ B), A, B.T, {"transposed": B})


def logdet_identity() -> Case:
    """∂ log|det A|/∂A = A⁻ᵀ."""
    rng = np.random.default_rng(16)
    A = rng.standard_normal((4, 4)) + 4 * np.eye(4)
    return Case(lambda A: np.linalg.slogdet(A)[1], A, np.linalg.inv(A).T,
                {"transposed": np.linalg.inv(A)})


def inverse_identity() -> Case:
    """∂ ⟨U, A⁻¹⟩/∂A = −A⁻ᵀ U A⁻ᵀ."""
    rng = np.random.default_rng(17)
    A = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    U = rng.standard_normal((3, 3))
    Ai = np.linalg.inv(A)
    return Case(lambda A: np.sum(U * np.linalg.inv(A)), A, -Ai.T @ U @ Ai.T,
                {"sign": Ai.T @ U @ Ai.T, "transposed": -Ai @ U.T @ Ai})


def dropout_fixed_mask() -> Case:
    """Inverted dropout with a fixed mask, then a linear layer; gradient w.r.t. W."""
    rng = np.random.default_rng(18)
    n, d, keep = 5, 4, 0.5
    X, Y, W = rng.standard_normal((n, d)), rng.standard_normal((n, 2)), rng.standard_normal((d, 2))
    M = (rng.random((n, d)) < keep).astype(float)
    Xd = X * M / keep

    def f(W):
        return 0.5 * np.sum((Xd @ W - Y) ** 2)

    g = Xd.T @ (Xd @ W - Y)
    Xm = X * M  # forgot the 1/keep rescaling in the backward pass
    return Case(f, W, g, {"forgot_mask": (X / keep).T @ (Xd @ W - Y),
                          "forgot_rescale": Xm.T @ (Xd @ W - Y)})


def policy_gradient_exact() -> Case:
    """∇θ E_{a∼softmax(θ)}[r(a)] by exact enumeration of the K actions."""
    rng = np.random.default_rng(19)
    k = 5
    theta, r = rng.standard_normal(k), rng.standard_normal(k)

    def f(theta):
        return softmax(theta) @ r

    pi = softmax(theta)
    g = sum(pi[a] * r[a] * (np.eye(k)[a] - pi) for a in range(k))
    return Case(f, theta, g, {
        "score_without_baseline_term": pi * r,  # ∇ log π(a) taken as e_a only, not e_a − π
        "sign": -g,
    })


FAMILIES: dict[str, Callable[[], Case]] = {
    "one_layer_single": one_layer_single,
    "one_layer_batch": one_layer_batch,
    "one_layer_tanh_bias": one_layer_tanh_bias,
    "two_layer_sigmoid_single": two_layer_sigmoid_single,
    "two_layer_relu_batch": two_layer_relu_batch,
    "two_layer_tanh_batch": two_layer_tanh_batch,
    "linear_regression": linear_regression,
    "logistic_regression": logistic_regression,
    "softmax_xent": softmax_xent,
    "multiclass_hinge": multiclass_hinge,
    "l2_regularised": l2_regularised,
    "batch_norm": batch_norm,
    "layer_norm": layer_norm,
    "rnn_step": rnn_step,
    "attention": attention,
    "trace_identity": trace_identity,
    "logdet_identity": logdet_identity,
    "inverse_identity": inverse_identity,
    "dropout_fixed_mask": dropout_fixed_mask,
    "policy_gradient_exact": policy_gradient_exact,
}

# every family also gets the two generic bugs: a flipped sign and 1e-3 in one entry
GENERIC_WRONG: dict[str, Callable[[Any], Any]] = {
    "generic_sign": _neg,
    "generic_1e-3_one_entry": _bump,
    "generic_1e-4_one_entry": lambda g: _bump(g, 1e-4),
}

WRONG_CASES = [
    (fam, bug) for fam, make in FAMILIES.items() for bug in list(make().wrong) + list(GENERIC_WRONG)
]


@pytest.mark.parametrize("family", list(FAMILIES))
def test_correct_gradient_passes(family: str) -> None:
    case = FAMILIES[family]()
    res = case.run(case.grad)
    assert res.status == "pass", (family, res.message)
    assert bool(res) is True
    assert res.max_rel_err <= res.tolerance


@pytest.mark.parametrize(("family", "bug"), WRONG_CASES, ids=[f"{a}-{b}" for a, b in WRONG_CASES])
def test_wrong_gradient_fails(family: str, bug: str) -> None:
    case = FAMILIES[family]()
    wrong = GENERIC_WRONG[bug](case.grad) if bug in GENERIC_WRONG else case.wrong[bug]
    res = case.run(wrong)
    assert res.status == "fail", (family, bug, res.message)
    assert not res
    assert res.message
    if res.n_checked:  # shape failures stop before any entry is checked
        assert res.worst and res.max_rel_err > res.tolerance


# --------------------------------------------------------------------------- hints


@pytest.mark.parametrize(
    ("family", "bug", "expected"),
    [
        ("linear_regression", "sign", "sign"),
        ("linear_regression", "factor_2", "factor 2"),
        ("linear_regression", "missing_1_over_N", "factor 10"),
        ("softmax_xent", "missing_1_over_N", "batch mean"),
        ("trace_identity", "transposed", "transposed"),
        ("logdet_identity", "transposed", "transposed"),
        ("rnn_step", "Wh_transposed", "transposed"),
        ("two_layer_relu_batch", "single_wrong_column", "column 2"),
        ("attention", "forgot_1_over_sqrt_d", "factor 2"),
        ("dropout_fixed_mask", "forgot_rescale", "factor ½"),
    ],
)
def test_hints_name_the_bug(family: str, bug: str, expected: str) -> None:
    case = FAMILIES[family]()
    res = case.run(case.wrong[bug])
    assert res.status == "fail"
    assert res.hint is not None and expected in res.hint, res.hint


def test_hint_uses_named_sizes() -> None:
    case = one_layer_batch()
    res = case.run(case.wrong["missing_1_over_N"], sizes={"N": 4, "D": 3})
    assert res.hint == "off by a factor N=4 (batch mean?)"


def test_sigma_instead_of_sigma_prime_gets_no_ratio_hint() -> None:
    case = one_layer_batch()
    res = case.run(case.wrong["sigma_not_sigma_prime"])
    assert res.status == "fail"
    assert res.hint is None or "factor" not in res.hint and "sign" not in res.hint


def test_single_entry_hint() -> None:
    case = softmax_xent()
    res = case.run(_bump(case.grad, 1e-3))
    assert res.hint is not None and res.hint.startswith("one entry wrong"), res.hint
    i = np.unravel_index(np.argmax(np.abs(case.grad)), case.grad.shape)
    assert res.worst[0].index == tuple(int(v) for v in i)


# --------------------------------------------------------------------------- shapes, errors


def test_shape_mismatch_names_both_shapes() -> None:
    W = np.ones((3, 1))
    res = check_grad(lambda W: float(np.sum(W**2)), W, np.ones((1, 3)), name="∂L/∂W")
    assert res.status == "fail"
    assert res.message == "∂L/∂W is 1×3 but W is 3×1"
    assert res.hint == "transposed?"
    assert res.n_checked == 0


def test_bias_not_summed_is_a_shape_failure_with_hint() -> None:
    case = one_layer_tanh_bias()
    res = case.run(case.wrong["bias_not_summed"])
    assert res.status == "fail"
    assert "∂L/∂b is 5×2 but b is 2" == res.message
    assert res.hint is not None and "batch" in res.hint


def test_dict_keys_missing_and_extra() -> None:
    case = two_layer_relu_batch()
    g = dict(case.grad)
    del g["b2"]
    g["c"] = np.zeros(2)
    res = case.run(g)
    assert res.status == "fail"
    assert "no gradient stated for b2" in res.message
    assert "unknown parameter c" in res.message


def test_non_finite_stated_gradient_fails() -> None:
    g = np.array([1.0, np.nan, 2.0])
    res = check_grad(lambda x: float(np.sum(x)), np.zeros(3), g)
    assert res.status == "fail" and "non-finite" in res.message and "(1,)" in res.message


def test_f_raising_is_an_error_with_its_message() -> None:
    def f(x):
        raise ValueError("boom")

    res = check_grad(f, np.zeros(2), np.zeros(2))
    assert res.status == "error"
    assert "ValueError: boom" in res.message
    assert not res


def test_non_scalar_f_is_an_error_that_points_to_check_vjp() -> None:
    res = check_grad(lambda x: x * 2, np.ones(3), np.full(3, 2.0))
    assert res.status == "error" and "check_vjp" in res.message and "3" in res.message


def test_vjp_upstream_shape_mismatch_is_reported() -> None:
    res = check_vjp(lambda x: x * 2, np.ones(3), np.ones(4), np.full(3, 2.0))
    assert res.status == "error" and "upstream is 4" in res.message


def test_nan_loss_is_an_error() -> None:
    with np.errstate(invalid="ignore"):
        res = check_grad(lambda x: float(np.sum(np.log(x))), -np.ones(2), np.ones(2))
    assert res.status == "error" and "not finite" in res.message


def test_random_f_is_an_error_not_a_wrong_gradient() -> None:
    rng = np.random.default_rng(35)
    X, W = rng.standard_normal((5, 4)), rng.standard_normal((4, 2))

    def f(W):  # dropout with a fresh mask on every call: no derivative to compare with
        return 0.5 * np.sum((X * (rng.random(X.shape) < 0.5) @ W) ** 2)

    res = check_grad(f, W, np.zeros_like(W))
    assert res.status == "error" and "not deterministic" in res.message


def test_f_ignoring_its_argument_gets_a_hint() -> None:
    W = np.ones((2, 2))

    def f(_):
        return float(np.sum(W**2))  # uses the global W, not its argument

    res = check_grad(f, W, 2 * W)
    assert res.status == "fail" and res.hint is not None and "argument" in res.hint


def test_f_mutating_its_argument_is_reported() -> None:
    def f(x):
        x += 1
        return float(np.sum(x))

    x = np.zeros(3)
    res = check_grad(f, x, np.ones(3))
    assert res.status == "error" and "in place" in res.message
    assert np.all(x == 0)


# --------------------------------------------------------------------------- correct but hard


def test_relu_points_within_1e7_of_the_kink_pass() -> None:
    X, Y, p = _relu_net(21, n=5, d=3, h=4)
    z = X @ p["W1"] + p["b1"]
    # move three pre-activations to within 1e-7 of zero (both sides) and one exactly onto it
    for (i, j), off in zip([(0, 0), (1, 1), (2, 2), (3, 3)], [1e-8, -5e-8, 9e-8, 0.0],
                           strict=True):
        p["b1"] = p["b1"].copy()
        p["b1"][j] -= z[i, j] - off
        z = X @ p["W1"] + p["b1"]
    assert np.sum(np.abs(z) < 1e-7) >= 4
    f = _relu_loss(X, Y)
    res = check_grad(f, p, _relu_grads(X, Y, p))
    assert res.status == "pass", res.message
    bad = check_grad(f, p, _relu_grads(X, Y, p, mask=False))
    assert bad.status == "fail"
    # a kink a little way off excuses nothing: 1e-3 in a unit with a near-kink point fails
    for j in (0, 1, 2):
        g = _relu_grads(X, Y, p)
        w = g["W1"].copy()
        w[np.argmax(np.abs(w[:, j])), j] *= 1.001
        assert check_grad(f, p, {**g, "W1": w}).status == "fail", j


@pytest.mark.parametrize("seed", range(4))
def test_float32_relu_net_with_points_near_the_kink(seed: int) -> None:
    """float32 code may put a point 1e-8 from a kink on the other side than float64 does;
    the stated gradient is then a one-sided slope seen within the step, and passes."""
    rng = np.random.default_rng(seed)
    n, d, h = 16, 8, 10
    X = rng.standard_normal((n, d)).astype(np.float32)
    Y = rng.standard_normal((n, 1)).astype(np.float32)
    p = {"W1": rng.standard_normal((d, h)).astype(np.float32),
         "b1": (0.1 * rng.standard_normal(h)).astype(np.float32),
         "W2": rng.standard_normal((h, 1)).astype(np.float32)}
    z64 = X.astype(np.float64) @ p["W1"].astype(np.float64) + p["b1"]
    for j in range(4):  # four units with one pre-activation within 1e-7 of zero
        p["b1"][j] = np.float32(p["b1"][j] - z64[rng.integers(n), j] + rng.uniform(-1e-7, 1e-7))

    def f(W1, b1, W2):
        return 0.5 * np.sum((np.maximum(X @ W1 + b1, 0) @ W2 - Y) ** 2) / n

    z = X @ p["W1"] + p["b1"]
    a = np.maximum(z, 0)
    e = (a @ p["W2"] - Y) / np.float32(n)
    g = {"W1": X.T @ ((e @ p["W2"].T) * (z > 0)), "b1": ((e @ p["W2"].T) * (z > 0)).sum(0),
         "W2": a.T @ e}
    assert check_grad(f, p, g).status == "pass"
    assert check_grad(f, p, {**g, "W1": X.T @ (e @ p["W2"].T)}).status == "fail"


def test_hinge_margins_within_1e7_of_the_kink_pass() -> None:
    rng = np.random.default_rng(22)
    n, d, c = 6, 4, 3
    X, labels, W = rng.standard_normal((n, d)), rng.integers(0, c, n), rng.standard_normal((d, c))
    # shift the scores of one wrong class so its margin sits 3e-8 from the hinge's kink
    _, m = _hinge_parts(X, W, labels)
    j = (labels[0] + 1) % c
    X = np.hstack([X, np.ones((n, 1))])  # a bias feature to move the margin with
    W = np.vstack([W, np.zeros((1, c))])
    W[-1, j] -= m[0, j] - 3e-8
    _, m = _hinge_parts(X, W, labels)
    assert abs(m[0, j]) < 1e-7
    f = _hinge_loss(X, labels)
    assert check_grad(f, W, _hinge_grad(X, W, labels)).status == "pass"
    assert check_grad(f, W, _hinge_grad(X, W, labels, count_correct=False)).status == "fail"


def test_exact_zeros_and_tiny_entries_pass() -> None:
    rng = np.random.default_rng(23)
    n, d = 8, 5
    X, y, w = rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal(d)
    X[:, 1] = 0.0  # this feature never matters: its gradient entry is exactly 0
    X[:, 3] *= 1e-12  # and this one's is about 1e-12

    def f(w):
        return 0.5 * np.mean((X @ w - y) ** 2)

    g = X.T @ (X @ w - y) / n
    assert g[1] == 0 and 0 < abs(g[3]) < 1e-10
    res = check_grad(f, w, g)
    assert res.status == "pass", res.message
    wrong = g.copy()
    wrong[2] *= 1 + 1e-3
    assert check_grad(f, w, wrong).status == "fail"


def test_large_values_pass_and_small_relative_errors_fail() -> None:
    rng = np.random.default_rng(24)
    x = 1e3 + 10 * rng.standard_normal(6)
    A = rng.standard_normal((6, 6))

    def f(x):
        return 0.5 * x @ (A.T @ A) @ x + 1e3 * np.sum(np.sin(x / 1e3))

    g = A.T @ A @ x + np.cos(x / 1e3)
    assert np.max(np.abs(g)) > 1e3
    assert check_grad(f, x, g).status == "pass"
    assert check_grad(f, x, _bump(g, 1e-4)).status == "fail"


def test_tiny_losses_pass_and_wrong_ones_fail() -> None:
    rng = np.random.default_rng(25)
    n, d = 10, 3
    X, w = rng.standard_normal((n, d)), rng.standard_normal(d)
    y = X @ w + 1e-6 * rng.standard_normal(n)  # an almost perfect fit: loss ~ 1e-12

    def f(w):
        return 0.5 * np.sum((X @ w - y) ** 2)

    g = X.T @ (X @ w - y)
    assert f(w) < 1e-10
    assert check_grad(f, w, g).status == "pass"
    assert check_grad(f, w, -g).status == "fail"
    assert check_grad(f, w, _bump(g, 1e-3)).status == "fail"
    # and a loss scaled down to 1e-10 as a whole
    case = softmax_xent()
    res = check_grad(lambda W: 1e-10 * case.f(W), case.x, 1e-10 * case.grad)
    assert res.status == "pass"
    assert check_grad(lambda W: 1e-10 * case.f(W), case.x, 1e-10 * case.wrong["missing_1_over_N"]
                      ).status == "fail"


def test_float32_data_and_gradient_pass() -> None:
    rng = np.random.default_rng(26)
    n, d, c = 32, 20, 5
    X = rng.standard_normal((n, d)).astype(np.float32)
    labels = rng.integers(0, c, n)
    Y = np.eye(c, dtype=np.float32)[labels]
    W = (0.1 * rng.standard_normal((d, c))).astype(np.float32)

    def f(W):
        z = X @ W
        z = z - z.max(1, keepdims=True)
        return -np.mean(np.sum(Y * (z - np.log(np.exp(z).sum(1, keepdims=True))), 1))

    P = softmax(X @ W)
    g = X.T @ (P - Y) / np.float32(n)
    assert g.dtype == np.float32
    res = check_grad(f, W, g)
    assert res.status == "pass", res.message
    assert W.dtype == np.float32  # untouched
    assert check_grad(f, W, g * np.float32(n)).status == "fail"
    assert check_grad(f, W, _bump(g, 1e-3).astype(np.float32)).status == "fail"


def test_twenty_thousand_parameters_are_sampled_and_checked() -> None:
    X, Y, p = _relu_net(27, n=16, d=100, h=200)
    p = {"W1": p["W1"] / 10, "b1": p["b1"], "W2": p["W2"] / 10, "b2": p["b2"]}
    f = _relu_loss(X, Y)
    g = _relu_grads(X, Y, p)
    res = check_grad(f, p, g)
    assert res.status == "pass", res.message
    assert res.n_total == 100 * 200 + 200 + 400 + 2
    assert res.n_checked < res.n_total and res.method.startswith("sampled")
    assert res.error_map is None
    wrong = dict(g)
    wrong["W1"] = g["W1"].copy()
    wrong["W1"][:, 37] *= 1.01  # one column: sampling covers every column
    assert check_grad(f, p, wrong).status == "fail"
    assert check_grad(f, p, {k: v * 16 for k, v in g.items()}).status == "fail"


def test_kinks_exactly_at_x_accept_either_one_sided_convention() -> None:
    rng = np.random.default_rng(32)
    n, d, h = 8, 4, 6
    X, y = rng.standard_normal((n, d)), rng.standard_normal((n, 1))
    X[:3] = 0.0  # with b1 = 0 these rows sit exactly on every unit's kink
    p = {"W1": rng.standard_normal((d, h)), "b1": np.zeros(h), "W2": rng.standard_normal((h, 1))}

    def f(W1, b1, W2):
        return 0.5 * np.sum((np.maximum(X @ W1 + b1, 0) @ W2 - y) ** 2)

    z = X @ p["W1"] + p["b1"]
    a = np.maximum(z, 0)
    e = a @ p["W2"] - y
    for mask in (z > 0, z >= 0):  # ReLU'(0) taken as 0 or as 1: both are subgradients
        dz = (e @ p["W2"].T) * mask
        g = {"W1": X.T @ dz, "b1": dz.sum(0), "W2": a.T @ e}
        assert check_grad(f, p, g).status == "pass"
    wrong = {**g, "b1": g["b1"] + 0.3}
    assert check_grad(f, p, wrong).status == "fail"
    # L1 at exact zeros: sign(0) = 0 lies between the one-sided slopes
    w, lam = np.array([0.0, 1.5, -2.0, 0.0]), 0.3

    def fl1(w):
        return lam * np.sum(np.abs(w)) + 0.5 * np.sum((w - 1) ** 2)

    assert check_grad(fl1, w, lam * np.sign(w) + (w - 1)).status == "pass"
    assert check_grad(fl1, w, -lam * np.sign(w) + (w - 1)).status == "fail"


def test_near_a_minimum_small_gradient_large_curvature() -> None:
    rng = np.random.default_rng(33)
    H = rng.standard_normal((4, 4))
    H = H @ H.T + np.eye(4)
    x = 1e-7 * rng.standard_normal(4)

    def f(x):
        return 0.5 * x @ H @ x

    assert check_grad(f, x, H @ x).status == "pass"
    assert check_grad(f, x, _bump(H @ x, 1e-3)).status == "fail"


def test_scalar_parameter_and_list_gradient() -> None:
    assert check_grad(lambda t: t**3, 2.0, 12.0).status == "pass"
    res = check_grad(lambda t: t**3, 2.0, 12.01)
    assert res.status == "fail" and res.param_shape == () and res.hint is None
    assert check_grad(lambda v: float(v @ v), np.array([1.0, 2.0]), [2.0, 4.0]).status == "pass"


def test_f_in_float32_widens_the_tolerance_and_says_so() -> None:
    rng = np.random.default_rng(34)
    X = rng.standard_normal((20, 5)).astype(np.float32)
    w = rng.standard_normal(5).astype(np.float32)

    def f(w):
        return np.float32(0.5) * np.sum((X @ w.astype(np.float32)) ** 2)

    g = X.T @ (X @ w)
    res = check_grad(f, w, g)
    assert res.status == "pass" and "low-precision" in res.method
    assert check_grad(f, w, -g).status == "fail"


def test_ratio_hint_names_the_failing_parameter_only() -> None:
    case = two_layer_relu_batch()
    wrong = {**case.grad, "W1": case.grad["W1"] * 6}
    res = case.run(wrong)
    assert res.status == "fail"
    assert res.hint is not None and res.hint.startswith("W1: off by a factor"), res.hint


def test_uniform_small_error_in_a_large_parameter_is_caught_by_directions() -> None:
    rng = np.random.default_rng(28)
    x = rng.standard_normal((300, 300))
    c = rng.standard_normal((300, 300))

    def f(x):
        return float(np.sum(c * x * x))

    res = check_grad(f, x, 2 * c * x * (1 + 1e-4))
    assert res.status == "fail"
    assert "direction" in res.message


def test_sampled_check_names_the_one_wrong_entry_and_the_wrong_column() -> None:
    rng = np.random.default_rng(36)
    x, c = rng.standard_normal((120, 150)), rng.random((120, 150)) + 0.5

    def f(x):
        return 0.5 * float(np.sum(c * x * x))

    g = c * x
    one = g.copy()
    one[37, 101] *= 1.001  # one entry of 18,000, off by 1e-3: its group sum shows it
    res = check_grad(f, x, one)
    assert res.status == "fail" and res.method.startswith("sampled")
    assert res.worst and res.worst[0].index == (37, 101)
    col = g.copy()
    col[:, 9] *= 1.01
    res = check_grad(f, x, col)
    assert res.status == "fail"
    assert res.hint == "every wrong entry found lies in column 9 (sampled)"


# --------------------------------------------------------------------------- Monte Carlo


def _policy_mc(m: int, seed: int, biased: bool = False) -> tuple[Any, ...]:
    case = policy_gradient_exact()
    theta = case.x
    k = theta.size
    rng = np.random.default_rng(seed)
    rng_r = np.random.default_rng(19)
    rng_r.standard_normal(k)
    r = rng_r.standard_normal(k)  # the same rewards as the exact family
    pi = softmax(theta)
    acts = rng.choice(k, size=m, p=pi)
    score = np.eye(k)[acts] - (0 if biased else pi)
    samples = r[acts][:, None] * score
    return case, samples.mean(0), samples.std(0, ddof=1) / np.sqrt(m)


def test_monte_carlo_estimate_within_stderr_passes() -> None:
    case, est, se = _policy_mc(4000, seed=1)
    res = check_grad(case.f, case.x, est, stderr=se)
    assert res.status == "pass", res.message
    assert "SE" in res.message and "4" in res.message
    assert res.tolerance == 4.0


def test_monte_carlo_scalar_stderr_and_custom_sigma() -> None:
    case, est, se = _policy_mc(4000, seed=2)
    res = check_grad(case.f, case.x, est, stderr=float(se.max()), n_sigma=5)
    assert res.status == "pass" and "5·SE" in res.message


def test_biased_monte_carlo_estimate_fails() -> None:
    case, est, se = _policy_mc(4000, seed=3, biased=True)
    res = check_grad(case.f, case.x, est, stderr=se)
    assert res.status == "fail"


def test_monte_carlo_sign_error_fails() -> None:
    case, est, se = _policy_mc(4000, seed=4)
    assert check_grad(case.f, case.x, -est, stderr=se).status == "fail"


def test_stderr_of_wrong_shape_is_an_error_with_message() -> None:
    """A stderr that does not fit x is a mistake in the call, not in the math."""
    case, est, se = _policy_mc(100, seed=5)
    res = check_grad(case.f, case.x, est, stderr=np.ones(3))
    assert res.status == "error" and "stderr" in res.message


# --------------------------------------------------------------------------- contract


def test_deterministic_and_inputs_untouched() -> None:
    case = two_layer_relu_batch()
    before = {k: v.copy() for k, v in case.x.items()}
    grads_before = {k: v.copy() for k, v in case.grad.items()}
    a = case.run(case.wrong["single_wrong_column"]).to_dict()
    b = case.run(case.wrong["single_wrong_column"]).to_dict()
    assert a == b
    for k in before:
        assert np.array_equal(case.x[k], before[k])
        assert np.array_equal(case.grad[k], grads_before[k])


def test_sampled_check_is_deterministic_per_seed() -> None:
    rng = np.random.default_rng(29)
    x = rng.standard_normal(5000)
    g = 2 * x
    g[123] *= 1.01
    r1 = check_grad(lambda x: float(x @ x), x, g, seed=3)
    r2 = check_grad(lambda x: float(x @ x), x, g, seed=3)
    assert r1.to_dict() == r2.to_dict()


def test_to_dict_is_json_safe_and_carries_the_figures() -> None:
    case = two_layer_relu_batch()
    res = case.run(case.wrong["single_wrong_column"], name="∂L/∂θ", eq="eq-backprop")
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert d["status"] == "fail" and d["name"] == "∂L/∂θ" and d["eq"] == "eq-backprop"
    assert d["param_shape"]["W1"] == [4, 5]
    assert d["worst"] and d["worst"][0]["key"] == "W1"
    assert len(d["error_map"]) == 4 and len(d["error_map"][0]) == 5
    err = check_grad(lambda x: 1 / 0, np.zeros(2), np.zeros(2)).to_dict()
    assert json.loads(json.dumps(err, allow_nan=False))["max_rel_err"] is None


def test_error_map_shows_the_wrong_column() -> None:
    case = two_layer_relu_batch()
    res = case.run(case.wrong["single_wrong_column"])
    assert res.map_key == "W1" and res.error_map is not None
    col = res.error_map[:, 2]
    others = np.delete(res.error_map, 2, axis=1)
    assert col.min() > 100 * others.max()


def test_pass_reports_all_entries_and_method() -> None:
    case = softmax_xent()
    res = case.run(case.grad)
    assert res.n_checked == res.n_total == 12
    assert res.method == "central differences, all 12 entries"
    assert res.message == "within tolerance" and res.worst == []


def test_vjp_of_a_linear_layer() -> None:
    rng = np.random.default_rng(30)
    W, x, u = rng.standard_normal((3, 2)), rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    assert check_vjp(lambda x: x @ W, x, u, u @ W.T).status == "pass"
    assert check_vjp(lambda x: x @ W, x, u, -u @ W.T).status == "fail"


# --------------------------------------------------------------------------- against others


def _numerical(f: Callable, x: np.ndarray, h: float) -> np.ndarray:
    out = np.zeros_like(x)
    for i in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp.flat[i] += h
        xm.flat[i] -= h
        out.flat[i] = (f(xp) - f(xm)) / (2 * h)
    return out


def test_each_classic_rule_errs_where_this_checker_does_not() -> None:
    """torch-style allclose, and the CS231n relative error, each get one of these wrong."""
    # 1) a 1e-4 relative error: allclose(rtol=1e-3, atol=1e-5) lets it through
    case = linear_regression()
    wrong = _bump(case.grad, 1e-4)
    num = _numerical(case.f, case.x, 1e-6)
    assert np.allclose(wrong, num, rtol=1e-3, atol=1e-5)
    assert case.run(wrong).status == "fail"
    # 2) a tiny loss with the sign flipped: the atol swallows it
    sm = softmax_xent()
    tiny_f = lambda W: 1e-8 * sm.f(W)  # noqa: E731
    assert np.allclose(-1e-8 * sm.grad, _numerical(tiny_f, sm.x, 1e-6), rtol=1e-3, atol=1e-5)
    assert check_grad(tiny_f, sm.x, -1e-8 * sm.grad).status == "fail"
    # 3) a near-zero entry of a large gradient: CS231n's relative error calls it wrong
    rng = np.random.default_rng(31)
    X, w = rng.standard_normal((6, 3)), rng.standard_normal(3)
    X[:, 0] *= 1e-9
    y = rng.standard_normal(6)

    def f(w):
        return 0.5 * np.sum((X @ w - 1e3 * y) ** 2)

    g = X.T @ (X @ w - 1e3 * y)
    num = _numerical(f, w, 1e-5)
    rel = np.abs(g - num) / np.maximum(np.maximum(np.abs(g), np.abs(num)), 1e-300)
    assert rel.max() > 1e-7  # CS231n threshold: "something is wrong"
    assert check_grad(f, w, g).status == "pass"
