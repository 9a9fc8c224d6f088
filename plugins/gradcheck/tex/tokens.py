"""TeX math → tokens: the tables of what each command means, and the tokenizer (spacing,
sizes of parentheses, labels and text are dropped here)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"(?P<cmd>\\[A-Za-z]+|\\.)|(?P<num>\d+(?:\.\d+)?|\.\d+)|(?P<letter>[A-Za-z])"
    r"|(?P<space>\s+)|(?P<punct>.)",
    re.S,
)
SPACING = {"\\,", "\\;", "\\:", "\\!", "\\ ", "~", "\\displaystyle",
           "\\limits", "\\nolimits", "&", "\\textstyle"}
SIZES = {"\\left", "\\right", "\\big", "\\Big", "\\bigg", "\\Bigg", "\\bigl", "\\bigr",
         "\\Bigl", "\\Bigr", "\\biggl", "\\biggr", "\\Biggl", "\\Biggr", "\\middle"}
OPEN = {"(": ")", "[": "]", "\\{": "\\}", "\\lbrack": "\\rbrack", "\\lparen": "\\rparen"}
GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau",
    "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda",
    "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}
ACCENTS = {"\\hat": "hat", "\\widehat": "hat", "\\bar": "bar", "\\overline": "bar",
           "\\tilde": "tilde", "\\widetilde": "tilde", "\\dot": "dot", "\\vec": None,
           "\\mathbf": None, "\\boldsymbol": None, "\\bm": None, "\\mathit": None,
           "\\mathbfit": None}
FUNCTIONS = {"\\exp": "exp", "\\log": "log", "\\ln": "log", "\\tanh": "tanh",
             "\\sqrt": "sqrt", "\\max": "max", "\\diag": "diag", "\\sin": "sin",
             "\\cos": "cos", "\\cosh": "cosh", "\\sinh": "sinh", "\\abs": "abs"}
NAMED = ("\\operatorname", "\\mathrm", "\\text", "\\textrm", "\\mathsf", "\\rm")
TRANSPOSE = {"\\top", "T", "\\intercal", "\\mathsf{T}", "\\mathrm{T}", "\\text{T}", "\\T",
             "\\mathsf T", "t"}
COMPARE = {">": ">", "<": "<", "\\geq": ">=", "\\ge": ">=", "\\leq": "<=", "\\le": "<=",
           "\\gt": ">", "\\lt": "<", "\\neq": "!=", "\\ne": "!="}
QUANTIFIERS = {"\\forall", "\\in", "\\mid", "\\iff", "\\Rightarrow", "\\implies",
               "\\text", "\\quad", "\\qquad", "\\exists"}
PRODUCTS = {"\\oslash": "divide", "\\odot": "entrywise", "\\circ": "entrywise", "\\cdot": "product",
            "\\times": "product", "*": "product", ".": "product", "\\ast": "product"}
DROPPED = re.compile(
    r"\\(?:label|tag\*?|eqref|ref|text|mbox|textrm|textit|intertext|hspace|vspace)\s*\{[^{}]*\}"
    r"|\\(?:nonumber|notag|dots|ldots|cdots)\b|%[^\n]*"
)


@dataclass(frozen=True)
class Token:
    kind: str  # cmd | num | letter | punct
    text: str


# \big{(}: a size command with its delimiter in braces
_SIZED = re.compile(r"\\(?:big|Big|bigg|Bigg)[lr]?\s*\{\s*([()\[\]|]|\\[{}])\s*\}")


def tokens(tex: str) -> list[Token]:
    """The significant tokens of ``tex`` (spacing, sizes, labels and text dropped)."""
    found: list[Token] = []
    text = _SIZED.sub(lambda m: " " + m.group(1) + " ", tex)
    while True:  # \text{using \eqref{a}}: the inner group goes first
        shorter = DROPPED.sub(" ", text)
        if shorter == text:
            break
        text = shorter
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "punct"
        text = m.group(0)
        if kind == "space" or text in SPACING or text in SIZES:
            continue
        found.append(Token(kind, text))
    return found
