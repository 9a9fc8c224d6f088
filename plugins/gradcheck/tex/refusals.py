"""Every reason sitegen gives for not reading an equation, in one place.

A refusal is never an error of the post: the check still runs, and the equation's badge
says "code verified; equation not machine-read: REASON". Each reason has a short code (for
tests and ``verification.json``) and a sentence with the offending piece of TeX.
"""

from __future__ import annotations

REASONS: dict[str, str] = {
    "no-gradient": "no stated gradient (∂…/∂… = …) in the equation",
    "no-rhs": "the stated gradient has nothing on its right-hand side",
    "syntax": "cannot parse the TeX: {detail}",
    "unsupported": "{detail} is not read (yet)",
    "nabla-rhs": "\\nabla on the right-hand side (a gradient of something not in the code)",
    "expectation": "an expectation ({detail}) cannot be evaluated from arrays",
    "derivative-rhs": "a derivative operator on the right-hand side ({detail})",
    "unbound": "{detail} is not bound to a value in the code (pass symbols={{…}} on the check)",
    "ambiguous": "{detail}",
    "not-array": "{detail} is bound to {kind}, not a number or an array",
    "high-rank": "{detail} has {rank} dimensions; only scalars, vectors and matrices are read",
    "entry-by-entry": "a matrix written entry by entry ({detail})",
    "bare-name": "the right-hand side is only the name {detail}, which is the code's own array",
    "index-range": "cannot tell the range of the index {detail}",
    "quantifier": "a quantifier or condition ({detail}) follows the formula",
    "wrt": "the left-hand side differentiates with respect to {detail}, which is not what "
    "the check differentiates",
    "function": "{detail}",
    "nonfinite": "the equation evaluates to non-finite numbers",
}


class Unread(Exception):
    """The equation cannot be read soundly; ``code`` is a key of ``REASONS``."""

    def __init__(self, code: str, detail: str = "", **extra: object) -> None:
        self.code = code
        self.detail = detail
        template = REASONS[code]
        message = template.format(detail=detail, **extra) if "{" in template else template
        super().__init__(message)

    @property
    def reason(self) -> str:
        return str(self)


class ShapeError(Exception):
    """Shapes that do not fit: the equation *contradicts* the check (it says so)."""

    def __init__(self, message: str, where: str = "") -> None:
        self.where = where
        super().__init__(message)
