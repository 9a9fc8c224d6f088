"""Ties and kinks (plugins/gradcheck/kinks.py): a stated gradient at a point where f is not
differentiable must agree with f along joint directions, so double-counted and dropped
ties fail while every conventional choice passes."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck_cases import softmax  # noqa: F401  (puts the plugins on sys.path)

from plugins.gradcheck.checker import check_grad
from plugins.gradcheck.kinks import tie_groups


def _pooling_case(seed: int):
    """2×2 max pooling of a 4×6 map with integer values, so windows have ties."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, size=(4, 6)).astype(float)
    upstream = rng.standard_normal((2, 3))

    def windows(a):
        return a.reshape(2, 2, 3, 2).transpose(0, 2, 1, 3).reshape(2, 3, 4)

    def f(x):
        return float(np.sum(upstream * windows(x).max(axis=2)))

    w = windows(x)
    tied = w == w.max(axis=2, keepdims=True)
    first = np.zeros_like(w)
    first[np.arange(2)[:, None], np.arange(3)[None, :], w.argmax(axis=2)] = 1
    n_tied = tied.sum(axis=2, keepdims=True)

    def grad(mask):
        return (mask * upstream[:, :, None]).reshape(2, 3, 2, 2).transpose(0, 2, 1, 3) \
            .reshape(4, 6)

    variants = {
        "first index wins": grad(first),
        "split equally": grad(tied / n_tied),
        "last index wins": grad(np.flip(np.cumsum(np.flip(tied, 2), 2) == 1, 2) * tied),
        "double counted (x == x.max())": grad(tied.astype(float)),
        "dropped at tied windows": grad(first * (n_tied == 1)),
    }
    return f, x, variants, int(np.count_nonzero(n_tied > 1))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_max_pooling_ties_conventions_pass_double_counting_and_dropping_fail(seed):
    f, x, variants, n_tied_windows = _pooling_case(seed)
    assert n_tied_windows >= 1  # the case is about ties
    for label in ("first index wins", "split equally", "last index wins"):
        res = check_grad(f, x, variants[label])
        assert res.status == "pass", (label, res.message)
    for label in ("double counted (x == x.max())", "dropped at tied windows"):
        res = check_grad(f, x, variants[label])
        assert res.status == "fail", (label, res.message)
        assert "moved together" in res.message and "tie counted" in res.message


def _hinge_case(seed: int):
    """Crammer–Singer multiclass hinge at W = 0: every runner-up logit is tied."""
    rng = np.random.default_rng(seed)
    n, d, k = 5, 4, 4
    X, y = rng.standard_normal((n, d)), rng.integers(0, k, n)
    W = np.zeros((d, k))
    rows = np.arange(n)

    def f(W):
        s = X @ W
        others = s.copy()
        others[rows, y] = -np.inf
        return float(np.mean(np.maximum(0, 1 + others.max(axis=1) - s[rows, y])))

    others = (X @ W).copy()
    others[rows, y] = -np.inf
    runner = others == others.max(axis=1, keepdims=True)
    one = np.zeros((n, k))
    one[rows, others.argmax(axis=1)] = 1
    one[rows, y] -= 1
    every = runner.astype(float)
    every[rows, y] -= 1
    split = runner / runner.sum(axis=1, keepdims=True)
    split[rows, y] -= 1
    return f, W, {"one runner-up": X.T @ one / n, "split": X.T @ split / n,
                  "every runner-up": X.T @ every / n}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multiclass_hinge_at_zero_with_tied_runners_up(seed):
    f, W, variants = _hinge_case(seed)
    assert check_grad(f, W, variants["one runner-up"]).status == "pass"
    assert check_grad(f, W, variants["split"]).status == "pass"
    res = check_grad(f, W, variants["every runner-up"])
    assert res.status == "fail", res.message
    assert "at a kink" in res.method and "joint directions" in res.method


def test_the_row_says_it_checked_at_a_kink_and_how():
    f, x, variants, _ = _pooling_case(0)
    res = check_grad(f, x, variants["first index wins"])
    assert res.status == "pass"
    assert "at a kink" in res.method and "subgradients" in res.method
    assert "through tied entries moved together" in res.method


def test_global_max_with_a_tie():
    z = np.array([1.0, 3.0, 3.0, 2.0])

    def f(z):
        return float(np.max(z))

    for g in ([0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0.5, 0.5, 0]):
        assert check_grad(f, z, np.array(g)).status == "pass", g
    for g in ([0, 1.0, 1.0, 0], [0, 0, 0, 0]):
        assert check_grad(f, z, np.array(g, dtype=float)).status == "fail", g


def test_relu_at_exact_zeros_accepts_either_convention():
    x = np.array([0.0, 0.0, 1.5, -2.0, 0.0])
    u = np.array([1.0, -2.0, 0.5, 3.0, 0.7])

    def f(x):
        return float(u @ np.maximum(x, 0))

    assert check_grad(f, x, u * (x > 0)).status == "pass"
    assert check_grad(f, x, u * (x >= 0)).status == "pass"
    assert check_grad(f, x, 2 * u * (x >= 0)).status == "fail"


def test_tie_groups_are_exact_equalities_largest_first():
    x = np.array([[1.0, 2.0, 1.0], [3.0, 2.0, 1.0]])
    groups = tie_groups(x)
    assert [g.tolist() for g in groups] == [[0, 2, 5], [1, 4]]
    assert tie_groups(np.arange(5.0)) == []


def test_float32_pooling_ties_are_judged_too():
    f, x, variants, _ = _pooling_case(1)
    x32 = x.astype(np.float32)
    assert check_grad(f, x32, variants["first index wins"].astype(np.float32)).status == "pass"
    double = variants["double counted (x == x.max())"].astype(np.float32)
    assert check_grad(f, x32, double).status == "fail"
