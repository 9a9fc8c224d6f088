"""Which value of the code a TeX name stands for.

The rules, tried together (never case folding; two different values is a refusal):

* ``symbols={r"\\hat{Y}": probs}`` on the check wins over everything;
* ``W_1`` ↔ ``W_1``/``W1``; ``W^{(1)}`` likewise; ``\\hat Y`` ↔ ``Y_hat``/``Yhat`` (bar,
  tilde alike); Greek letters ↔ their English words (``\\delta`` ↔ ``delta``, ``\\Delta`` ↔
  ``Delta``) or the letter itself (``δ``) — the rules ``shapes.code_names`` states;
* ``\\sigma`` used as a function ↔ a function ``sigmoid`` or ``sigma``;
* ``∂L/∂Z`` in a right-hand side ↔ ``dZ``, ``dL_dZ``, ``dLdZ`` or ``grad_Z``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import shapes
from . import parse as p
from .refusals import Unread

FUNCTION_ALIASES = {"sigma": ("sigmoid", "sigma"), "softmax": ("softmax",),
                    "relu": ("relu", "ReLU")}


def key_of(sym: p.Sym) -> tuple[Any, ...]:
    return (sym.base, sym.accent, sym.sub, sym.layer, sym.primes)


def symbol_key(tex: str) -> tuple[Any, ...]:
    """The key a ``symbols=`` entry binds (``\\hat{Y}`` and ``\\hat Y`` are one key)."""
    node = p.parse(tex)
    if isinstance(node, p.Call) and node.sym is not None and not node.args:
        node = node.sym
    if not isinstance(node, p.Sym):
        raise Unread("unsupported", f"symbols= key {tex!r} (not a single name)")
    return key_of(node)


def names_for(sym: p.Sym) -> tuple[str, ...]:
    """Python names the code may use for this TeX symbol."""
    if sym.primes:
        return ()
    subs = [s for s in (sym.sub, sym.layer) if s]
    sub = "".join(subs) if subs else None
    names = list(shapes.code_names(sym.base, sub, sym.accent))
    if len(subs) == 2:
        names += list(shapes.code_names(sym.base, f"{subs[0]}_{subs[1]}", sym.accent))
    if sym.accent in ("hat", "bar", "tilde") and sub:  # y_1 hatted: y1_hat, y_1_hat
        names += [f"{sym.base}{sep}{sub}_{sym.accent}" for sep in ("", "_")]
    return tuple(dict.fromkeys(n.replace(",", "") for n in names))


@dataclass
class Bindings:
    namespace: Mapping[str, Any]
    symbols: Mapping[str, Any] = field(default_factory=dict)
    used: dict[str, Any] = field(default_factory=dict)  # TeX name → value, for warnings

    def __post_init__(self) -> None:
        self._by_key = {symbol_key(tex): value for tex, value in self.symbols.items()}
        self._found: dict[tuple[Any, ...], Any] = {}  # a sum asks for x_n N times

    def bind(self, sym: p.Sym, function: bool = False) -> Any:
        """The value ``sym`` stands for; None when nothing of the code is called so."""
        key = (*key_of(sym), function)
        if key not in self._found:
            self._found[key] = self._bind(sym, function)
        return self._found[key]

    def _pick(self, tex: str, found: dict[str, Any]) -> Any:
        distinct: list[Any] = []
        for value in found.values():
            if not any(value is d for d in distinct):
                distinct.append(value)
        if len(distinct) > 1:
            raise Unread("ambiguous", f"{tex} could be {' or '.join(found)} in the code, "
                         "which differ (pass symbols={…})")
        if distinct:
            self.used[tex] = distinct[0]
            return distinct[0]
        return None

    def _bind(self, sym: p.Sym, function: bool) -> Any:
        key = key_of(sym)
        if key in self._by_key:
            value = self._by_key[key]
            if function and not callable(value):
                return None
            self.used[sym.tex] = value
            return value
        names = list(names_for(sym))
        if function and not sym.sub and not sym.accent:
            names += FUNCTION_ALIASES.get(sym.base, ())
        found = {n: self.namespace[n] for n in names if n in self.namespace}
        is_function = {n: callable(v) and not hasattr(v, "shape") for n, v in found.items()}
        found = {n: v for n, v in found.items() if is_function[n] == function}
        return self._pick(sym.tex, found)

    def bind_partial(self, node: p.Partial) -> Any:
        """``∂L/∂Z`` in a right-hand side: the code's ``dZ`` (and spellings of it)."""
        if not isinstance(node.wrt, p.Sym):
            return None
        tex = f"∂/∂{node.wrt.tex}"
        names: list[str] = []
        of = names_for(node.of) if isinstance(node.of, p.Sym) else ()
        for wrt in names_for(node.wrt):
            names += [f"d{wrt}", f"grad_{wrt}"]
            names += [f"d{o}_d{wrt}" for o in of] + [f"d{o}d{wrt}" for o in of]
        found = {n: self.namespace[n] for n in dict.fromkeys(names) if n in self.namespace}
        found = {n: v for n, v in found.items() if hasattr(v, "shape") or
                 isinstance(v, int | float)}
        return self._pick(tex, found)
