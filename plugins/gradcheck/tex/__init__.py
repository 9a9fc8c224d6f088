"""Read the gradient an equation states, as written, and check it against the code.

A check that names an equation (``check_grad(..., eq="eq:dW")``) verifies the numpy code
beside it; this package verifies the TeX itself. The stages, each a module:

* ``tokens``, ``tree``, ``parse`` — TeX → tokens → expression tree (the grammar and what it
  refuses);
* ``bind`` — which value of the post's namespace each TeX name stands for;
* ``evaluate`` — the tree against numpy arrays, with the shape rules of ``algebra``, the
  functions of ``functions``, and sums read at once where ``batch`` can;
* ``statement`` — the stated gradient in an equation: its rows, left-hand side, chain;
* ``decide`` — verified / contradicts / unread, weak-test warnings, derivation steps;
* ``refusals`` — every reason for not reading an equation, in one place;
* ``printer`` — trees back to TeX (messages, property tests).

It runs in the verify worker, with the namespace as it is when the check is made; the
builder never imports it (it imports numpy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .decide import Reading, assess

NONE = {"equation_status": "none", "equation_reason": "", "equation_warnings": [],
        "equation_worst": [], "equation_steps": []}


def read_check(job: Mapping[str, Any], record: dict[str, Any], function: Callable[..., Any],
               args: tuple, options: dict[str, Any], namespace: Mapping[str, Any],
               symbols: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``equation_*`` fields of one check's row (``none`` when it names no equation).

    ``function(*args, **options)`` is the check itself; it is run again, with the
    equation's value as the stated gradient, when that value differs from the code's.
    """
    label = record.get("eq")
    if not label:
        return dict(NONE)
    tex = (job.get("equations") or {}).get(str(label))
    if tex is None:
        return dict(NONE, equation_status="unread",
                    equation_reason=f"no equation has the label '{label}'")

    def rerun(grad: Any) -> dict[str, Any]:
        return function(*args[:-1], grad, **options).to_dict()

    try:
        reading = assess(tex, str(label), record, args[1], args[-1], namespace, symbols,
                         job.get("notation"), rerun)
    except Exception as exc:  # a bug of the reader must not cost the check its result
        reading = Reading("unread", f"the reader failed: {type(exc).__name__}: {exc}")
    return reading.to_dict()
