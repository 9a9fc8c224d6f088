"""The numerics of gradient checking: is a stated gradient the derivative of a function?

Pure numpy, no I/O. ``check_grad`` and ``check_vjp`` return a ``CheckResult`` that the
worker serialises (``to_dict``) and the renderer turns into badges, tables and heat maps.

How an entry is judged (the rule that must pass every correct gradient and fail the
realistic wrong ones):

* The numerical derivative is a central difference in float64 with a step scaled to the
  entry (``h = eps**(1/3) * max(|x_i|, s)``).  Its uncertainty comes from the rounding
  noise of ``f`` (``eps_f * |f| / h``) and, when an entry is looked at closely, from
  comparing two step sizes (Richardson).
* An entry passes when ``|stated - numerical| <= rtol * (max(|stated|, |numerical|) +
  1e-3 * scale) + 2 * uncertainty + 100 * eps_grad * scale``, where ``scale`` is the largest
  gradient entry of that parameter.  Near-zero entries are therefore judged relative to
  the gradient's scale (unlike a pure relative error), while entries of ordinary size are
  held to ``rtol`` = 1e-5 relative (unlike a fixed ``atol``, which lets tiny losses through).
* Entries that fail the quick look are examined again with Richardson (steps h and 2h).
  If ``f`` is smooth there, that verdict stands.  If it visibly is not (the two steps or the
  two sides disagree by a fair part of the discrepancy), a kink lies within the step and
  steps 100 and 10,000 times smaller are tried; a kink closer than the smallest step counts
  as "at x", where the stated value passes if it lies between the one-sided slopes (a
  subgradient, as ReLU and hinge code computes).  A step that straddles a kink never
  decides a pass, and the small steps' rounding noise never excuses an error where f is
  smooth.  float32 gradients also pass as ε-subgradients (between slopes seen within up to
  100 steps), since float32 code may see a point 1e-8 from a kink on the other side.
* Large parameters are sampled: every entry belongs to one of ~sqrt(n) (<= 128) groups,
  each checked as one directional derivative (a sparse ±1 direction, so every row and
  column is covered and a 1e-3 error in one typical entry still moves its group's sum past
  the tolerance); plus random single entries, dense random directions, and the stated
  gradient's own direction, which catches any uniform scale or sign error at once.  The
  entries of a failing group are then checked one by one to name the worst.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_RTOL = 1e-5
DEFAULT_N_SIGMA = 4.0
SAMPLE_ABOVE = 2000  # entries of one parameter above which it is sampled
SAMPLE_ABOVE_IN_LARGE = 128  # ... or, when all parameters together exceed SAMPLE_ABOVE
N_RANDOM_ENTRIES = 32  # entries of a sampled parameter checked one by one
MAX_GROUPS = 128  # every entry of a sampled parameter lies in one of ~sqrt(n) group sums
N_DIRECTIONS = 4  # dense random directions, besides the stated gradient's own
MAX_BISECT = 4  # failing groups halved down to their culprit entries
BISECT_TO = 4  # ... until this few entries remain, which are then checked one by one
CONFIRMED_ENOUGH = 16  # refined failures after which the check's failure is settled
MAX_REFINE = 256  # failing entries examined closely, to bound the cost of a wrong gradient
NOISE_FACTOR = 8.0  # rounding noise of f, in units of eps_f * |f|
GRAD_EPS_FACTOR = 100.0  # rounding error allowed in the author's gradient, in eps * scale
SCALE_FLOOR = 1e-3  # entries below this fraction of the scale are judged against the scale
SMALLER_STEPS = (1e-2, 1e-4)  # retries when the base step straddles a kink
LOW_PRECISION_WIDER_STEPS = (10.0, 100.0)  # where a float32 gradient's kink may hide
N_WORST = 5
LOW_PRECISION_EPS = 1e-10  # an author's dtype with a larger epsilon than this is float32 or less


@dataclass
class Entry:
    """One checked entry of a gradient (``key`` names the parameter for dict inputs)."""

    index: tuple[int, ...]
    stated: float
    numerical: float
    rel_err: float
    key: str | None = None


@dataclass
class CheckResult:
    """The outcome of one check, as shown to readers."""

    status: str  # "pass" | "fail" | "error"
    name: str | None
    eq: str | None
    message: str
    max_rel_err: float  # worst error measure (relative error, or deviation in SE) ...
    tolerance: float  # ... and the threshold it was held to
    n_checked: int
    n_total: int
    param_shape: tuple | dict
    grad_shape: tuple | dict
    worst: list[Entry] = field(default_factory=list)
    error_map: np.ndarray | None = None  # per-entry relative error, 2-D view
    hint: str | None = None
    stderr: float | None = None
    method: str = ""
    map_key: str | None = None  # which parameter ``error_map`` belongs to (dict inputs)

    def __bool__(self) -> bool:
        return self.status == "pass"

    def to_dict(self) -> dict:
        """A JSON-safe dict (non-finite floats become None, arrays nested lists)."""
        return {
            "status": self.status,
            "name": self.name,
            "eq": self.eq,
            "message": self.message,
            "max_rel_err": _json_float(self.max_rel_err),
            "tolerance": _json_float(self.tolerance),
            "n_checked": int(self.n_checked),
            "n_total": int(self.n_total),
            "param_shape": _json_shape(self.param_shape),
            "grad_shape": _json_shape(self.grad_shape),
            "worst": [
                {
                    "index": [int(i) for i in e.index],
                    "stated": _json_float(e.stated),
                    "numerical": _json_float(e.numerical),
                    "rel_err": _json_float(e.rel_err),
                    "key": e.key,
                }
                for e in self.worst
            ],
            "error_map": (
                None
                if self.error_map is None
                else [[_json_float(v) for v in row] for row in self.error_map.tolist()]
            ),
            "map_key": self.map_key,
            "hint": self.hint,
            "stderr": _json_float(self.stderr),
            "method": self.method,
        }


def _json_float(v: float | None) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _json_shape(shape: tuple | dict) -> list | dict:
    if isinstance(shape, dict):
        return {k: [int(d) for d in s] for k, s in shape.items()}
    return [int(d) for d in shape]


# --------------------------------------------------------------------------- helpers


class _UserCodeError(Exception):
    """The author's function misbehaved; the message is shown as the check's error."""


class _Unresolvable(Exception):
    """f is not finite near the point, so no step size gives a derivative."""


def _fmt_shape(shape: tuple[int, ...]) -> str:
    if len(shape) == 0:
        return "a scalar"
    return "×".join(str(d) for d in shape)


def _fmt_num(v: float) -> str:
    return f"{v:.6g}"


def _wrt_label(name: str | None, key: str | None) -> str:
    """The parameter's name for messages: the dict key, or what follows ∂ in the name."""
    if key is not None:
        return key
    if name and "/∂" in name:
        return name.rsplit("/∂", 1)[1].strip() or "x"
    return "x"


