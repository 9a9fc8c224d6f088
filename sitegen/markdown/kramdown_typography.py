"""kramdown's typographic replacements, for math kramdown took for text.

On a Jekyll site, ``$ … $`` (and a bare ``\\begin{align}``) is text to kramdown: before
MathJax saw it, kramdown had made ``'`` and ``"`` curly quotes, ``...`` an ellipsis,
``--`` / ``---`` dashes and ``<<`` / ``>>`` guillemets. What the blog's readers saw is that,
so the math of a Jekyll site gets the same replacements. The quote rules are kramdown's
(after RubyPants): which quote a ``'`` becomes depends on the characters around it.
"""

from __future__ import annotations

import re

_PUNCT = r"""[!"#$%'()*+,\-./:;<=>?@\[\\\]^_`{|}~]"""
_CLOSE = r"""[^ \\\t\r\n\[{(-]"""
_FLAGS = re.ASCII | re.MULTILINE  # Ruby's \w, \s and \b are ASCII; its $ ends a line

# (pattern, what each part becomes): an int keeps that group; "ldquo" … are the curly
# quotes; "lquote1" / "rquote2" the left / right quote of the kind in group 1 / 2.
_RULES = [
    (r"""("|')(?=[_*]{1,2}\S)""", ("lquote1",)),
    (rf"""("|')(?={_PUNCT}(?!\.\.\.)\B)""", ("rquote1",)),
    (r"""(\s?)"'(?=\w)""", (1, "ldquo", "lsquo")),
    (r"""(\s?)'"(?=\w)""", (1, "lsquo", "ldquo")),
    (r"""(\s?)'(?=\d\ds)""", (1, "rsquo")),
    (r"""(\s)('|")(?=\w)""", (1, "lquote2")),
    (rf"""({_CLOSE})('|")""", (1, "rquote2")),
    (r"""("|')(?=\s|s\b|$)""", ("rquote1",)),
    (r"""(.?)'""", (1, "lsquo")),
    (r"""(.?)\"""", (1, "ldquo")),
]
_COMPILED = [
    (re.compile(p, _FLAGS | (re.DOTALL if p.startswith("(.?)") else 0)), s) for p, s in _RULES
]
_QUOTES = {"ldquo": "\u201c", "rdquo": "\u201d", "lsquo": "\u2018", "rsquo": "\u2019"}
_SYMBOLS = {
    "---": "\u2014",
    "--": "\u2013",
    "...": "\u2026",
    "\\<<": "<<",
    "\\>>": ">>",
    "<< ": "\u00ab\u00a0",
    " >>": "\u00a0\u00bb",
    "<<": "\u00ab",
    ">>": "\u00bb",
}
# where a replacement may start: a quote (with the character before it), or a symbol
_START = re.compile(r"""[^\\]?["']|---|--|\.\.\.|\\<<|\\>>|<< | >>|<<|>>""", re.DOTALL)
_SYMBOL = re.compile(r"""---|--|\.\.\.|\\<<|\\>>|<< | >>|<<|>>""")


def _quote(kind: str, char: str) -> str:
    side = kind[0]  # "l" or "r"
    return _QUOTES[f"{side}{'s' if char == chr(39) else 'd'}quo"]


def _smart_quote(text: str, pos: int) -> tuple[str, int] | None:
    for pattern, parts in _COMPILED:
        found = pattern.match(text, pos)
        if found is None:
            continue
        out = []
        for part in parts:
            if isinstance(part, int):
                out.append(found.group(part))
            elif part in _QUOTES:
                out.append(_QUOTES[part])
            else:  # "lquote1", "rquote2": the quote in that group, turned
                out.append(_quote(part, found.group(int(part[-1]))))
        return "".join(out), found.end()
    return None


def kramdown_typography(text: str, before: str = "") -> str:
    """``text`` as kramdown's span parser left it: quotes curled, dashes, ellipses and
    guillemets made characters. ``before``: the character kramdown saw in front of it (the
    ``$`` of ``$…$``), which decides a first quote's side."""
    if not any(c in text for c in "'\"") and not _SYMBOL.search(text):
        return text
    if before:
        return _replaced(before + text)[len(before) :]
    return _replaced(text)


def _replaced(text: str) -> str:
    out, pos = [], 0
    while True:
        start = _START.search(text, pos)
        if start is None:
            out.append(text[pos:])
            return "".join(out)
        at = start.start()
        symbol = _SYMBOL.match(text, at)
        if symbol is not None:
            out.append(text[pos:at])
            out.append(_SYMBOLS[symbol.group(0)])
            pos = symbol.end()
            continue
        out.append(text[pos:at])
        made = _smart_quote(text, at)
        if made is None:  # no rule took it (none is expected to fail): keep one character
            out.append(text[at])
            pos = at + 1
            continue
        out.append(made[0])
        pos = made[1]
