"""The outcome of one check (``CheckResult``), as the worker serialises it and the renderer
shows it, and the few formatting helpers messages share.

Statuses: ``pass`` (verified), ``fail`` (the stated gradient is wrong), ``error`` (the check
could not run: a bad call, or f misbehaved) and ``inconclusive`` (the reference cannot
resolve the gradient at this point: neither verified nor failed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

STATUSES = ("pass", "fail", "error", "inconclusive")
# how ``max_rel_err`` against ``tolerance`` is to be read
MEASURES = ("rel", "abs", "se")


@dataclass
class Entry:
    """One checked entry of a gradient (``key`` names the parameter for dict inputs)."""

    index: tuple[int, ...]
    stated: float
    numerical: float
    rel_err: float  # in the check's measure: relative, absolute, or standard errors
    key: str | None = None


@dataclass
class CheckResult:
    """The outcome of one check, as shown to readers."""

    status: str  # one of STATUSES
    name: str | None
    eq: str | None
    message: str
    max_rel_err: float  # worst error measure (relative or absolute error, or SE) ...
    tolerance: float  # ... and the threshold it was held to
    n_checked: int
    n_total: int
    param_shape: tuple | dict
    grad_shape: tuple | dict
    worst: list[Entry] = field(default_factory=list)
    error_map: np.ndarray | None = None  # per entry, red past ``tolerance``; 2-D view
    hint: str | None = None
    stderr: float | None = None
    method: str = ""
    map_key: str | None = None  # which parameter ``error_map`` belongs to (dict inputs)
    measure: str = "rel"  # one of MEASURES

    def __bool__(self) -> bool:
        return self.status == "pass"

    def to_dict(self) -> dict:
        """A JSON-safe dict (non-finite floats become None, arrays nested lists)."""
        return {
            "status": self.status,
            "name": self.name,
            "eq": self.eq,
            "message": self.message,
            "max_rel_err": json_float(self.max_rel_err),
            "tolerance": json_float(self.tolerance),
            "measure": self.measure,
            "n_checked": int(self.n_checked),
            "n_total": int(self.n_total),
            "param_shape": _json_shape(self.param_shape),
            "grad_shape": _json_shape(self.grad_shape),
            "worst": [
                {
                    "index": [int(i) for i in e.index],
                    "stated": json_float(e.stated),
                    "numerical": json_float(e.numerical),
                    "rel_err": json_float(e.rel_err),
                    "key": e.key,
                }
                for e in self.worst
            ],
            "error_map": (
                None
                if self.error_map is None
                else [[json_float(v) for v in row] for row in self.error_map.tolist()]
            ),
            "map_key": self.map_key,
            "hint": self.hint,
            "stderr": json_float(self.stderr),
            "method": self.method,
        }


def json_float(v: float | None) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _json_shape(shape: tuple | dict) -> list | dict:
    if isinstance(shape, dict):
        return {k: [int(d) for d in s] for k, s in shape.items()}
    return [int(d) for d in shape]


def error_result(msg: str, name: str | None, eq: str | None, pshape: Any, gshape: Any,
                 n_total: int, method: str = "") -> CheckResult:
    """The check could not run (a bad call, or f misbehaved)."""
    return CheckResult(
        status="error", name=name, eq=eq, message=msg, max_rel_err=math.nan,
        tolerance=math.nan, n_checked=0, n_total=n_total, param_shape=pshape,
        grad_shape=gshape, method=method,
    )


def early_failure(msg: str, name: str | None, eq: str | None, pshape: Any, gshape: Any,
                  n_total: int, hint: str | None = None) -> CheckResult:
    """A failure found before any number was compared (shapes, keys, non-finite entries)."""
    return CheckResult(
        status="fail", name=name, eq=eq, message=msg, max_rel_err=math.inf,
        tolerance=math.nan, n_checked=0, n_total=n_total, param_shape=pshape,
        grad_shape=gshape, hint=hint, method="shapes",
    )


# --------------------------------------------------------------------------- formatting


def fmt_shape(shape: tuple[int, ...]) -> str:
    if len(shape) == 0:
        return "a scalar"
    return "×".join(str(d) for d in shape)


def fmt_num(v: float) -> str:
    return f"{v:.6g}"


def wrt_label(name: str | None, key: str | None) -> str:
    """The parameter's name for messages: the dict key, or what follows ∂ in the name."""
    if key is not None:
        return key
    if name and "/∂" in name:
        return name.rsplit("/∂", 1)[1].strip() or "x"
    return "x"


def grad_label(name: str | None, key: str | None) -> str:
    if key is not None:
        return f"∂L/∂{key}" if not name else f"{name}[{key}]"
    return name or "the gradient"
