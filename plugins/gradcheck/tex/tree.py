"""The expression tree the parser builds: plain frozen dataclasses, no numpy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    """Base of the tree; ``tex`` is the source text, for messages."""


@dataclass(frozen=True)
class Num(Node):
    value: float


@dataclass(frozen=True)
class Sym(Node):
    """A name: base (``W``, ``\\delta``), accent (hat/bar/tilde/dot), subscript and
    superscript text as written (index or part of the name: the binder decides), primes."""

    base: str
    accent: str | None = None
    sub: str | None = None
    layer: str | None = None  # ``W^{(1)}``
    primes: int = 0

    @property
    def tex(self) -> str:
        base = self.base if len(self.base) == 1 else f"\\{self.base}"
        text = base if not self.accent else f"\\{self.accent}{{{base}}}"
        if self.sub:
            text += f"_{{{self.sub}}}"
        if self.layer:
            text += f"^{{({self.layer})}}"
        return text + "'" * self.primes


@dataclass(frozen=True)
class Unary(Node):
    op: str  # neg | transpose | inverse
    arg: Node


@dataclass(frozen=True)
class Power(Node):
    arg: Node
    exponent: Node


@dataclass(frozen=True)
class Add(Node):
    terms: tuple[tuple[int, Node], ...]  # (sign, term)


@dataclass(frozen=True)
class Mul(Node):
    factors: tuple[Node, ...]
    ops: tuple[str, ...]  # between factors: product | entrywise | divide


@dataclass(frozen=True)
class Frac(Node):
    num: Node
    den: Node


@dataclass(frozen=True)
class Call(Node):
    name: str  # exp, log, …, or a Sym's tex for \sigma, f, \operatorname{softmax}
    args: tuple[Node, ...]
    primes: int = 0
    sym: Sym | None = None  # the name when it is a symbol (σ, f) the binder resolves


@dataclass(frozen=True)
class Apply(Node):
    """``f(x)`` with ``f`` a plain symbol: a call when ``f`` is a function, else ``f·x``."""

    sym: Sym
    arg: Node


@dataclass(frozen=True)
class Sum(Node):
    index: str
    lower: Node | None
    upper: Node | None
    body: Node


@dataclass(frozen=True)
class Compare(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Iverson(Node):
    cond: Compare


@dataclass(frozen=True)
class Ones(Node):
    pass


@dataclass(frozen=True)
class Partial(Node):
    """∂L/∂Z inside a right-hand side: bound to the code's ``dZ`` and friends."""

    of: Node
    wrt: Node