def _grad_label(name: str | None, key: str | None) -> str:
    if key is not None:
        return f"∂L/∂{key}" if not name else f"{name}[{key}]"
    return name or "the gradient"


def _eps_of(*arrays: Any) -> float:
    """Machine epsilon of the least precise floating dtype among the author's arrays."""
    eps = float(np.finfo(np.float64).eps)
    for a in arrays:
        dt = getattr(a, "dtype", None)
        if dt is not None and np.issubdtype(dt, np.floating):
            eps = max(eps, float(np.finfo(dt).eps))
    return eps


def _as_float64(a: Any) -> np.ndarray:
    """A fresh float64 copy, so the caller's arrays are never touched."""
    arr = np.array(a, dtype=np.float64, copy=True)
    return np.ascontiguousarray(arr)


@dataclass
class _Param:
    """One parameter being checked: its working copy (perturbed in place) and its grad."""

    key: str | None
    base: np.ndarray  # pristine float64 copy
    work: np.ndarray  # what f sees; perturbed and restored
    grad: np.ndarray
    eps_g: float
    stderr: np.ndarray | None = None
    n_sigma: float | None = None

    @property
    def flat(self) -> np.ndarray:
        return self.work.reshape(-1)


@dataclass
class _Objective:
    """Calls the author's f on the working arrays and returns (value, magnitude)."""

    f: Callable[..., Any]
    params: list[_Param]
    single: bool
    upstream: np.ndarray | None = None  # for check_vjp: value = sum(upstream * f(x))
    eps_f: float = float(np.finfo(np.float64).eps)

    def raw(self) -> Any:
        try:
            if self.single:
                return self.f(self.params[0].work)
            return self.f(**{p.key: p.work for p in self.params})
        except Exception as exc:  # the author's code: report, never crash the build
            raise _UserCodeError(f"f raised {type(exc).__name__}: {exc}") from exc

    def __call__(self) -> tuple[float, float]:
        out = self.raw()
        if self.upstream is None:
            v = float(np.asarray(out, dtype=np.float64).reshape(-1)[0])
            return v, abs(v)
        arr = np.asarray(out, dtype=np.float64)
        if arr.shape != self.upstream.shape:
            raise _UserCodeError(
                f"f's output changed shape to {_fmt_shape(arr.shape)} when x was perturbed"
            )
        terms = self.upstream * arr
        return float(terms.sum()), float(np.abs(terms).sum())


def _first_call(obj: _Objective, vjp: bool) -> float:
    """Evaluate f at x once, validating what it returns; the (scalar) value at x."""
    out = obj.raw()
    arr = np.asarray(out)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
            or arr.dtype == np.bool_):
        raise _UserCodeError(f"f returned {type(out).__name__} of dtype {arr.dtype}, not numbers")
    if np.issubdtype(arr.dtype, np.floating):
        obj.eps_f = max(obj.eps_f, float(np.finfo(arr.dtype).eps))
    if vjp:
        assert obj.upstream is not None
        if arr.shape != obj.upstream.shape:
            raise _UserCodeError(
                f"upstream is {_fmt_shape(obj.upstream.shape)} but f(x) is "
                f"{_fmt_shape(arr.shape)}; they must have the same shape"
            )
    elif arr.size != 1:
        raise _UserCodeError(
            f"f returned an array of shape {_fmt_shape(arr.shape)}, not a scalar: check_grad "
            "needs a scalar loss (for a layer's backward pass use check_vjp)"
        )
    if not np.all(np.isfinite(arr)):
        raise _UserCodeError(f"f(x) is not finite ({_fmt_num(float(arr.reshape(-1)[0]))})")
    for p in obj.params:  # f must not change its argument: we perturb it and restore it
        if not np.array_equal(p.work, p.base):
            raise _UserCodeError(f"f modified its argument {p.key or 'x'} in place")
    # a loss that draws fresh random numbers (a dropout mask, a minibatch) has no derivative
    # to compare with: say so instead of reporting noise as a wrong gradient
    again, mag = obj()
    vals = arr.astype(np.float64).reshape(-1)
    f0 = float(vals[0]) if not vjp else float(np.sum(obj.upstream * arr.astype(np.float64)))
    if abs(again - f0) > 1e-9 * max(mag, abs(f0)):
        raise _UserCodeError(
            f"f is not deterministic: two calls at the same x gave {_fmt_num(f0)} and "
            f"{_fmt_num(again)} (fix the random mask or seed inside f)"
        )
    return f0


def _shape_hint(gshape: tuple[int, ...], pshape: tuple[int, ...]) -> str | None:
    if len(gshape) == len(pshape) == 2 and gshape == pshape[::-1]:
        return "transposed?"
    if len(gshape) == len(pshape) + 1 and gshape[1:] == pshape:
        return f"not summed over the batch? (axis 0 of length {gshape[0]})"
    if math.prod(gshape) == math.prod(pshape):
        return "same number of entries: reshape?"
    return None


