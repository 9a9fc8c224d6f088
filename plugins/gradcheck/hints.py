"""Hints: what the pattern of a failure suggests, said only when the numbers support it.

A hint names a ratio between the stated and the numerical gradient that authors' bugs
produce (sign, factor 2, a batch size), a transposition, a single wrong entry, row or
column, a shape that is a keepdims or batch axis away, or an integer buffer.  Nothing is
said when the failure has no such structure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .differences import norm


def shape_hint(gshape: tuple[int, ...], pshape: tuple[int, ...]) -> str | None:
    if len(gshape) == len(pshape) == 2 and gshape == pshape[::-1]:
        return "transposed?"
    if len(gshape) == len(pshape) + 1 and gshape[1:] == pshape:
        if gshape[0] == 1:
            return ("an extra leading axis of length 1: keepdims=True, or a row vector for "
                    "a 1-D parameter? (the values may be right: reshape or squeeze it)")
        return f"not summed over the batch? (axis 0 of length {gshape[0]})"
    if len(gshape) + 1 == len(pshape) and pshape[1:] == gshape and pshape[0] == 1:
        return "the parameter has a leading axis of length 1 that the gradient lacks"
    if math.prod(gshape) == math.prod(pshape):
        return "same number of entries: reshape?"
    return None


def nice_ratio(r: float, sizes: Mapping[str, int], dims: set[int]) -> str | None:
    """Name a ratio stated/numerical that authors' bugs produce."""
    if not math.isfinite(r) or r == 0:
        return None

    def near(a: float, b: float) -> bool:
        return abs(a - b) <= 1e-3 * abs(b)

    if near(r, -1.0):
        return "sign flipped (ratio -1)"
    if near(r, 2.0):
        return "factor 2 (ratio 2)"
    if near(r, 0.5):
        return "factor ½ (ratio 0.5)"
    for val, inv in ((r, False), (1.0 / r, True)):
        k = round(abs(val))
        if k >= 3 and near(abs(val), k):
            names = [n for n, v in sizes.items() if v == k]
            sign = "-" if val < 0 else ""
            if inv and not names and k not in dims:
                # divided by k where no size of the problem is k: a plain factor
                return f"off by a factor {sign}{'1/' if inv else ''}{k}"
            label = f"{names[0]}={k}" if names else (f"N={k}" if k in dims else str(k))
            return f"off by a factor {sign}{'1/' if inv else ''}{label} (batch mean?)"
    return None


def concentration(bad: np.ndarray, shape2d: tuple[int, int]) -> str | None:
    """Name a single wrong entry, row or column when the failures concentrate there."""
    rows, cols = np.nonzero(bad.reshape(shape2d))
    if len(rows) == 0:
        return None
    if len(rows) == 1:
        if shape2d[0] == 1:
            return f"one entry wrong (entry {int(cols[0])})"
        return f"one entry wrong (row {int(rows[0])}, column {int(cols[0])})"
    # a "column" only means something when there are several columns (and rows for rows)
    if shape2d[1] > 1 and shape2d[0] > 1 and len(set(cols.tolist())) == 1:
        return f"one column wrong (column {int(cols[0])})"
    if shape2d[0] > 1 and shape2d[1] > 1 and len(set(rows.tolist())) == 1:
        return f"one row wrong (row {int(rows[0])})"
    return None


def view2d(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 0:
        return (1, 1)
    if len(shape) == 1:
        return (1, shape[0])
    return (shape[0], math.prod(shape[1:]))


def integer_buffer(grad_dtypes: Mapping[Any, str]) -> str | None:
    """A stated gradient of an integer dtype: values written into it were truncated."""
    ints = [(k, dt) for k, dt in grad_dtypes.items()
            if dt.startswith(("int", "uint")) or dt == "bool"]
    if not ints:
        return None
    key, dtype = ints[0]
    what = "the stated gradient" if key is None else f"the stated gradient of {key}"
    return (f"{what} has dtype {dtype}: an integer buffer (np.zeros_like of an integer "
            "array?) truncates the floats written into it; create it with dtype=float")


def entry_hint(
    failing: Sequence[tuple[Any, Any]], all_verdicts: Sequence[tuple[Any, Any]],
    sizes: Mapping[str, int], full: bool, f_moved: bool,
) -> str | None:
    """A hint from the failing entries (``failing``: (param, verdicts) pairs)."""
    if not failing:
        return None
    g = np.concatenate([v.stated for _, v in failing])
    n = np.concatenate([v.numerical for _, v in failing])
    nn = float(n @ n)
    if nn == 0 and np.any(g != 0):
        if not f_moved:
            return "f does not change when x does: does f use its argument, not a global?"
        return None  # f moves elsewhere: a sparse gradient with entries where f is flat
    if nn > 0:
        # the least-squares ratio stated/numerical over the failing parameters only (W may
        # be off by N while b is right)
        r = float(g @ n) / nn
        if norm(g - r * n) <= 1e-2 * max(norm(g), 1e-300):
            dims = {d for p, _ in all_verdicts for d in p.base.shape}
            named = nice_ratio(r, sizes, dims)
            if named and len(failing) < len(all_verdicts):
                return f"{', '.join(str(p.key) for p, _ in failing)}: {named}"
            if named:
                return named
    if len(failing) != 1:
        return None
    p, v = failing[0]
    if p.base.size == 1:
        return None
    bad = np.zeros(p.base.size, dtype=bool)
    bad[v.idx] = ~v.ok
    if not full:
        # sampled: say where the wrong entries found so far lie, not that there are no others
        where = concentration(bad, view2d(p.base.shape))
        if where is None or int(np.count_nonzero(bad)) < 2:
            return None
        what = where.split("(", 1)[1].rstrip(")")
        key = f"{p.key}: " if p.key is not None and len(all_verdicts) > 1 else ""
        return f"{key}every wrong entry found lies in {what} (sampled)"
    if p.base.ndim == 2 and p.base.shape[0] == p.base.shape[1] > 1:
        gt = p.grad.T.reshape(-1)
        allowed_t = v.rule.allowed(gt, v.numerical, np.zeros_like(gt))
        if np.all(np.abs(gt - v.numerical) <= allowed_t):
            return "transposed (the transpose of the stated gradient matches)"
    where = concentration(bad, view2d(p.base.shape))
    if where and p.key is not None and len(all_verdicts) > 1:
        return f"{p.key}: {where}"
    return where
