"""Complex-step derivatives: f'(x)·e = Im f(x + i·h·e) / h, free of cancellation, so they
resolve gradients far below what a difference in float64 can see (a loss that rounds to 0).

Used only where differences cannot decide (``inconclusive``), and only when f is
complex-safe: it accepts complex input, its real part at x equals f(x), two very different
steps give the same derivative, and where differences did resolve an entry the complex
step agrees with them; f must also keep the imaginary part (abs or a cast to float drop
it).  A complex-step disagreement never fails a check on its own (a comparison inside f can
break the method silently); it only keeps the check inconclusive.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from .objective import EPS64, Objective, Param

STEPS = (1e-20, 1e-40)  # relative to the entry's size; the derivative must not depend on it


def _call(obj: Objective, arrays: Mapping[str | None, np.ndarray]) -> complex | None:
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a cast to float inside f warns; refused below
            out = obj.f(arrays[None]) if obj.single else obj.f(**arrays)
            arr = np.asarray(out)
            if not np.iscomplexobj(arr):
                return None  # f dropped the imaginary part (abs, a cast to float …)
            if obj.upstream is not None:
                if arr.shape != obj.upstream.shape:
                    return None
                return complex(np.sum(obj.upstream * arr))
            if arr.size != 1:
                return None
            return complex(arr.reshape(-1)[0])
    except Exception:
        return None  # not complex-safe: the method is simply unavailable


def derivatives(obj: Objective, p: Param, idx: np.ndarray, f0: float) -> np.ndarray | None:
    """Complex-step derivatives of f along the entries ``idx`` of ``p``; None where f is not
    complex-safe (the whole answer, then: a partial one would mislead)."""
    arrays = {q.key: q.base.astype(np.complex128) for q in obj.params}
    at_x = _call(obj, arrays)
    if at_x is None or not np.isfinite(at_x) or at_x.imag != 0:
        return None
    if abs(at_x.real - f0) > 1e4 * EPS64 * max(abs(f0), 1.0):
        return None  # f takes another path for complex input
    work = arrays[p.key].reshape(-1)
    out = np.empty(len(idx))
    for k, i in enumerate(idx):
        x0 = work[i]
        found = []
        for rel in STEPS:
            h = rel * max(abs(x0.real), 1.0)
            work[i] = x0 + 1j * h
            value = _call(obj, arrays)
            work[i] = x0
            if value is None or not np.isfinite(value):
                return None
            found.append(value.imag / h)
        a, b = found
        if abs(a - b) > 1e-8 * max(abs(a), abs(b)) and abs(a - b) > 0:
            return None  # the step matters: f is not analytic in this entry
        out[k] = a
    return out


def trusted(cs: np.ndarray, reference: np.ndarray, allowed: np.ndarray) -> bool:
    """Cross-validation: where a difference resolved an entry, the complex step agrees."""
    return bool(np.all(np.abs(cs - reference) <= allowed))