def _norm(a: np.ndarray) -> float:
    # plain reduction rather than BLAS: steady timings on a busy machine
    return math.sqrt(float(np.sum(np.square(a))))


def _step_base(eps_f: float) -> float:
    return eps_f ** (1.0 / 3.0)


def _typical_scale(x: np.ndarray) -> float:
    """Scale used for the step of entries near zero: the parameter's rms, at most 1."""
    if x.size == 0:
        return 1.0
    rms = float(np.sqrt(np.mean(x * x)))
    return min(1.0, rms) if rms > 0 else 1.0


# --------------------------------------------------------------------------- derivatives


@dataclass
class _Estimate:
    value: float  # numerical derivative
    unc: float  # its uncertainty
    lo: float = math.nan  # one-sided slopes (kink interval), when computed
    hi: float = math.nan
    spread: float = 0.0  # |D(h) − D(2h)|: large when a kink lies within 2h
    noise: float = 0.0  # rounding noise of a central difference at this step
    sides: tuple[float, ...] = ()  # one-sided slopes seen near x (for ε-subgradients)


# ``ev(s)`` evaluates (value, magnitude) of f at x + s·e for a signed step s along one
# entry or one direction e; both kinds of check share the estimators below.
_Eval = Callable[[float], tuple[float, float]]


def _entry_eval(obj: _Objective, p: _Param, i: int) -> _Eval:
    flat = p.flat
    x0 = float(p.base.reshape(-1)[i])

    def ev(s: float) -> tuple[float, float]:
        flat[i] = x0 + s
        try:
            return obj()
        finally:
            flat[i] = x0  # restore exactly, not by subtraction

    return ev


def _dir_eval(obj: _Objective, p: _Param, v: np.ndarray) -> _Eval:
    def ev(s: float) -> tuple[float, float]:
        np.add(p.base, s * v, out=p.work)  # in place: f keeps seeing the same array
        try:
            return obj()
        finally:
            p.work[...] = p.base

    return ev


def _quick(ev: _Eval, h: float, eps_f: float) -> _Estimate:
    """Plain central difference; uncertainty from rounding noise only."""
    (fp, mp), (fm, mm) = ev(h), ev(-h)
    if not (math.isfinite(fp) and math.isfinite(fm)):
        raise _Unresolvable
    return _Estimate((fp - fm) / (2 * h), NOISE_FACTOR * eps_f * max(mp, mm) / (2 * h))


def _careful(ev: _Eval, h: float, f0: float, eps_f: float) -> _Estimate:
    """Richardson from steps h and 2h, and the one-sided slopes for kinks."""
    vals = [ev(s) for s in (h, -h, 2 * h, -2 * h)]
    fp, fm, fp2, fm2 = (v for v, _ in vals)
    if not all(math.isfinite(v) for v in (fp, fm, fp2, fm2)):
        raise _Unresolvable
    d1 = (fp - fm) / (2 * h)
    d2 = (fp2 - fm2) / (4 * h)
    noise = NOISE_FACTOR * eps_f * max(m for _, m in vals) / (2 * h)
    # one-sided slopes extrapolated to h -> 0 (2·F(h) − F(2h) cancels the curvature term),
    # so for a smooth f they coincide and only a kink right at x opens an interval
    f1, b1 = (fp - f0) / h, (f0 - fm) / h
    fwd = 2 * f1 - (fp2 - f0) / (2 * h)
    bwd = 2 * b1 - (f0 - fm2) / (2 * h)
    return _Estimate(
        value=d1 + (d1 - d2) / 3.0, unc=abs(d1 - d2) + 2 * noise,
        lo=min(fwd, bwd) - 6 * noise, hi=max(fwd, bwd) + 6 * noise,
        spread=abs(d1 - d2), noise=noise,
        # raw slopes, and 2·F(2h) − F(h), which removes the share δ/h of the other side's
        # slope when a kink lies at a distance δ < h
        sides=(f1, b1, 2 * (fp2 - f0) / (2 * h) - f1, 2 * (f0 - fm2) / (2 * h) - b1),
    )


def _resolve_quick(ev: _Eval, h: float, eps_f: float, where: Callable[[], str]) -> _Estimate:
    """Quick estimate; if f is not finite at x±h, shrink the step."""
    for factor in (1.0, *SMALLER_STEPS):
        try:
            return _quick(ev, h * factor, eps_f)
        except _Unresolvable:
            continue
    raise _UserCodeError(f"f is not finite near x{where()}: no step size gives a derivative")


@dataclass
class _Rule:
    """The tolerance rule for one parameter (or for directional derivatives of it)."""

    rtol: float
    atol: float
    scale: float
    eps_g: float
    n_sigma: float | None = None

    def denom(self, g: Any, n: Any) -> Any:
        d = np.maximum(np.abs(g), np.abs(n)) + SCALE_FLOOR * self.scale
        return np.where(d > 0, d, 1.0)

    def allowed(self, g: Any, n: Any, unc: Any, se: Any = 0.0) -> Any:
        base = (
            self.rtol * (np.maximum(np.abs(g), np.abs(n)) + SCALE_FLOOR * self.scale)
            + 2.0 * unc
            + GRAD_EPS_FACTOR * self.eps_g * self.scale
            + self.atol
        )
        if self.n_sigma is not None:
            base = base + self.n_sigma * np.asarray(se, dtype=np.float64)
        return base


def _is_rough(est: _Estimate, g: float) -> bool:
    """f visibly not smooth at this step: the two steps or the two sides disagree by a fair
    part of the discrepancy, and by more than rounding noise."""
    rough = max(est.spread, est.hi - est.lo - 12 * est.noise)
    return rough >= 0.1 * abs(g - est.value) and rough >= 10 * est.noise


