"""The constructs of the grammar beyond sums and products (see ``parse``): fractions and
partial derivatives, sums over an index, indicator brackets ``[cond]`` / ``\\mathbb{1}``,
accents and named functions. ``Forms`` is a part of ``parse.Parser``, which brings the
token helpers (``take``, ``at``, ``group_tokens`` …) and the core grammar it calls back."""

from __future__ import annotations

from typing import Any

from .refusals import Unread
from .tokens import ACCENTS, COMPARE, OPEN, Token
from .tree import Call, Compare, Frac, Iverson, Node, Num, Ones, Partial, Sum, Sym


class Forms:
    """The grammar's special forms (methods of ``parse.Parser``)."""

    def accented(self, command: str) -> Node:
        toks = self.group_tokens()
        accent = ACCENTS[command]
        if len(toks) == 1 and toks[0].text in ("1",) and command == "\\mathbf":
            if self.at("_"):  # \mathbf{1}_{z>0}
                self.take()
                return Iverson(self._condition(self.group_tokens()))
            if self.at("[", "\\{"):
                return Iverson(self._bracket_condition())
            return Ones()
        inner = self.sub_parser(toks)
        node = inner.atom()
        while inner.at("_", "^", "'"):
            if inner.at("'"):
                inner.take()
                node = add_prime(node)
            elif inner.at("_") and isinstance(node, Sym):
                inner.take()
                sub = "".join(t.text for t in inner.group_tokens())
                node = Sym(node.base, node.accent, sub, node.layer, node.primes)
            else:
                inner.take()
                node = inner.superscript(node)
        inner.end()
        if not isinstance(node, Sym):
            raise Unread("unsupported", f"{command} over an expression")
        node = Sym(node.base, accent or node.accent, node.sub, node.layer, node.primes)
        if self.at("_"):
            self.take()
            sub = "".join(t.text for t in self.group_tokens()).replace(" ", "")
            node = Sym(node.base, node.accent, sub, node.layer, node.primes)
        return node

    def bracketed(self, opener: str) -> Node:
        close = OPEN[opener]
        start = self.pos
        node = self.expr()
        if opener in ("[", "\\{", "\\lbrack") and self.peek() and self.peek().text in COMPARE:
            self.pos = start
            return Iverson(self._bracket_condition(opened=True))
        if self.at(","):
            raise Unread("unsupported", "a list in brackets")
        self.expect(close)
        return node

    def _bracket_condition(self, opened: bool = False) -> Compare:
        if not opened:
            self.take()
        left = self.expr()
        op = self.take().text
        if op not in COMPARE:
            raise Unread("syntax", "a condition needs a comparison")
        right = self.expr()
        self.take()  # the closing bracket
        return Compare(COMPARE[op], left, right)

    def _condition(self, toks: list[Token]) -> Compare:
        inner = self.sub_parser(toks + [Token("punct", "]")])
        return inner._bracket_condition(opened=True)

    def fraction(self) -> Node:
        t = self.peek()
        if t is not None and t.kind == "num" and len(t.text) > 1 and t.text.isdigit():
            self.take()  # \\tfrac12: TeX takes one digit per argument
            if len(t.text) != 2:
                raise Unread("syntax", f"\\frac{t.text}")
            return Frac(Num(float(t.text[0])), Num(float(t.text[1])))
        num_toks, den_toks = self.group_tokens(), self.group_tokens()
        if any(t.text == "\\partial" for t in num_toks + den_toks):
            return _partial(num_toks, den_toks, self)
        if _is_d(num_toks) and _is_d(den_toks, 2):
            raise Unread("derivative-rhs", "d/d…")
        a, b = self.sub_parser(num_toks), self.sub_parser(den_toks)
        num, den = a.expr(), b.expr()
        a.end()
        b.end()
        return Frac(num, den)

    def summation(self) -> Node:
        index, lower, upper = None, None, None
        if self.at("_"):
            self.take()
            toks = self.group_tokens()
            if not toks or toks[0].kind != "letter":
                raise Unread("unsupported", "a sum over something other than an index")
            index = toks[0].text
            if len(toks) > 1:
                if toks[1].text != "=":
                    raise Unread("unsupported", "a sum with a condition")
                inner = self.sub_parser(toks[2:])
                lower = inner.expr()
                inner.end()
        if self.at("^"):
            self.take()
            inner = self.sub_parser(self.group_tokens())
            upper = inner.expr()
            inner.end()
        if index is None:
            raise Unread("index-range", "of a sum with no index")
        self.bound_indices.add(index)
        body = self.product()
        return Sum(index, lower, upper, body)

    def blackboard(self) -> Node:
        letter = "".join(t.text for t in self.group_tokens())
        if letter in ("1", "I"):
            if self.at("_"):
                self.take()
                return Iverson(self._condition(self.group_tokens()))
            if self.at("[", "\\{"):
                return Iverson(self._bracket_condition())
            return Ones()
        if letter == "E":
            raise Unread("expectation", "\\mathbb{E}")
        raise Unread("unsupported", f"\\mathbb{{{letter}}}")

    def function(self, name: str, sym: Sym | None = None) -> Node:
        primes = 0
        while self.at("'", "^"):
            if self.at("'"):
                self.take()
                primes += 1
                continue
            save = self.pos
            self.take()
            text = "".join(t.text for t in self.group_tokens())
            if text in ("\\prime", "'"):
                primes += 1
                continue
            self.pos = save
            break
        if name == "sqrt":
            return Call("sqrt", (self.group(),))
        args: list[Node] = []
        if self.at("(", "[", "\\{", "\\lbrack"):
            close = OPEN[self.take().text]
            args.append(self.expr())
            while self.at(","):
                self.take()
                args.append(self.expr())
            self.expect(close)
        elif self.at("{"):
            args.append(self.group())
        else:
            args.append(self.factor())
        return Call(name, tuple(args), primes, sym)


def add_prime(node: Node) -> Node:
    if isinstance(node, Sym):
        return Sym(node.base, node.accent, node.sub, node.layer, node.primes + 1)
    if isinstance(node, Call):
        return Call(node.name, node.args, node.primes + 1, node.sym)
    raise Unread("unsupported", "a prime on an expression")


def _is_d(toks: list[Token], at_least: int = 1) -> bool:
    texts = [t.text for t in toks]
    return bool(texts) and texts[0] in ("d", "\\mathrm") and len(texts) >= at_least


def _partial(num: list[Token], den: list[Token], parser: Any) -> Node:
    def strip(toks: list[Token]) -> list[Token]:
        if not toks or toks[0].text != "\\partial":
            raise Unread("derivative-rhs", "∂ not in front of a name")
        return toks[1:]

    of, wrt = strip(num), strip(den)
    if not of:
        raise Unread("derivative-rhs", "the operator ∂/∂…")
    a, b = parser.sub_parser(of), parser.sub_parser(wrt)
    left, right = a.expr(), b.expr()
    a.end()
    b.end()
    return Partial(left, right)
