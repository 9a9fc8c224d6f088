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
    if not isinstance(x, Mapping) and isinstance(grad, Mapping):
        return (f"{api}: grad is a dict of {', '.join(map(str, grad))} but x is "
                f"{_what(x)}: pass x as a dict with the same keys (f is then called as "
                "f(**x))")
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


def prepare(
    api: str, f: Any, x: Any, grad: Any, upstream: Any, name: str | None, eq: str | None,
    stderr: Any, cov: Any, n_sigma: float | None,
) -> Call | CheckResult:
    """The validated call, or the result that ends the check before f is called."""
    single = not isinstance(x, Mapping)
    problem = argument_error(api, f, x, grad, upstream)
    if single:
        xs: dict[str | None, Any] = {None: x}
        gs: dict[str | None, Any] = {None: grad}
        pshape: tuple | dict = shape_of(x) if not isinstance(x, Mapping) else ()
        gshape: tuple | dict = shape_of(grad) if not isinstance(grad, Mapping) else {
            str(k): shape_of(v) for k, v in grad.items()}
    else:
        xs, gs = dict(x), dict(grad) if isinstance(grad, Mapping) else {}
        pshape = {str(k): shape_of(v) for k, v in xs.items()}
        gshape = ({str(k): shape_of(v) for k, v in gs.items()} if isinstance(grad, Mapping)
                  else shape_of(grad))
    try:
        n_total = sum(int(np.size(v)) for v in xs.values())
    except Exception:
        n_total = 0
    if problem:
        return error_result(problem, name, eq, pshape, gshape, n_total, method="arguments")
    if not single and not isinstance(grad, Mapping):
        return early_failure(
            f"x is a dict of {', '.join(map(str, x))} but the stated gradient is not a dict",
            name, eq, pshape, shape_of(grad), n_total)

    if not single:
        missing = [str(k) for k in xs if k not in gs]
        extra = [str(k) for k in gs if k not in xs]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"no gradient stated for {', '.join(missing)}")
            if extra:
                parts.append(f"gradient stated for unknown parameter {', '.join(extra)}")
            return early_failure("; ".join(parts), name, eq, pshape, gshape, n_total)
    for k, xv in xs.items():
        gv = gs[k]
        ps, gsh = shape_of(xv), shape_of(gv)
        if ps != gsh:
            msg = (f"{grad_label(name, k)} is {fmt_shape(gsh)} but {wrt_label(name, k)} is "
                   f"{fmt_shape(ps)}")
            return early_failure(msg, name, eq, pshape, gshape, n_total, shape_hint(gsh, ps))
        try:
            ga = np.asarray(gv, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            return error_result(f"{grad_label(name, k)} is not numeric: {exc}", name, eq,
                                pshape, gshape, n_total)
        if not np.all(np.isfinite(ga)):
            nbad = int(np.size(ga) - np.count_nonzero(np.isfinite(ga)))
            first = np.argwhere(~np.isfinite(ga))[0] if ga.ndim else ()
            kinds = sorted({"NaN" if np.isnan(v) else "inf" for v in ga.reshape(-1)
                            if not np.isfinite(v)})
            return early_failure(
                f"{grad_label(name, k)} has {nbad} non-finite "
                f"entr{'y' if nbad == 1 else 'ies'} ({' and '.join(kinds)}; first at "
                f"{tuple(int(i) for i in first)}): nothing was compared",
                name, eq, pshape, gshape, n_total,
            )

    # the Monte Carlo standard error, broadcast to each parameter, and the covariance
    se_of: dict[str | None, np.ndarray | None] = {k: None for k in xs}
    cov_of: dict[str | None, np.ndarray] = {}
    if cov is not None:
        try:
            sizes = [int(np.size(v)) for v in xs.values()]
            full = montecarlo.parse_cov(cov, sizes)
        except (TypeError, ValueError) as exc:
            return error_result(f"cov: {exc}", name, eq, pshape, gshape, n_total)
        cov_of = dict(montecarlo.split_cov(full, list(xs), sizes))
        if stderr is None:
            stderr = {k: np.sqrt(np.diag(c)).reshape(shape_of(xs[k])) for k, c in cov_of.items()}
            if single:
                stderr = stderr[None]
    if stderr is not None:
        n_sigma = montecarlo.DEFAULT_N_SIGMA if n_sigma is None else float(n_sigma)
        for k, xv in xs.items():
            sv = stderr[k] if isinstance(stderr, Mapping) else stderr
            try:
                se = np.broadcast_to(np.asarray(sv, dtype=np.float64), shape_of(xv)).copy()
            except (ValueError, KeyError) as exc:
                return early_failure(
                    f"stderr of shape {fmt_shape(shape_of(sv))} does not fit "
                    f"{wrt_label(name, k)} ({fmt_shape(shape_of(xv))}): {exc}",
                    name, eq, pshape, gshape, n_total,
                )
            if not np.all(np.isfinite(se)) or np.any(se < 0):
                return error_result("stderr must be finite and non-negative", name, eq,
                                    pshape, gshape, n_total)
            se_of[k] = se
    else:
        n_sigma = None

    params = []
    for k, xv in xs.items():
        try:
            base = as_float64(xv)
        except (TypeError, ValueError) as exc:
            return error_result(f"{wrt_label(name, k)} is not numeric: {exc}", name, eq,
                                pshape, gshape, n_total)
        params.append(Param(
            key=None if k is None else str(k), base=base, work=base.copy(),
            grad=as_float64(gs[k]), eps_g=eps_of(xv, gs[k]),
            grad_dtype=str(getattr(gs[k], "dtype", np.asarray(gs[k]).dtype)), stderr=se_of[k],
        ))
    up = None if upstream is None else as_float64(upstream)
    cov_by_key = {(None if k is None else str(k)): c for k, c in cov_of.items()}
    return Call(params, single, pshape, gshape, n_total, up, n_sigma, cov_by_key)
