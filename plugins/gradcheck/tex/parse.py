"""TeX math → tokens → expression tree (no numpy here: the tree is plain data).

The grammar, loosest binding first::

    expr    := ["-"|"+"] product (("+"|"-") product)*
    product := factor ((\\odot|\\circ|\\cdot|\\times|*|.|/|juxtaposition) factor)*
    factor  := atom postfix*            postfix: ^{...}, _{...} on a group, '
    atom    := number | symbol | group | \\frac{a}{b} | \\sqrt{a} | function(arg)
             | \\sum_{i=1}^{N} product | [cond] | \\mathbb{1}[cond] | \\mathbf{1}

Juxtaposition and ``\\cdot`` are one ``Mul`` kind ("product": matrix product when both
sides are matrices, scaling otherwise); ``\\odot``/``\\circ`` are "entrywise". ``Mul``
chains stay flat so the evaluator can refuse mixes whose grouping changes the value.
Everything the grammar does not know raises ``Unread`` with a named reason.
The special forms (fractions, sums, indicators, accents, functions) are in ``forms``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .forms import Forms, add_prime
from .refusals import Unread
from .tokens import (  # noqa: F401 - the tables are part of this module's interface
    ACCENTS,
    COMPARE,
    FUNCTIONS,
    GREEK,
    NAMED,
    OPEN,
    PRODUCTS,
    QUANTIFIERS,
    TRANSPOSE,
    Token,
    tokens,
)
from .tree import (  # noqa: F401 - callers build and match trees through this module
    Add,
    Apply,
    Call,
    Compare,
    Frac,
    Iverson,
    Mul,
    Node,
    Num,
    Ones,
    Partial,
    Power,
    Sum,
    Sym,
    Unary,
)


@dataclass
class Parser(Forms):
    toks: list[Token]
    superscript_index: bool = False
    pos: int = 0
    bound_indices: set[str] = field(default_factory=set)

    # -- helpers
    def peek(self, ahead: int = 0) -> Token | None:
        i = self.pos + ahead
        return self.toks[i] if i < len(self.toks) else None

    def at(self, *texts: str) -> bool:
        t = self.peek()
        return t is not None and t.text in texts

    def take(self) -> Token:
        t = self.peek()
        if t is None:
            raise Unread("syntax", "the formula ends too early")
        self.pos += 1
        return t

    def expect(self, text: str) -> None:
        t = self.take()
        if t.text != text:
            raise Unread("syntax", f"expected {text!r}, found {t.text!r}")

    def group_tokens(self) -> list[Token]:
        """The tokens of a ``{…}`` argument (or the single next token)."""
        if not self.at("{"):
            return [self.take()]
        self.take()
        depth, out = 1, []
        while True:
            t = self.take()
            if t.text == "{":
                depth += 1
            elif t.text == "}":
                depth -= 1
                if depth == 0:
                    return out
            out.append(t)

    def sub_parser(self, toks: list[Token]) -> Parser:
        return Parser(toks, self.superscript_index, 0, set(self.bound_indices))

    def group(self) -> Node:
        inner = self.sub_parser(self.group_tokens())
        node = inner.expr()
        inner.end()
        return node

    def end(self) -> None:
        if self.peek() is not None:
            raise Unread("syntax", f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]

    # -- grammar
    def expr(self) -> Node:
        terms: list[tuple[int, Node]] = []
        sign = 1
        if self.at("-", "+"):
            sign = -1 if self.take().text == "-" else 1
        terms.append((sign, self.product()))
        while self.at("+", "-"):
            sign = -1 if self.take().text == "-" else 1
            terms.append((sign, self.product()))
        if len(terms) == 1 and terms[0][0] == 1:
            return terms[0][1]
        if len(terms) == 1:
            return Unary("neg", terms[0][1])
        return Add(tuple(terms))

    def product(self) -> Node:
        factors = [self.factor()]
        ops: list[str] = []
        while True:
            t = self.peek()
            if t is None or t.text in ("+", "-", ")", "]", "}", "\\}", "=", ",", "\\\\",
                                       "\\rbrack", "\\rparen", "|") or t.text in COMPARE \
                    or t.text in QUANTIFIERS:
                break
            if t.text in (".", ",") and self.peek(1) is None:
                break  # the sentence's full stop after a display formula
            if t.text in PRODUCTS:
                self.take()
                ops.append(PRODUCTS[t.text])
            elif t.text == "/":
                self.take()
                ops.append("divide")
            else:
                ops.append("product")
            factors.append(self.factor())
        if len(factors) == 1:
            return factors[0]
        return Mul(tuple(factors), tuple(ops))

    def factor(self) -> Node:
        node = self.atom()
        while True:
            if self.at("^"):
                self.take()
                node = self.superscript(node)
            elif self.at("'"):
                self.take()
                node = add_prime(node)
            elif self.at("_") and not isinstance(node, Sym):
                raise Unread("unsupported", "a subscript on a group")
            else:
                return node

    def superscript(self, node: Node) -> Node:
        toks = self.group_tokens()
        text = "".join(t.text for t in toks).replace(" ", "")
        if text in TRANSPOSE or text in ("\\mathsfT", "\\mathrmT", "\\textT", "\\top\\!"):
            return Unary("transpose", node)
        if text == "-1":
            return Unary("inverse", node)
        if text in ("\\prime", "'"):
            return add_prime(node)
        if text in ("\\top-1", "-\\top", "-T"):
            return Unary("inverse", Unary("transpose", node))
        if text.startswith("(") and text.endswith(")") and isinstance(node, Sym):
            return Sym(node.base, node.accent, node.sub, text[1:-1], node.primes)
        if self.superscript_index and isinstance(node, Sym) and re.fullmatch(r"\w+", text):
            sub = f"{node.sub},{text}" if node.sub else text
            return Sym(node.base, node.accent, sub, node.layer, node.primes)
        inner = self.sub_parser(toks)
        exponent = inner.expr()
        inner.end()
        return Power(node, exponent)

    def atom(self) -> Node:
        t = self.take()
        text = t.text
        if t.kind == "num":
            return Num(float(text))
        if t.kind == "letter":
            return self.symbol(text, None)
        if text in OPEN:
            return self.bracketed(text)
        if text == "{":  # a TeX group: {x_1}, {(1 - y)}
            self.pos -= 1
            return self.group()
        if text == "-":  # "a * -b": a sign after an operator
            return Unary("neg", self.factor())
        if text in ("\\frac", "\\dfrac", "\\tfrac"):
            return self.fraction()
        if text == "\\partial":
            raise Unread("derivative-rhs", "\\partial outside a fraction")
        if text == "\\nabla":
            raise Unread("nabla-rhs")
        if text == "\\sum":
            return self.summation()
        if text in ("\\mathbb", "\\mathbbm"):
            return self.blackboard()
        if text in ACCENTS:
            return self.accented(text)
        if text in FUNCTIONS:
            return self.function(FUNCTIONS[text])
        if text in NAMED:
            name = "".join(x.text for x in self.group_tokens())
            if len(name) == 1:  # \mathrm{d}, \mathrm{x}: a symbol written upright
                return self.symbol(name, None)
            if name in ("diag", "softmax", "relu", "ReLU", "sigmoid", "tanh", "exp", "log"):
                return self.function(name.lower())
            return self.function(name, Sym(name))
        if text[1:] in GREEK:
            return self.symbol(text[1:], None)
        if text in ("\\begin",):
            env = "".join(x.text for x in self.group_tokens())
            raise Unread("entry-by-entry", f"\\begin{{{env}}}")
        if text in ("\\mathbb{E}", "\\E", "\\Pr"):
            raise Unread("expectation", text)
        raise Unread("unsupported", f"{text!r}")

    def symbol(self, base: str, accent: str | None) -> Node:
        sub = None
        if self.at("_"):
            self.take()
            sub = "".join(t.text for t in self.group_tokens()).replace(" ", "")
        sym = Sym(base, accent, sub)
        if base == "sigma" and accent is None and sub is None and self.at("(", "'", "^"):
            return self.function("sigma", sym)
        if self.at("(") and not (base == "e" and sub is None):
            save = self.pos
            self.take()
            inner = self.expr()
            if self.at(","):
                self.pos = save
                return self.function(sym.tex, sym)
            self.expect(")")
            return Apply(sym, inner)
        return sym


def parse(tex: str, superscript_index: bool = False) -> Node:
    """The tree of one expression (a right-hand side)."""
    parser = Parser(tokens(tex), superscript_index)
    if parser.peek() is None:
        raise Unread("no-rhs")
    node = parser.expr()
    if parser.at(",") and parser.peek(1) is not None and parser.peek(1).text in REMARK:
        parser.take()  # "x^\\top \\delta, \\qquad (D×1)(1×1) → D×1": a remark follows
    if parser.at(*REMARK):
        rest = {t.text for t in parser.toks[parser.pos:]}
        if rest & ({"\\forall", "\\exists"} | set(COMPARE)):  # a case or a condition
            raise Unread("quantifier", " ".join(t.text for t in parser.toks[parser.pos:])[:60])
        return node  # shapes or a comment after \\qquad do not change the value
    if parser.peek() is not None and parser.peek().text in QUANTIFIERS:  # type: ignore[union-attr]
        raise Unread("quantifier", parser.peek().text)  # type: ignore[union-attr]
    if parser.at(",", "."):
        parser.take()  # the sentence's punctuation after a display formula
    parser.end()
    return node


REMARK = ("\\quad", "\\qquad")
