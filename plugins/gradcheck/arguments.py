"""The call itself, validated before any number is compared: argument mistakes are not
math, so they are reported as errors naming the argument and the signature (as torch or
jax raise a TypeError), and cheap, certain failures (keys, shapes, non-finite entries)
come before any call of f.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import montecarlo
from .hints import shape_hint
from .objective import Param, as_float64, eps_of
from .result import CheckResult, early_failure, error_result, fmt_shape, grad_label, wrt_label

SIGNATURES = {
    "check_grad": "check_grad(f, x, grad, *, name=None, eq=None, rtol=None, atol=None, "
                  "stderr=None, cov=None)",
    "check_vjp": "check_vjp(f, x, upstream, grad, *, name=None, eq=None, rtol=None, "
                 "atol=None)",
}


@dataclass
class Call:
    """A validated call: the parameters as float64 working copies, and what messages need."""

    params: list[Param]
    single: bool
    pshape: tuple | dict
    gshape: tuple | dict
    n_total: int
    upstream: np.ndarray | None
    n_sigma: float | None
    cov_of: dict[str | None, np.ndarray]


def shape_of(a: Any) -> tuple[int, ...]:
    return tuple(np.shape(a))


def _what(a: Any) -> str:
    if callable(a) and not isinstance(a, np.ndarray):
        return f"a function ({getattr(a, '__name__', type(a).__name__)})"
    if isinstance(a, np.ndarray):
        return f"an array of shape {fmt_shape(a.shape)}"
    if isinstance(a, Mapping):
        return f"a dict of {', '.join(map(str, a))}"
    return f"a {type(a).__name__}"


def _bad_argument(api: str, argument: str, expected: str, got: Any, extra: str = "") -> str:
    return (f"{api}: {argument} must be {expected}, but it is {_what(got)}{extra}; the "
            f"signature is {SIGNATURES[api]}")


def _numeric(a: Any) -> bool:
    """Numbers, arrays of them, or nested lists of them (not a string, None, an object)."""
    if isinstance(a, str | bytes) or a is None:
        return False
    try:
        kind = np.asarray(a).dtype.kind
    except Exception:
        return False
    return kind in "biufc"


def argument_error(api: str, f: Any, x: Any, grad: Any, upstream: Any) -> str | None:
    """A message for a call whose arguments are in the wrong places, else None."""
    order = " (arguments in the wrong order?)"
    if not callable(f) or isinstance(f, np.ndarray | Mapping):
        return _bad_argument(api, "f", "the loss function", f, order)
    named = [("x", x), ("grad", grad)] + ([("upstream", upstream)] if api == "check_vjp" else [])
    for argument, value in named:
        values = value.values() if isinstance(value, Mapping) else [value]
        if any(callable(v) and not isinstance(v, np.ndarray) for v in values):
            return _bad_argument(api, argument, "an array (or a dict of arrays)", value, order)
        if any(not _numeric(v) for v in values):
            return _bad_argument(api, argument, "an array of numbers (or a dict of them)",
                                 value)
    if not isinstance(x, Mapping) and isinstance(grad, Mapping):
        return (f"{api}: grad is a dict of {', '.join(map(str, grad))} but x is "
                f"{_what(x)}: pass x as a dict with the same keys (f is then called as "
                "f(**x))")
    return None


def tolerance_error(api: str, rtol: Any, atol: Any) -> str | None:
    """A message for an ``rtol=`` or ``atol=`` that is not a non-negative number."""
    for argument, value in (("rtol", rtol), ("atol", atol)):
        if value is None:
            continue
        ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool)
        if not ok or not np.isfinite(value) or value < 0:
            return (f"{api}: {argument} must be a non-negative number, but it is "
                    f"{value!r}; the signature is {SIGNATURES[api]}")
    return None


def same_object(api: str, x: Any, grad: Any) -> str | None:
    """The message for a gradient that is the parameter itself.  That is right for
    ½‖x‖², so it is said only when the check fails."""
    if grad is x and not np.isscalar(x):
        return (f"{api}: grad is the same object as x, and as a gradient it is wrong: pass "
                f"the gradient you computed, not the parameter; the signature is "
                f"{SIGNATURES[api]}")
    if isinstance(x, Mapping) and isinstance(grad, Mapping):
        same = [str(k) for k in x if k in grad and grad[k] is x[k] and not np.isscalar(x[k])]
        if same:
            return (f"{api}: grad[{same[0]!r}] is the same object as x[{same[0]!r}], and as "
                    "a gradient it is wrong: pass the gradient you computed, not the parameter")
    return None


class _Stop(Exception):
    """Ends the check before f is called: an ``error`` (the call) or a ``fail``."""

    def __init__(self, status: str, message: str, hint: str | None = None,
                 method: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.hint, self.method = status, message, hint, method


def _layout(x: Any, grad: Any) -> tuple[dict, dict, tuple | dict, tuple | dict, int]:
    """(parameters, gradients, their shapes, the number of entries), keyed by dict key or
    None for a single array."""
    if not isinstance(x, Mapping):
        xs: dict[str | None, Any] = {None: x}
        gs: dict[str | None, Any] = {None: grad}
        pshape: tuple | dict = shape_of(x)
    else:
        xs, gs = dict(x), dict(grad) if isinstance(grad, Mapping) else {}
        pshape = {str(k): shape_of(v) for k, v in xs.items()}
    gshape: tuple | dict = ({str(k): shape_of(v) for k, v in grad.items()}
                            if isinstance(grad, Mapping) else shape_of(grad))
    try:
        n_total = sum(int(np.size(v)) for v in xs.values())
    except Exception:
        n_total = 0
    return xs, gs, pshape, gshape, n_total


def _check_keys(x: Any, grad: Any, xs: dict, gs: dict) -> None:
    if not isinstance(x, Mapping):
        return
    if not isinstance(grad, Mapping):
        raise _Stop("fail", f"x is a dict of {', '.join(map(str, x))} but the stated "
                    "gradient is not a dict")
    missing = [str(k) for k in xs if k not in gs]
    extra = [str(k) for k in gs if k not in xs]
    parts = []
    if missing:
        parts.append(f"no gradient stated for {', '.join(missing)}")
    if extra:
        parts.append(f"gradient stated for unknown parameter {', '.join(extra)}")
    if parts:
        raise _Stop("fail", "; ".join(parts))


def _check_values(name: str | None, xs: dict, gs: dict) -> None:
    """Shapes, then numbers, then finiteness of each stated gradient."""
    for k, xv in xs.items():
        gv = gs[k]
        ps, gsh = shape_of(xv), shape_of(gv)
        if ps != gsh:
            raise _Stop("fail", f"{grad_label(name, k)} is {fmt_shape(gsh)} but "
                        f"{wrt_label(name, k)} is {fmt_shape(ps)}", shape_hint(gsh, ps))
        try:
            ga = np.asarray(gv, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise _Stop("error", f"{grad_label(name, k)} is not numeric: {exc}") from exc
        if not np.all(np.isfinite(ga)):
            nbad = int(np.size(ga) - np.count_nonzero(np.isfinite(ga)))
            first = np.argwhere(~np.isfinite(ga))[0] if ga.ndim else ()
            kinds = sorted({"NaN" if np.isnan(v) else "inf" for v in ga.reshape(-1)
                            if not np.isfinite(v)})
            raise _Stop("fail", f"{grad_label(name, k)} has {nbad} non-finite "
                        f"entr{'y' if nbad == 1 else 'ies'} ({' and '.join(kinds)}; first at "
                        f"{tuple(int(i) for i in first)}): nothing was compared")


def _standard_errors(
    name: str | None, xs: dict, stderr: Any, cov: Any,
) -> tuple[dict[Any, np.ndarray | None], dict[Any, np.ndarray]]:
    """The Monte Carlo standard error broadcast to each parameter, and the covariance."""
    se_of: dict[Any, np.ndarray | None] = {k: None for k in xs}
    cov_of: dict[Any, np.ndarray] = {}
    if cov is not None:
        sizes = [int(np.size(v)) for v in xs.values()]
        try:
            full = montecarlo.parse_cov(cov, sizes)
        except (TypeError, ValueError) as exc:
            raise _Stop("error", f"cov: {exc}") from exc
        cov_of = dict(montecarlo.split_cov(full, list(xs), sizes))
        if stderr is None:
            stderr = {k: np.sqrt(np.diag(c)).reshape(shape_of(xs[k])) for k, c in cov_of.items()}
    if stderr is None:
        return se_of, cov_of
    for k, xv in xs.items():
        sv = stderr[k] if isinstance(stderr, Mapping) else stderr
        try:
            se = np.broadcast_to(np.asarray(sv, dtype=np.float64), shape_of(xv)).copy()
        except (ValueError, KeyError) as exc:
            raise _Stop("error", f"stderr of shape {fmt_shape(shape_of(sv))} does not fit "
                        f"{wrt_label(name, k)} ({fmt_shape(shape_of(xv))}): {exc}") from exc
        if not np.all(np.isfinite(se)) or np.any(se < 0):
            raise _Stop("error", "stderr must be finite and non-negative")
        se_of[k] = se
    return se_of, cov_of


def _params(name: str | None, xs: dict, gs: dict, se_of: dict) -> list[Param]:
    params = []
    for k, xv in xs.items():
        try:
            base = as_float64(xv)
        except (TypeError, ValueError) as exc:
            raise _Stop("error", f"{wrt_label(name, k)} is not numeric: {exc}") from exc
        params.append(Param(
            key=None if k is None else str(k), base=base, work=base.copy(),
            grad=as_float64(gs[k]), eps_g=eps_of(xv, gs[k]),
            grad_dtype=str(getattr(gs[k], "dtype", np.asarray(gs[k]).dtype)), stderr=se_of[k],
        ))
    return params


def prepare(
    api: str, f: Any, x: Any, grad: Any, upstream: Any, name: str | None, eq: str | None,
    stderr: Any, cov: Any, n_sigma: float | None,
) -> Call | CheckResult:
    """The validated call, or the result that ends the check before f is called."""
    xs, gs, pshape, gshape, n_total = _layout(x, grad)
    try:
        problem = argument_error(api, f, x, grad, upstream)
        if problem:
            raise _Stop("error", problem, method="arguments")
        _check_keys(x, grad, xs, gs)
        _check_values(name, xs, gs)
        se_of, cov_of = _standard_errors(name, xs, stderr, cov)
        params = _params(name, xs, gs, se_of)
    except _Stop as stop:
        if stop.status == "error":
            return error_result(stop.message, name, eq, pshape, gshape, n_total, stop.method)
        return early_failure(stop.message, name, eq, pshape, gshape, n_total, stop.hint)
    monte_carlo = any(se is not None for se in se_of.values())
    if monte_carlo:
        n_sigma = montecarlo.DEFAULT_N_SIGMA if n_sigma is None else float(n_sigma)
    up = None if upstream is None else as_float64(upstream)
    cov_by_key = {(None if k is None else str(k)): c for k, c in cov_of.items()}
    return Call(params, not isinstance(x, Mapping), pshape, gshape, n_total, up,
                n_sigma if monte_carlo else None, cov_by_key)
