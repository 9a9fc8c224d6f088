"""Properties of the whole checker over random inputs: correct gradients of random
compositions never fail, and a random single-entry perturbation is always caught."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from gradcheck_cases import softmax  # noqa: F401  (puts the plugins on sys.path)

from plugins.gradcheck.checker import check_grad

# elementwise maps with their derivatives, on moderate inputs
ELEMENTWISE: dict[str, tuple[Callable, Callable]] = {
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "sin": (np.sin, np.cos),
    "softplus": (lambda z: np.logaddexp(0, z), lambda z: 1 / (1 + np.exp(-z))),
    "square": (lambda z: z * z, lambda z: 2 * z),
    "exp": (lambda z: np.exp(0.5 * z), lambda z: 0.5 * np.exp(0.5 * z)),
}


def random_composition(seed: int, shape: tuple[int, int]):
    """f(X) = Σ c ⊙ φ_k(… φ_1(X A_1 + b_1) … A_k + b_k) for random layers, and its
    gradient by backpropagation through the same layers."""
    rng = np.random.default_rng(seed)
    n, d = shape
    layers = []
    width = d
    for _ in range(int(rng.integers(1, 4))):
        out = int(rng.integers(2, 6))
        name = str(rng.choice(list(ELEMENTWISE)))
        layers.append((rng.standard_normal((width, out)) / np.sqrt(width),
                       0.3 * rng.standard_normal(out), name))
        width = out
    c = rng.standard_normal((n, width))
    X = rng.standard_normal((n, d))

    def f(X):
        a = X
        for A, b, name in layers:
            a = ELEMENTWISE[name][0](a @ A + b)
        return float(np.sum(c * a))

    acts, pre = [X], []
    for A, b, name in layers:
        pre.append(acts[-1] @ A + b)
        acts.append(ELEMENTWISE[name][0](pre[-1]))
    delta = c
    for (A, _, name), z in zip(reversed(layers), reversed(pre), strict=True):
        delta = (delta * ELEMENTWISE[name][1](z)) @ A.T
    return f, X, delta


SEEDS = range(40)


@pytest.mark.parametrize("seed", SEEDS)
def test_correct_gradients_of_random_compositions_never_fail(seed):
    rng = np.random.default_rng(1000 + seed)
    shape = (int(rng.integers(1, 7)), int(rng.integers(1, 7)))
    f, X, g = random_composition(seed, shape)
    res = check_grad(f, X, g, seed=seed)
    assert res.status == "pass", (seed, res.message)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_single_entry_perturbations_are_caught(seed):
    rng = np.random.default_rng(2000 + seed)
    shape = (int(rng.integers(1, 7)), int(rng.integers(1, 7)))
    f, X, g = random_composition(seed, shape)
    big = np.flatnonzero(np.abs(g) >= np.median(np.abs(g)))
    i = int(rng.choice(big))
    wrong = g.copy()
    wrong.flat[i] *= 1 + float(rng.choice([1e-3, -1e-3, 1e-2, 0.5]))
    res = check_grad(f, X, wrong, seed=seed)
    assert res.status == "fail", (seed, i, res.message)
    assert res.worst[0].index == tuple(int(v) for v in np.unravel_index(i, g.shape))


@pytest.mark.parametrize("seed", range(3))
def test_large_random_compositions_pass_and_catch_one_entry(seed):
    f, X, g = random_composition(seed, (60, 50))  # 3,000 entries: covered by blocks
    assert check_grad(f, X, g, seed=seed).status == "pass"
    rng = np.random.default_rng(seed)
    order = np.argsort(np.abs(g).reshape(-1))
    i = int(order[g.size // 2 + int(rng.integers(0, g.size // 2))])
    wrong = g.copy()
    wrong.flat[i] *= 1 + 1e-3
    res = check_grad(f, X, wrong, seed=seed)
    assert res.status == "fail", res.message
