"""Hints and messages (plugins/gradcheck/hints.py): each is said only when the numbers or
the structure support it."""

from __future__ import annotations

import numpy as np
from gradcheck_cases import softmax  # noqa: F401  (puts the plugins on sys.path)

from plugins.gradcheck import render
from plugins.gradcheck.checker import check_grad
from plugins.gradcheck.hints import nice_ratio, shape_hint


def test_sparse_bag_of_words_gradient_is_not_told_f_does_not_change():
    rng = np.random.default_rng(0)
    E, u, doc = rng.standard_normal((10, 3)), rng.standard_normal(3), [1, 4, 4, 7]

    def f(E):
        return float(np.tanh(E[doc].sum(0)) @ u)

    dh = (1 - np.tanh(E[doc].sum(0)) ** 2) * u
    g = np.zeros_like(E)
    np.add.at(g, doc, dh)
    assert check_grad(f, E, g).status == "pass"
    wrong = g.copy()
    wrong[2] = dh  # a word that is not in the document
    res = check_grad(f, E, wrong)
    assert res.status == "fail"
    assert "does not change" not in (res.hint or "") and res.hint == "one row wrong (row 2)"


def test_keepdims_bias_gradient_is_not_told_to_sum_over_the_batch():
    assert "keepdims" in shape_hint((1, 3), (3,))
    assert "not summed over the batch" in shape_hint((5, 3), (3,))
    rng = np.random.default_rng(1)
    b, X = rng.standard_normal(3), rng.standard_normal((5, 3))

    def f(b):
        return float(np.sum(np.tanh(X + b)))

    res = check_grad(f, b, (1 - np.tanh(X + b) ** 2).sum(0, keepdims=True))
    assert res.status == "fail" and "keepdims" in res.hint and "batch" not in res.hint


def test_a_gradient_with_a_nan_says_nothing_was_compared():
    g = np.array([1.0, np.nan, 2.0, 0.5])
    res = check_grad(lambda x: float(np.sum(x)), np.zeros(4), g)
    assert res.status == "fail" and "NaN" in res.message and "nothing was compared" in res.message
    html = render.check_row(res.to_dict(), 1, False)
    assert "(sampled)" not in html and "no entries compared (of 4)" in html


def test_an_integer_gradient_buffer_is_named_with_its_dtype():
    W = np.arange(6).reshape(2, 3)  # an integer parameter, so zeros_like is an int buffer
    g = np.zeros_like(W)
    g[...] = np.cos(W)  # truncated to integers

    def f(W):
        return float(np.sum(np.sin(W)))

    res = check_grad(f, W, g)
    assert res.status == "fail" and f"dtype {g.dtype}" in res.hint
    assert check_grad(f, W, np.cos(W)).status == "pass"


def test_f_raising_only_at_perturbed_points_says_so_and_where():
    x = np.array([1.0, 0.0, 2.0])

    def f(x):
        if np.any(x < 0):
            raise ValueError("negative input to a square root")
        return float(np.sum(x**1.5))

    res = check_grad(f, x, 1.5 * np.sqrt(x))
    assert res.status == "error"
    assert "at a perturbed point (x(1,) −" in res.message and "f(x) itself ran" in res.message


def test_a_ratio_with_no_size_behind_it_is_not_called_a_batch_mean():
    assert nice_ratio(0.25, {}, {3}) == "off by a factor 1/4"
    assert nice_ratio(0.25, {"N": 4}, {3}) == "off by a factor 1/N=4 (batch mean?)"
    assert nice_ratio(6.0, {}, {3}) == "off by a factor 6 (batch mean?)"
    assert nice_ratio(1.37, {}, {3}) is None


def test_the_check_command_shows_no_figures_for_a_failure_before_any_comparison():
    from sitegen_plugins.gradcheck.command import format_row

    row = {"source": "p.md", "line": 3, "kind": "check", "name": "g", "status": "fail",
           "message": "g has 1 non-finite entry (NaN; first at (1,)): nothing was compared",
           "max_rel_err": None, "tolerance": None, "entries_checked": 0, "entries_total": 4}
    text = format_row(row)
    assert "0 of 4" not in text and "n/a" not in text and "nothing was compared" in text


def test_no_integer_buffer_hint_when_no_entry_needs_a_fraction():
    """An int gradient of a max that counts its ties twice fails jointly; truncation is not
    the cause, so the integer-buffer hint would send the author the wrong way."""
    x = np.array([2.0, 2.0, 2.0, 1.0])
    res = check_grad(lambda x: float(np.max(x)), x, np.array([1, 1, 0, 0]))
    assert res.status == "fail"
    assert res.hint is None or "integer" not in res.hint
    res = check_grad(lambda w: float(np.sum(w ** 2) / 4), np.array([1.0, 3.0]),
                     np.array([0, 1]))  # 0.5 and 1.5 truncated
    assert res.status == "fail" and "int64" in (res.hint or "")
