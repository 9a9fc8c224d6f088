"""Trees back to TeX: for messages ("in X^\\top \\delta") and for the property tests,
which print random trees and read them back."""

from __future__ import annotations

from . import parse as p

_OP_TEX = {"product": " ", "entrywise": " \\odot ", "divide": " / "}


def to_tex(node: p.Node) -> str:
    if isinstance(node, p.Num):
        return f"{node.value:g}"
    if isinstance(node, p.Sym):
        base = node.base if len(node.base) == 1 else f"\\{node.base}"
        text = f"\\{node.accent}{{{base}}}" if node.accent else base
        if node.sub:
            text += f"_{{{node.sub}}}"
        if node.layer:
            text += f"^{{({node.layer})}}"
        return text + "'" * node.primes
    if isinstance(node, p.Unary):
        inner = wrapped(node.arg)
        if node.op == "neg":
            return f"-{inner}"
        return inner + ("^\\top" if node.op == "transpose" else "^{-1}")
    if isinstance(node, p.Power):
        return f"{wrapped(node.arg)}^{{{to_tex(node.exponent)}}}"
    if isinstance(node, p.Add):
        parts = []
        for i, (sign, term) in enumerate(node.terms):
            text = to_tex(term)
            parts.append(("- " if sign < 0 else ("+ " if i else "")) + text)
        return " ".join(parts)
    if isinstance(node, p.Mul):
        text = wrapped(node.factors[0])
        for op, factor in zip(node.ops, node.factors[1:], strict=True):
            text += _OP_TEX[op] + wrapped(factor)
        return text
    if isinstance(node, p.Frac):
        return f"\\frac{{{to_tex(node.num)}}}{{{to_tex(node.den)}}}"
    if isinstance(node, p.Call):
        name = node.sym.tex if node.sym else f"\\{node.name}" if node.name in (
            "exp", "log", "tanh", "sqrt", "max") else f"\\operatorname{{{node.name}}}"
        if node.name == "sigma" and node.sym is not None:
            name = "\\sigma"
        args = ", ".join(to_tex(a) for a in node.args)
        if node.name == "sqrt":
            return f"\\sqrt{{{args}}}"
        return f"{name}{chr(39) * node.primes}\\left({args}\\right)"
    if isinstance(node, p.Apply):
        return f"{to_tex(node.sym)}({to_tex(node.arg)})"
    if isinstance(node, p.Sum):
        lower = f"={to_tex(node.lower)}" if node.lower is not None else ""
        upper = f"^{{{to_tex(node.upper)}}}" if node.upper is not None else ""
        return f"\\sum_{{{node.index}{lower}}}{upper} {wrapped(node.body)}"
    if isinstance(node, p.Iverson):
        c = node.cond
        return f"[{to_tex(c.left)} {c.op} {to_tex(c.right)}]"
    if isinstance(node, p.Ones):
        return "\\mathbf{1}"
    if isinstance(node, p.Partial):
        return f"\\frac{{\\partial {to_tex(node.of)}}}{{\\partial {to_tex(node.wrt)}}}"
    return type(node).__name__


def wrapped(node: p.Node) -> str:
    """The TeX of ``node``, in parentheses unless it is an atom."""
    if isinstance(node, p.Num | p.Sym | p.Call | p.Frac | p.Ones | p.Iverson | p.Partial):
        return to_tex(node)
    return f"\\left({to_tex(node)}\\right)"
