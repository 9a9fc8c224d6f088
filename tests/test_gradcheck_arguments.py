"""The call validated first (plugins/gradcheck/arguments.py): argument mistakes are errors
naming the argument and the signature, never a failed gradient with a math hint."""

from __future__ import annotations

import numpy as np
from gradcheck_cases import softmax  # noqa: F401  (puts the plugins on sys.path)

from plugins.gradcheck.checker import check_grad, check_vjp

rng = np.random.default_rng(0)
W = rng.standard_normal((3, 2))
G = 2 * W


def loss(W):
    return float(np.sum(W**2))


def test_arrays_where_the_function_belongs():
    res = check_grad(W, loss, G)
    assert res.status == "error"
    assert res.message.startswith("check_grad: f must be the loss function, but it is an "
                                  "array of shape 3×2")
    assert "check_grad(f, x, grad, *" in res.message
    assert "scalar" not in res.message


def test_a_function_where_an_array_belongs():
    for args, argument in (((loss, loss, G), "x"), ((loss, W, loss), "grad")):
        res = check_grad(*args)
        assert res.status == "error" and f"{argument} must be an array" in res.message
    res = check_vjp(np.tanh, W, W, loss)
    assert res.status == "error" and "check_vjp(f, x, upstream, grad" in res.message


def test_a_dict_gradient_for_an_array_parameter():
    res = check_grad(loss, W, {"W": G})
    assert res.status == "error" and "grad is a dict of W" in res.message
    assert "is a scalar" not in res.message


def test_the_parameter_passed_as_its_own_gradient():
    res = check_grad(loss, W, W)  # ∂‖W‖²/∂W is 2W, not W
    assert res.status == "error" and "same object as x" in res.message
    # where the parameter really is its gradient (½‖W‖²) that is right, and passes
    assert check_grad(lambda W: 0.5 * float(np.sum(W**2)), W, W).status == "pass"


def test_swapped_x_and_grad_gets_no_batch_mean_hint():
    res = check_grad(loss, G, W)
    assert res.status == "fail" and "batch mean" not in (res.hint or "")


def test_a_string_or_none_where_an_array_belongs_is_an_error_naming_it():
    w = np.array([1.0, 2.0])

    def f(w):
        return float(np.sum(w ** 2))

    for bad in ("dW", None):
        res = check_grad(f, w, bad)
        assert res.status == "error"
        assert "grad must be an array of numbers" in res.message
        assert "signature is check_grad(f, x, grad" in res.message
    res = check_grad(f, "w", 2 * w)
    assert res.status == "error" and "x must be an array of numbers" in res.message
    assert check_grad(f, [1.0, 2.0], [2.0, 4.0]).status == "pass"  # nested lists are fine


def test_bad_tolerances_and_stderr_shapes_are_errors_naming_the_argument():
    w = np.array([1.0, 2.0])

    def f(w):
        return float(np.sum(w ** 2))

    for kw in ({"rtol": "1e-3"}, {"atol": -1.0}, {"rtol": float("nan")}):
        res = check_grad(f, w, 2 * w, **kw)
        assert res.status == "error" and "must be a non-negative number" in res.message
    res = check_grad(f, w, 2 * w, stderr=np.ones(3))
    assert res.status == "error" and "stderr of shape 3 does not fit" in res.message


def test_a_zero_dimensional_parameter_stays_zero_dimensional():
    """float(x) inside f works for a 0-d x; the checker must not hand f a 1-d copy."""
    def f(t):
        return float(t ** 2)

    assert check_grad(f, np.array(3.0), np.array(6.0)).status == "pass"
    assert check_grad(f, np.array(3.0), np.array(3.0)).status == "fail"
