"""Complex-step derivatives (plugins/gradcheck/complexstep.py): where differences cannot
resolve a gradient and f is complex-safe, the check is settled instead of given up; a
complex-step disagreement never fails a check on its own."""

from __future__ import annotations

import numpy as np
from gradcheck_cases import softmax  # noqa: F401  (puts the plugins on sys.path)

from plugins.gradcheck import complexstep
from plugins.gradcheck.arguments import prepare
from plugins.gradcheck.checker import check_grad
from plugins.gradcheck.objective import Objective, first_call


def _saturated_logistic():
    """Margins of 60: log(1 + exp(−60)) is exactly 0 in float64, the gradient ~1e-27."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 3)), np.sign(rng.standard_normal(6))
    w = np.linalg.lstsq(X, y, rcond=None)[0]
    w *= 60 / np.min(y * (X @ w))

    def f(w):
        return np.mean(np.log(1 + np.exp(-y * (X @ w))))

    m = y * (X @ w)
    g = -X.T @ (y * np.exp(-m) / (1 + np.exp(-m))) / 6
    return f, w, g


def test_complex_step_verifies_what_differences_cannot():
    f, w, g = _saturated_logistic()
    assert f(w) == 0.0 and 0 < np.abs(g).max() < 1e-20
    res = check_grad(f, w, g)
    assert res.status == "pass", res.message
    assert "complex-step" in res.method and "complex-step" in res.message


def test_complex_step_disagreement_stays_inconclusive():
    f, w, g = _saturated_logistic()
    for wrong in (2 * g, -g):
        assert check_grad(f, w, wrong).status == "inconclusive"


def test_not_complex_safe_functions_are_refused():
    x = np.array([0.5, -1.5, 2.0])

    def uses_abs(x):
        return float(np.sum(np.abs(x)))  # float() of a complex raises: not complex-safe

    call = prepare("check_grad", uses_abs, x, np.sign(x), None, None, None, None, None, None)
    obj = Objective(uses_abs, call.params, True)
    f0 = first_call(obj, False)
    assert complexstep.derivatives(obj, call.params[0], np.arange(3), f0) is None

    def smooth(x):
        return np.sum(np.sin(x) * x)

    call = prepare("check_grad", smooth, x, x, None, None, None, None, None, None)
    obj = Objective(smooth, call.params, True)
    f0 = first_call(obj, False)
    cs = complexstep.derivatives(obj, call.params[0], np.arange(3), f0)
    assert cs is not None and np.allclose(cs, np.cos(x) * x + np.sin(x), rtol=1e-14)