def _refine(
    ev: _Eval, h: float, f0: float, eps_f: float, g: float, rule: _Rule, se: float,
    low_precision: bool = False,
) -> tuple[float, float, float] | None:
    """(numerical, err, allowed) from careful estimates: the first that passes, else the
    one at the largest step, which is the most accurate where f is smooth.

    A kink right at x (closer than the smallest step): the stated value passes when it lies
    between the one-sided slopes (a subgradient).  A kink a little way off: smaller steps
    stop straddling it; they are
    tried only when f is visibly not smooth at the larger step, because their rounding
    noise would otherwise hide small errors.  For a ``low_precision`` (float32) gradient,
    where f is visibly not smooth, a value between the slopes seen on either side within
    the step also passes (an ε-subgradient), and steps 10 and 100 times larger are searched
    for such a kink: float32 code may put a point 1e-8 from a kink on the other side than
    float64 does.  (Float64 code agrees with f about the side, so it gets no such slack.)"""
    first: tuple[float, float, float] | None = None
    slopes: list[float] = []
    noise = 0.0
    rough_seen = False
    for factor in (1.0, *SMALLER_STEPS):
        try:
            est = _careful(ev, h * factor, f0, eps_f)
        except _Unresolvable:
            continue
        allowed = float(rule.allowed(g, est.value, est.unc, se))
        err = abs(g - est.value)
        rough = _is_rough(est, g)
        if factor == SMALLER_STEPS[-1]:
            # only a kink closer than the smallest step counts as "at x": at larger steps
            # the one-sided slopes would also span a kink that smaller steps resolve
            allowed_k = float(rule.allowed(g, est.value, 0.0, se))
            dist = max(est.lo - g, g - est.hi, 0.0)
            if dist / allowed_k < err / allowed:
                err, allowed = dist, allowed_k
            rough = False  # nothing smaller to try: this is the verdict
        # a step that straddles a kink gives no trustworthy estimate (nor uncertainty)
        if not rough and err <= allowed:
            return (est.value, err, allowed)
        slopes += [*est.sides, est.lo + 6 * est.noise, est.hi - 6 * est.noise]
        noise = max(noise, est.noise)
        rough_seen = rough_seen or rough
        if first is None:
            first = (est.value, err, allowed)
        if not rough:
            break  # smooth at this step: the discrepancy is the stated gradient's
    if low_precision and first is not None:
        for factor in LOW_PRECISION_WIDER_STEPS:
            try:
                est = _careful(ev, h * factor, f0, eps_f)
            except _Unresolvable:
                break
            if _is_rough(est, g):
                rough_seen = True
                slopes += est.sides
                noise = max(noise, est.noise)
                break
    if first is not None and rough_seen and low_precision:
        dist = max(min(slopes) - 6 * noise - g, g - max(slopes) - 6 * noise, 0.0)
        allowed_k = float(rule.allowed(g, first[0], 0.0, se))
        if dist <= allowed_k:
            return (first[0], dist, allowed_k)
    return first


@dataclass
class _EntryVerdicts:
    """Per-entry results of one parameter (over the checked flat indices)."""

    idx: np.ndarray
    stated: np.ndarray
    numerical: np.ndarray
    err: np.ndarray  # error measure in the numerator (distance to the accepted set)
    allowed: np.ndarray
    denom: np.ndarray
    rule: _Rule
    se: np.ndarray | None = None


def _judge_entries(
    obj: _Objective, p: _Param, idx: np.ndarray, f0: float, rtol: float, atol: float,
    n_sigma: float | None,
) -> _EntryVerdicts:
    base_flat = p.base.reshape(-1)
    g = p.grad.reshape(-1)[idx]
    se = None if p.stderr is None else p.stderr.reshape(-1)[idx]
    steps = _step_base(obj.eps_f) * np.maximum(np.abs(base_flat[idx]), _typical_scale(p.base))
    num = np.empty(len(idx))
    unc = np.empty(len(idx))
    for k, i in enumerate(idx):
        est = _resolve_quick(_entry_eval(obj, p, int(i)), float(steps[k]), obj.eps_f,
                             lambda i=i: _index_str(p, int(i)))
        num[k], unc[k] = est.value, est.unc
    # the whole stated gradient is known, so a sample's scale is the parameter's scale
    scale = float(max(np.max(np.abs(num), initial=0.0), np.max(np.abs(p.grad), initial=0.0)))
    rule = _Rule(rtol, atol, scale, p.eps_g, n_sigma)
    err = np.abs(g - num)
    allowed = rule.allowed(g, num, unc, 0.0 if se is None else se)
    # look again, closely, at the entries that fail the quick look (mildest first: those are
    # the kinks and noisy spots; gross errors stay failures either way)
    bad = np.flatnonzero(~(err <= allowed))
    order = bad[np.argsort(err[bad] / np.maximum(allowed[bad], 1e-300))][:MAX_REFINE]
    confirmed = 0
    for k in order:
        if confirmed >= CONFIRMED_ENOUGH:
            break  # the rest fail worse than these: examining them costs time, changes nothing
        ev = _entry_eval(obj, p, int(idx[k]))
        sek = 0.0 if se is None else float(se[k])
        best = _refine(ev, float(steps[k]), f0, obj.eps_f, float(g[k]), rule, sek,
                       low_precision=p.eps_g > LOW_PRECISION_EPS)
        if best is not None:
            num[k], err[k], allowed[k] = best
            confirmed += not best[1] <= best[2]
    return _EntryVerdicts(idx, g, num, err, allowed, rule.denom(g, num), rule, se)


def _index_str(p: _Param, i: int) -> str:
    idx = np.unravel_index(i, p.base.shape) if p.base.ndim else ()
    key = f"[{p.key!r}]" if p.key is not None else ""
    return f"{key}{tuple(int(v) for v in idx)}"


