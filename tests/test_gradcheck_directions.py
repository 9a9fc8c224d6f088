"""Blocks and directions (plugins/gradcheck/directions.py): every entry of a large
parameter is covered by one directional derivative over a disjoint block, so a 1e-3 error
in any single entry of median size fails, and is named."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck_cases import softmax  # noqa: F401  (puts the plugins on sys.path)

from plugins.gradcheck.checker import check_grad
from plugins.gradcheck.directions import BLOCK_SIZE, MAX_BLOCKS, blocks


def test_blocks_partition_every_index():
    rng = np.random.default_rng(0)
    for size in (150, 2001, 100_172, 250_000):
        parts = blocks(size, rng)
        flat = np.concatenate(parts)
        assert np.array_equal(np.sort(flat), np.arange(size))  # disjoint, covering
        assert len(parts) == min(MAX_BLOCKS, -(-size // BLOCK_SIZE))


def _quadratic():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((316, 317))  # 100,172 entries
    c = rng.random(x.shape) + 0.5

    def f(x):
        return 0.5 * float(np.sum(c * x * x))

    return f, x, c * x


@pytest.mark.parametrize("offset", [0, 1, 2, 3])
def test_a_1e3_error_in_one_median_entry_of_1e5_fails_and_is_named(offset):
    f, x, g = _quadratic()
    order = np.argsort(np.abs(g).reshape(-1))
    i = int(order[g.size // 2 + 997 * offset])  # a median-size entry
    wrong = g.copy()
    wrong.flat[i] *= 1 + 1e-3
    res = check_grad(f, x, wrong, seed=offset)
    assert res.status == "fail", res.message
    assert res.worst and res.worst[0].index == tuple(int(v) for v in np.unravel_index(i, g.shape))


def test_the_row_says_what_was_covered():
    f, x, g = _quadratic()
    res = check_grad(f, x, g)
    assert res.status == "pass"
    assert res.method.startswith("sampled: every entry in 1,000 blocks of 100 + 8 random "
                                 "directions + the stated gradient's own")
    assert res.n_checked < res.n_total


def test_a_uniform_small_scale_error_fails_through_the_own_direction():
    f, x, g = _quadratic()
    res = check_grad(f, x, g * (1 + 1e-4))
    assert res.status == "fail"
