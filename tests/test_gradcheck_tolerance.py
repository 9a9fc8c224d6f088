"""The tolerance rule (plugins/gradcheck/tolerance.py): the reference is float64 whatever
the author's precision, the stated gradient's dtype only sets a floor, and gradients below
what the reference resolves are ``inconclusive``, never failed."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck_cases import softmax

from plugins.gradcheck.checker import check_grad
from plugins.gradcheck.tolerance import DEFAULT_RTOL, default_rtol

EPS16 = float(np.finfo(np.float16).eps)
EPS32 = float(np.finfo(np.float32).eps)
EPS64 = float(np.finfo(np.float64).eps)


def test_dtype_floors():
    assert default_rtol(EPS64, EPS64) == DEFAULT_RTOL
    assert default_rtol(EPS32, EPS64) == DEFAULT_RTOL  # 8 ε of float32 is below 1e-5
    assert default_rtol(EPS16, EPS64) == pytest.approx(8 * EPS16)  # ~7.8e-3, not 0.1
    assert default_rtol(EPS64, EPS32) == pytest.approx(100 * EPS32)  # f itself rounds


def _float16_logistic(seed: int):
    rng = np.random.default_rng(seed)
    n, d = 64, 8
    X = rng.standard_normal((n, d)).astype(np.float16)
    y = (rng.random(n) < 0.5).astype(np.float16)
    w = (rng.standard_normal(d) * 0.5).astype(np.float16)

    def f(w):
        z = X @ w
        return np.mean(np.logaddexp(0, z) - y * z)

    p = (1 / (1 + np.exp(-(X @ w)))).astype(np.float16)
    g = (X.T @ (p - y) / np.float16(n)).astype(np.float16)
    return f, w, g


@pytest.mark.parametrize("seed", range(4))
def test_float16_gradient_passes_and_2_4_percent_too_large_fails(seed):
    f, w, g = _float16_logistic(seed)
    ok = check_grad(f, w, g)
    assert ok.status == "pass", ok.message
    assert "reference in float64" in ok.method and "float16" in ok.method
    for factor in (1.024, 1.2):
        res = check_grad(f, w, (g * np.float16(factor)).astype(np.float16))
        assert res.status == "fail", (factor, res.message)
        assert res.tolerance < 0.02  # float16 rounding is ~1e-3 relative, not 20%


def test_float16_mlp_gradient():
    rng = np.random.default_rng(7)
    n, d, h = 64, 8, 16
    X = rng.standard_normal((n, d)).astype(np.float16)
    y = rng.standard_normal(n).astype(np.float16)
    W1 = (rng.standard_normal((d, h)) / 3).astype(np.float16)
    v = (rng.standard_normal(h) / 4).astype(np.float16)

    def f(W1):
        return 0.5 * np.mean((np.tanh(X @ W1) @ v - y) ** 2)

    a = np.tanh(X @ W1)
    e = (a @ v - y) / np.float16(n)
    g = X.T @ ((e[:, None] * v[None, :]) * (1 - a * a))
    assert g.dtype == np.float16
    assert check_grad(f, W1, g).status == "pass"
    assert check_grad(f, W1, (g * np.float16(1.024)).astype(np.float16)).status == "fail"


def test_f_that_casts_to_float16_itself_says_so():
    f, w, g = _float16_logistic(1)

    def f16(w):
        return f(w.astype(np.float16))

    res = check_grad(f16, w, g)
    # a reference computed in float16 cannot tell this gradient from one 20% off: no pass
    assert res.status == "inconclusive"
    assert "f returns float16 even at float64 points" in res.message
    assert "low-precision floats (float16) even at float64 points" in res.method
    assert "rtol widened to 9.8e-02" in res.method
    for factor in (1.024, 1.2, -1.0):
        assert check_grad(f16, w, g * factor).status in ("inconclusive", "fail")


def test_f_in_float32_is_still_verified():
    f, w, g = _float16_logistic(1)

    def f32(w):
        return f(w.astype(np.float32))

    assert check_grad(f32, w.astype(np.float64), g.astype(np.float64)).status == "pass"


def _confident_cross_entropy(margin: float):
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((3, 4)), np.array([0, 2, 1])
    z[np.arange(3), y] += margin
    rows = np.arange(3)

    def f(z):
        return float(-np.mean(np.log(softmax(z)[rows, y])))

    g = softmax(z)
    g[rows, y] -= 1
    return f, z, g / 3


@pytest.mark.parametrize("margin", [45.0, 32.0])
def test_below_resolution_is_inconclusive_not_failed(margin):
    f, z, g = _confident_cross_entropy(margin)
    assert np.abs(g).max() < 1e-13  # ~1e-20 (the loss is exactly 0) and ~1e-14
    res = check_grad(f, z, g)
    assert res.status == "inconclusive", res.message
    assert not res
    assert res.message.startswith("cannot verify here: the loss does not change in float64")
    assert "less confident logits" in res.message
    assert res.hint is None  # no "does f use its argument?" for a correct gradient


def test_resolved_tiny_loss_still_fails_when_wrong():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(5)

    def f(x):
        return 1e-12 * float(np.sum(x**2))  # tiny, but computed to full precision

    assert check_grad(f, x, 2e-12 * x).status == "pass"
    assert check_grad(f, x, 4e-12 * x).status == "fail"


def test_f_ignoring_its_argument_still_fails_at_ordinary_size():
    f, z, g = _confident_cross_entropy(3.0)
    frozen = z.copy()
    res = check_grad(lambda _: f(frozen), z, g)
    assert res.status == "fail" and "argument" in (res.hint or "")


def test_tiny_parameters_are_judged_with_steps_f_can_resolve():
    """All entries ~1e-8 and f ~ 4: steps scaled to the entries leave only rounding noise,
    which once let a gradient of the wrong sign pass.  Larger steps resolve it."""
    w = np.array([1e-8, -3e-9, 0.0, 2e-7])

    def f(w):
        return float(np.sum(np.cos(w) + w ** 2))

    assert check_grad(f, w, -np.sin(w) + 2 * w).status == "pass"
    res = check_grad(f, w, -np.sin(w) - 2 * w)
    assert res.status == "fail"