# --------------------------------------------------------------------------- sampling


def _groups(size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A random partition of all flat indices into about sqrt(size) groups (at most
    MAX_GROUPS): few calls of f, yet small enough groups that one wrong entry shows."""
    n_groups = min(MAX_GROUPS, max(1, math.isqrt(size)))
    return np.array_split(rng.permutation(size), n_groups)


@dataclass
class _DirVerdict:
    stated: float
    numerical: float
    err: float
    allowed: float
    denom: float
    label: str


def _sparse_eval(obj: _Objective, p: _Param, idx: np.ndarray, w: np.ndarray) -> _Eval:
    flat, base = p.flat, p.base.reshape(-1)
    x0 = base[idx]

    def ev(s: float) -> tuple[float, float]:
        flat[idx] = x0 + s * w
        try:
            return obj()
        finally:
            flat[idx] = x0

    return ev


def _check_direction(
    obj: _Objective, p: _Param, v: np.ndarray, label: str, rtol: float, atol: float, f0: float,
    support: np.ndarray | None = None, refine: bool = True,
) -> _DirVerdict:
    """Compare <grad, v> with the derivative of f along the unit vector v.

    ``v`` is dense, or, with ``support``, the weights of a direction on those flat indices."""
    g = p.grad.reshape(-1) if support is not None else p.grad
    gv = g[support] if support is not None else g
    stated = float(np.sum(gv * v))
    # |<g, v>| <= ||g on v's support|| for a unit v: the scale of this check
    rule = _Rule(rtol, atol, _norm(gv), p.eps_g, None)
    se = 0.0
    if p.stderr is not None:  # triangle inequality: valid however the estimates correlate
        sev = p.stderr.reshape(-1)[support] if support is not None else p.stderr
        rule.n_sigma = p.n_sigma
        se = float(np.sum(np.abs(v) * sev))
    # a step of relative size eps**(1/3) along v, as for single entries
    xs = p.base.reshape(-1)[support] if support is not None else p.base
    xnorm = _norm(xs)
    t = _step_base(obj.eps_f) * (xnorm if xnorm > 0 else math.sqrt(xs.size))
    ev = _sparse_eval(obj, p, support, v) if support is not None else _dir_eval(obj, p, v)
    est = _resolve_quick(ev, t, obj.eps_f, lambda: f" along {label}")
    num, err = est.value, abs(stated - est.value)
    allowed = float(rule.allowed(stated, num, est.unc, se))
    if refine and not err <= allowed:
        best = _refine(ev, t, f0, obj.eps_f, stated, rule, se,
                       low_precision=p.eps_g > LOW_PRECISION_EPS)
        if best is not None:
            num, err, allowed = best
    return _DirVerdict(stated, num, err, allowed, float(rule.denom(stated, num)), label)


def _bisect(obj: _Objective, p: _Param, grp: np.ndarray, rtol: float, atol: float,
            f0: float) -> np.ndarray:
    """The few entries of a failing group that carry its error: keep the failing half.

    Quick checks only (two calls of f per half); the entries found are then judged one by
    one with the full rule, so a misleading half costs a name, never a verdict."""
    while grp.size > BISECT_TO:
        halves = np.array_split(grp, 2)
        worst, worst_ratio = None, 1.0
        for half in halves:
            w = np.full(half.size, 1.0 / math.sqrt(half.size))
            d = _check_direction(obj, p, w, "half", rtol, atol, f0, support=half,
                                 refine=False)
            ratio = d.err / d.allowed if d.allowed > 0 else math.inf
            if ratio > worst_ratio:
                worst, worst_ratio = half, ratio
        if worst is None:
            break  # the error is spread out (or cancels within halves): stop here
        grp = worst
    return grp[:BISECT_TO * 4]


def _directions(p: _Param, rng: np.random.Generator) -> list[tuple[np.ndarray, str]]:
    """The stated gradient's own direction (catches any scale or sign error) + random ones."""
    out = []
    gnorm = float(_norm(p.grad))
    if gnorm > 0:
        out.append((p.grad / gnorm, "the stated gradient's direction"))
    for k in range(N_DIRECTIONS):
        v = rng.standard_normal(p.base.shape)
        out.append((v / _norm(v), f"random direction {k + 1}"))
    return out


# --------------------------------------------------------------------------- hints


def _nice_ratio(r: float, sizes: Mapping[str, int], dims: set[int]) -> str | None:
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
            label = f"{names[0]}={k}" if names else (f"N={k}" if k in dims else str(k))
            sign = "-" if val < 0 else ""
            return f"off by a factor {sign}{'1/' if inv else ''}{label} (batch mean?)"
    return None


def _concentration(bad: np.ndarray, shape2d: tuple[int, int]) -> str | None:
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


def _view2d(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 0:
        return (1, 1)
    if len(shape) == 1:
        return (1, shape[0])
    return (shape[0], math.prod(shape[1:]))


def _hint(
    verdicts: list[tuple[_Param, _EntryVerdicts]], sizes: Mapping[str, int], full: bool
) -> str | None:
    failing = [(p, v) for p, v in verdicts if np.any(~(v.err <= v.allowed))]
    if not failing:
        return None
    # the least-squares ratio stated/numerical over the failing parameters only (W may be
    # off by N while b is right)
    g = np.concatenate([v.stated for _, v in failing])
    n = np.concatenate([v.numerical for _, v in failing])
    nn = float(n @ n)
    if nn == 0 and np.any(g != 0):
        return "f does not change when x does: does f use its argument, not a global?"
    if nn > 0:
        r = float(g @ n) / nn
        if _norm(g - r * n) <= 1e-2 * max(_norm(g), 1e-300):
            dims = {d for p, _ in verdicts for d in p.base.shape}
            named = _nice_ratio(r, sizes, dims)
            if named and len(failing) < len(verdicts):
                return f"{', '.join(str(p.key) for p, _ in failing)}: {named}"
            if named:
                return named
    if len(failing) != 1:
        return None
    p, v = failing[0]
    if p.base.size == 1:
        return None
    if not full:
        # sampled: say where the wrong entries found so far lie, not that there are no others
        bad = np.zeros(p.base.size, dtype=bool)
        bad[v.idx] = ~(v.err <= v.allowed)
        where = _concentration(bad, _view2d(p.base.shape))
        if where is None or int(np.count_nonzero(bad)) < 2:
            return None
        what = where.split("(", 1)[1].rstrip(")")
        key = f"{p.key}: " if p.key is not None and len(verdicts) > 1 else ""
        return f"{key}every wrong entry found lies in {what} (sampled)"
    if p.base.ndim == 2 and p.base.shape[0] == p.base.shape[1] > 1:
        gt = p.grad.T.reshape(-1)
        allowed_t = v.rule.allowed(gt, v.numerical, np.zeros_like(gt))
        if np.all(np.abs(gt - v.numerical) <= allowed_t):
            return "transposed (the transpose of the stated gradient matches)"
    bad = np.zeros(p.base.size, dtype=bool)
    bad[v.idx] = ~(v.err <= v.allowed)
    where = _concentration(bad, _view2d(p.base.shape))
    if where and p.key is not None and len(verdicts) > 1:
        return f"{p.key}: {where}"
    return where


# --------------------------------------------------------------------------- main entry


def _error_result(msg: str, name: str | None, eq: str | None, pshape: Any, gshape: Any,
                  n_total: int, method: str = "") -> CheckResult:
    return CheckResult(
        status="error", name=name, eq=eq, message=msg, max_rel_err=math.nan,
        tolerance=math.nan, n_checked=0, n_total=n_total, param_shape=pshape,
        grad_shape=gshape, method=method,
    )


def _fail_early(msg: str, name: str | None, eq: str | None, pshape: Any, gshape: Any,
                n_total: int, hint: str | None = None) -> CheckResult:
    return CheckResult(
        status="fail", name=name, eq=eq, message=msg, max_rel_err=math.inf,
        tolerance=math.nan, n_checked=0, n_total=n_total, param_shape=pshape,
        grad_shape=gshape, hint=hint, method="shapes",
    )


def _shape_of(a: Any) -> tuple[int, ...]:
    return tuple(np.shape(a))


def _run(
    f: Callable[..., Any], x: Any, grad: Any, *, upstream: Any, name: str | None,
    eq: str | None, rtol: float | None, atol: float | None, stderr: Any, seed: int,
    n_sigma: float | None, sizes: Mapping[str, int] | None,
) -> CheckResult:
    single = not isinstance(x, Mapping)
    sizes = dict(sizes or {})
    if single:
        xs: dict[str | None, Any] = {None: x}
        gs: dict[str | None, Any] = {None: grad}
        pshape: tuple | dict = _shape_of(x)
        gshape: tuple | dict = _shape_of(grad)
    else:
        if not isinstance(grad, Mapping):
            return _fail_early(
                f"x is a dict of {', '.join(map(str, x))} but the stated gradient is not a dict",
                name, eq, {k: _shape_of(v) for k, v in x.items()}, _shape_of(grad),
                sum(int(np.size(v)) for v in x.values()),
            )
        xs, gs = dict(x), dict(grad)
        pshape = {str(k): _shape_of(v) for k, v in xs.items()}
        gshape = {str(k): _shape_of(v) for k, v in gs.items()}
    n_total = sum(int(np.size(v)) for v in xs.values())

    # keys, then shapes, then finiteness: the cheap, certain failures come first
    if not single:
        missing = [str(k) for k in xs if k not in gs]
        extra = [str(k) for k in gs if k not in xs]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"no gradient stated for {', '.join(missing)}")
            if extra:
                parts.append(f"gradient stated for unknown parameter {', '.join(extra)}")
            return _fail_early("; ".join(parts), name, eq, pshape, gshape, n_total)
    for k, xv in xs.items():
        gv = gs[k]
        ps, gsh = _shape_of(xv), _shape_of(gv)
        if ps != gsh:
            msg = (f"{_grad_label(name, k)} is {_fmt_shape(gsh)} but {_wrt_label(name, k)} is "
                   f"{_fmt_shape(ps)}")
            return _fail_early(msg, name, eq, pshape, gshape, n_total, _shape_hint(gsh, ps))
        try:
            ga = np.asarray(gv, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            return _error_result(f"{_grad_label(name, k)} is not numeric: {exc}", name, eq,
                                 pshape, gshape, n_total)
        if not np.all(np.isfinite(ga)):
            nbad = int(np.size(ga) - np.count_nonzero(np.isfinite(ga)))
            first = np.argwhere(~np.isfinite(ga))[0] if ga.ndim else ()
            return _fail_early(
                f"{_grad_label(name, k)} has {nbad} non-finite "
                f"entr{'y' if nbad == 1 else 'ies'} (first at {tuple(int(i) for i in first)})",
                name, eq, pshape, gshape, n_total,
            )

    # the Monte Carlo standard error, broadcast to each parameter
    se_of: dict[str | None, np.ndarray | None] = {k: None for k in xs}
    if stderr is not None:
        n_sigma = DEFAULT_N_SIGMA if n_sigma is None else float(n_sigma)
        for k, xv in xs.items():
            sv = stderr[k] if isinstance(stderr, Mapping) else stderr
            try:
                se = np.broadcast_to(np.asarray(sv, dtype=np.float64), _shape_of(xv)).copy()
            except (ValueError, KeyError) as exc:
                return _fail_early(
                    f"stderr of shape {_fmt_shape(_shape_of(sv))} does not fit "
                    f"{_wrt_label(name, k)} ({_fmt_shape(_shape_of(xv))}): {exc}",
                    name, eq, pshape, gshape, n_total,
                )
            if not np.all(np.isfinite(se)) or np.any(se < 0):
                return _error_result("stderr must be finite and non-negative", name, eq,
                                     pshape, gshape, n_total)
            se_of[k] = se
    else:
        n_sigma = None

    params = []
    for k, xv in xs.items():
        try:
            base = _as_float64(xv)
        except (TypeError, ValueError) as exc:
            return _error_result(f"{_wrt_label(name, k)} is not numeric: {exc}", name, eq,
                                 pshape, gshape, n_total)
        params.append(_Param(
            key=None if k is None else str(k), base=base, work=base.copy(),
            grad=_as_float64(gs[k]), eps_g=_eps_of(xv, gs[k]), stderr=se_of[k],
        ))
    up = None if upstream is None else _as_float64(upstream)
    obj = _Objective(f, params, single, up)

    user_rtol = rtol
    # a big model's middle-sized parameters are sampled too, or they would dominate the cost
    limit = SAMPLE_ABOVE if n_total <= SAMPLE_ABOVE else SAMPLE_ABOVE_IN_LARGE
    sampled = any(p.base.size > limit for p in params)
    rng = np.random.default_rng(seed)
    try:
        f0 = _first_call(obj, vjp=upstream is not None)
        verdicts: list[tuple[_Param, _EntryVerdicts]] = []
        dir_verdicts: list[tuple[_Param, _DirVerdict]] = []
        for p in params:
            r = (user_rtol if user_rtol is not None
                 else max(DEFAULT_RTOL, GRAD_EPS_FACTOR * max(p.eps_g, obj.eps_f)))
            a = 0.0 if atol is None else float(atol)
            p.n_sigma = n_sigma
            if p.base.size <= limit:
                verdicts.append((p, _judge_entries(obj, p, np.arange(p.base.size), f0, r, a,
                                                   n_sigma)))
                continue
            drill: list[np.ndarray] = []
            groups = _groups(p.base.size, rng)
            for j, grp in enumerate(groups):
                w = rng.choice((-1.0, 1.0), size=grp.size) / math.sqrt(grp.size)
                d = _check_direction(obj, p, w, f"group {j + 1} of {len(groups)} "
                                     f"({grp.size} entries)", r, a, f0, support=grp,
                                     refine=len(drill) < CONFIRMED_ENOUGH)
                dir_verdicts.append((p, d))
                if not d.err <= d.allowed:
                    drill.append(grp)
            # name the culprits: halve each of the first failing groups down to a few entries
            suspects = [_bisect(obj, p, grp, r, a, f0) for grp in drill[:MAX_BISECT]]
            for d_vec, label in _directions(p, rng):
                dir_verdicts.append((p, _check_direction(obj, p, d_vec, label, r, a, f0)))
            idx = rng.choice(p.base.size, size=min(N_RANDOM_ENTRIES, p.base.size // 4),
                             replace=False)
            if suspects:
                idx = np.concatenate([idx, *suspects])
            verdicts.append((p, _judge_entries(obj, p, np.unique(idx), f0, r, a, n_sigma)))
    except _UserCodeError as exc:
        return _error_result(str(exc), name, eq, pshape, gshape, n_total)
    finally:
        for p in params:  # leave nothing perturbed behind
            p.work[...] = p.base

    return _summarise(verdicts, dir_verdicts, obj, name, eq, pshape, gshape, n_total,
                      sampled, n_sigma, sizes)


def _summarise(
    verdicts: list[tuple[_Param, _EntryVerdicts]], dir_verdicts: list[tuple[_Param, _DirVerdict]],
    obj: _Objective, name: str | None, eq: str | None, pshape: Any, gshape: Any, n_total: int,
    sampled: bool, n_sigma: float | None, sizes: Mapping[str, int],
) -> CheckResult:
    n_checked = sum(len(v.idx) for _, v in verdicts)
    ndir = len(dir_verdicts)
    if sampled:
        ngroups = sum(1 for _, d in dir_verdicts if d.label.startswith("group"))
        method = (f"sampled: {n_checked} of {n_total} entries one by one, all in "
                  f"{ngroups} group sums, + {ndir - ngroups} directions")
    else:
        method = f"central differences, all {n_total} entries"
    if obj.eps_f > np.finfo(np.float64).eps:
        method += " (f returns low-precision floats: tolerance widened)"

    # the worst entry, measured against its own threshold
    best_ratio, shown_err, shown_tol = -1.0, 0.0, 0.0
    all_entries: list[tuple[float, Entry]] = []
    n_bad = 0
    se_max = None
    for p, v in verdicts:
        ok = v.err <= v.allowed
        n_bad += int(np.count_nonzero(~ok))
        if n_sigma is not None and v.se is not None:
            # deviation beyond the numerical allowance, in standard errors
            plain = v.allowed - n_sigma * v.se
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(v.se > 0, np.maximum(v.err - plain, 0.0) / v.se,
                             np.where(v.err <= plain, 0.0, np.inf))
            measure, thresh = z, np.full_like(z, n_sigma)
            if v.se.size:
                se_max = max(se_max or 0.0, float(np.max(v.se)))
        else:
            measure, thresh = v.err / v.denom, v.allowed / v.denom
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(thresh > 0, measure / thresh, np.where(measure > 0, np.inf, 0.0))
        if ratio.size:
            k = int(np.argmax(ratio))
            if ratio[k] > best_ratio:
                best_ratio, shown_err, shown_tol = float(ratio[k]), float(measure[k]), \
                    float(thresh[k])
        for k in np.argsort(-ratio)[:N_WORST]:
            if ok[k]:
                continue
            index = tuple(int(i) for i in np.unravel_index(int(v.idx[k]), p.base.shape))
            all_entries.append((float(ratio[k]), Entry(
                index, float(v.stated[k]), float(v.numerical[k]), float(v.err[k] / v.denom[k]),
                p.key)))
    bad_dirs = [(p, d) for p, d in dir_verdicts if not d.err <= d.allowed]
    for _, d in dir_verdicts:
        ratio = d.err / d.allowed if d.allowed > 0 else math.inf
        if ratio > best_ratio and n_sigma is None:
            best_ratio, shown_err, shown_tol = ratio, d.err / d.denom, d.allowed / d.denom

    # Monte Carlo: also judge the whole vector (many entries each a little off is a bias)
    chi_msg = None
    if n_sigma is not None:
        z_all = []
        for _, v in verdicts:
            if v.se is None:
                continue
            plain = v.allowed - n_sigma * v.se
            pos = v.se > 0
            z_all.append(np.maximum(v.err[pos] - plain[pos], 0.0) / v.se[pos])
        z = np.concatenate(z_all) if z_all else np.zeros(0)
        kdof = z.size
        if kdof >= 2:
            chi2 = float(np.sum(z * z))
            # Wilson–Hilferty: the chi-square quantile matching n_sigma normal deviations
            q = kdof * (1 - 2 / (9 * kdof) + n_sigma * math.sqrt(2 / (9 * kdof))) ** 3
            if chi2 > q:
                chi_msg = (f"jointly too far from the true gradient: chi-square {chi2:.3g} "
                           f"over {kdof} entries exceeds {q:.3g}")

    failed = n_bad > 0 or bool(bad_dirs) or chi_msg is not None
    worst = [e for _, e in sorted(all_entries, key=lambda t: -t[0])[:N_WORST]]
    if not failed:
        msg = (f"within {n_sigma:g}·SE (largest deviation {shown_err:.2g}·SE)"
               if n_sigma is not None else "within tolerance")
        status = "pass"
        hint = None
    else:
        status = "fail"
        parts = []
        if n_bad:
            e = worst[0]
            where = (f"[{e.key!r}]" if e.key is not None else "") + str(e.index)
            parts.append(
                f"{n_bad} of {n_checked} entries differ; worst at {where}: stated "
                f"{_fmt_num(e.stated)}, numerical {_fmt_num(e.numerical)}"
                + (f" ({shown_err:.2g}·SE off, {n_sigma:g}·SE allowed)"
                   if n_sigma is not None else "")
            )
        if bad_dirs:
            p, d = max(bad_dirs, key=lambda t: t[1].err / t[1].allowed)
            parts.append(
                f"derivative along {d.label}{'' if p.key is None else f' of {p.key}'} is "
                f"{_fmt_num(d.numerical)} but the stated gradient gives {_fmt_num(d.stated)}"
            )
        if chi_msg:
            parts.append(chi_msg)
        msg = "; ".join(parts)
        hint = _hint(verdicts, sizes, not sampled)
        if hint is None and bad_dirs and not n_bad:
            # only directions failed: the ratio along the gradient's own direction still talks
            own = [d for _, d in dir_verdicts if d.label.startswith("the stated")]
            if own and own[0].numerical != 0:
                dims = {dd for p, _ in verdicts for dd in p.base.shape}
                hint = _nice_ratio(own[0].stated / own[0].numerical, sizes, dims)

    error_map = None
    map_key = None
    if not sampled and verdicts:
        # the map of the parameter holding the worst entry (or the only parameter)
        pick = max(verdicts, key=lambda pv: float(np.max(pv[1].err / pv[1].allowed,
                                                         initial=0.0)))
        p, v = pick
        emap = np.zeros(p.base.size)
        emap[v.idx] = v.err / v.denom
        error_map = emap.reshape(_view2d(p.base.shape))
        map_key = p.key

    return CheckResult(
        status=status, name=name, eq=eq, message=msg,
        max_rel_err=shown_err, tolerance=shown_tol, n_checked=n_checked, n_total=n_total,
        param_shape=pshape, grad_shape=gshape, worst=worst if failed else [],
        error_map=error_map, hint=hint, stderr=se_max, method=method, map_key=map_key,
    )


def check_grad(
    f: Callable[..., Any], x: Any, grad: Any, *, name: str | None = None, eq: str | None = None,
    rtol: float | None = None, atol: float | None = None, stderr: Any = None, seed: int = 0,
    n_sigma: float | None = None, sizes: Mapping[str, int] | None = None,
) -> CheckResult:
    """Check that ``grad`` is the gradient of the scalar ``f`` at ``x``.

    ``x`` is an array (``f(x)``) or a dict of arrays (``f(**x)``, ``grad`` a dict with the
    same keys).  ``stderr`` marks ``grad`` as a Monte Carlo estimate with that standard error
    (scalar or per entry); it then passes within ``n_sigma`` (default 4) standard errors.
    ``sizes`` names dimensions (``{"N": 4}``) so hints can say "off by a factor N=4".
    """
    return _run(f, x, grad, upstream=None, name=name, eq=eq, rtol=rtol, atol=atol,
                stderr=stderr, seed=seed, n_sigma=n_sigma, sizes=sizes)


def check_vjp(
    f: Callable[..., Any], x: Any, upstream: Any, grad: Any, *, name: str | None = None,
    eq: str | None = None, rtol: float | None = None, atol: float | None = None, seed: int = 0,
    sizes: Mapping[str, int] | None = None,
) -> CheckResult:
    """Check that ``grad`` equals Jᵀ·upstream for the array-valued ``f`` at ``x``.

    This is the backward pass of a layer: it is checked as the gradient of the scalar
    ``sum(upstream * f(x))``.
    """
    return _run(f, x, grad, upstream=upstream, name=name, eq=eq, rtol=rtol, atol=atol,
                stderr=None, seed=seed, n_sigma=None, sizes=sizes)
