"""excerpts: automatic excerpts, and math in titles and excerpts.

* A post without an ``excerpt`` in its front matter gets its first paragraph as one,
  rendered like the body, math intact (``post.data["excerpt_html"]``), as Jekyll and Hugo do.
* A title or front-matter excerpt with math (``title: "Why $\\nabla_w L$ vanishes"``) is
  rendered as inline Markdown, so its math reaches MathJax on every page that shows it
  (``post.data["title_html"]``, ``post.data["excerpt_html"]``); ``post.data["title_text"]``
  is a plain-text form for ``<title>``, link previews and the feed (``Why ∇_w L vanishes``),
  and ``post.data["excerpt_text"]`` one of a front-matter excerpt with math (the feed's
  summary). On a Jekyll site the title's math is what MathJax found in the title as the
  layout printed it, untouched by kramdown (``$KL(q \\| p)$`` keeps its ``\\|``), with the
  dollar rules of the site's MathJax.
* ``post.data["listing_math"]`` says that a list showing the post needs MathJax.

An excerpt is shown on other pages than the post's (the index, tag pages), so it is made
to mean there what it means on the post: a relative link or image (``fig.png``,
``../other/``, ``#derivation``) points where it does from the post; an equation keeps the
post's number (its ``\\label`` becomes that ``\\tag``, so two excerpts on a page never
share a label); ``\\eqref{x}`` shows the post's number for ``x`` and links to it there; and
footnote marks, whose notes are not shown, are left out.

All of it is made while the body is parsed (a core rule), so it is cached with the body.
"""

from __future__ import annotations

import html as html_text
import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from markdown_it.token import Token

from sitegen.hooks import hookimpl
from sitegen.markdown.html_math import mark_up_html_page

from .feeds.numbering import EquationNumbers
from .references import REFERENCE

SETTINGS = {"auto": True}  # auto = false: only front-matter excerpts are shown

MATH_TYPES = ("math_inline", "math_block")
_MATH_START = re.compile(r"\$|\\\(|\\\[|\\begin\{")

# TeX commands a plain-text title can show as a character.
SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ",
    "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "nabla": "∇",
    "partial": "∂", "infty": "∞", "sum": "∑", "prod": "∏", "int": "∫", "cdot": "·",
    "times": "×", "to": "→", "rightarrow": "→", "leftarrow": "←", "leq": "≤", "le": "≤",
    "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠", "approx": "≈", "in": "∈", "sim": "∼",
    "pm": "±", "ell": "ℓ", "top": "⊤", "odot": "⊙", "otimes": "⊗", "log": "log",
    "exp": "exp", "max": "max", "min": "min", "sqrt": "√", "ldots": "…", "dots": "…",
}
BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼"}
_COMMAND = re.compile(r"\\([A-Za-z]+)\s*")


def tex_as_text(tex: str) -> str:
    """A plain-text reading of inline TeX: symbols as characters, groups unwrapped
    (``\\nabla_w L`` -> ``∇_w L``, ``\\mathbb{R}^n`` -> ``ℝ^n``)."""
    tex = re.sub(r"\\href\s*\{[^{}]*\}", "", tex)  # a link's address is not read out
    tex = re.sub(r"\\mathbb\s*\{\s*([A-Z])\s*\}", lambda m: BLACKBOARD.get(m[1], m[1]), tex)
    tex = re.sub(r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", r"\1/\2", tex)

    def symbol(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in SYMBOLS:
            shown = SYMBOLS[name]
            # the space ending a command is TeX's, not the author's, after a letter-like
            # symbol (\partial L -> ∂L); words and relations keep theirs (\log x, \to 0)
            ordinary = len(shown) == 1 and (shown.isalpha() or shown in "∂∇∞")
            return shown + (" " if match.group(0).endswith(" ") and not ordinary else "")
        return ""  # \mathbf, \left, \, … : their argument (or nothing) is what shows

    text = _COMMAND.sub(symbol, tex)
    text = text.replace("{", "").replace("}", "").replace("\\", "")
    return re.sub(r"\s+", " ", text).strip()


def _text_of(tokens: list[Any]) -> str:
    parts = []
    for token in tokens:
        if token.type == "image":
            continue  # its alt text is not read as text of the paragraph
        if token.children:
            parts.append(_text_of(token.children))
        elif token.type in MATH_TYPES:
            parts.append(tex_as_text(token.content))
        elif token.type in ("text", "code_inline", "text_special"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def _has_math(tokens: list[Any]) -> bool:
    return any(
        t.type in MATH_TYPES or (t.children is not None and _has_math(t.children)) for t in tokens
    )


def _inline(
    md: Any, text: str, env: dict[str, Any], listed: Any = None
) -> tuple[str, str, bool]:
    """(HTML, plain text, has math) of one line of inline Markdown; ``listed`` makes its
    tokens read the same away from the post (see :func:`for_listing`)."""
    # not the post's env: the core rules that run again for this text (this one too) must
    # not take it for the body, and a title's oddities are not reported as the body's
    own = {k: v for k, v in env.items() if k not in ("diagnostics", "post")}
    own["diagnostics"] = []
    tokens = md.parseInline(text, own)
    if listed is not None:
        tokens = listed(tokens)
    return md.renderer.render(tokens, md.options, own), _text_of(tokens), _has_math(tokens)


def _jekyll_title(md: Any, title: str, env: dict[str, Any]) -> str | None:
    """A Jekyll title's HTML with its math marked up as MathJax found it there (the layout
    printed ``{{ page.title }}`` as written; kramdown never saw it), or None when the
    site is not a Jekyll one (``md`` has no rule for math in raw HTML) or it has no math."""
    own = {k: v for k, v in env.items() if k not in ("diagnostics", "post", "has_math")}
    own["diagnostics"] = []
    token = Token("html_block", "", 0)
    token.content = html_text.escape(title, quote=False)
    mark_up_html_page(md, own, [token])
    return token.content if own.get("has_math") else None


def first_paragraph(tokens: list[Any]) -> tuple[int, int] | None:
    """Indexes of the open and close tokens of the first top-level paragraph with text
    (one holding only an image or an include is passed over)."""
    for i, token in enumerate(tokens[:-2]):
        if token.type == "paragraph_open" and token.level == 0 and not token.hidden:
            if _has_text([tokens[i + 1]]):
                return i, i + 2
    return None


def _has_text(tokens: list[Any]) -> bool:
    """Whether ``_text_of(tokens)`` has more than white space (known at its first word)."""
    for token in tokens:
        if token.type == "image":
            continue
        if token.children:
            if _has_text(token.children):
                return True
        elif token.type in MATH_TYPES:
            if tex_as_text(token.content).strip():
                return True
        elif token.type in ("text", "code_inline", "text_special"):
            if token.content.strip():
                return True
    return False


def _math_tokens(tokens: list[Any]) -> list[Any]:
    """Math tokens in document order, those inside paragraphs included."""
    found = []
    for token in tokens:
        if token.type in MATH_TYPES:
            found.append(token)
        elif token.children:
            found.extend(_math_tokens(token.children))
    return found


# what in an excerpt's math shows or takes an equation number
_NUMBERED = re.compile(r"\\(?:eqref|ref|label|tag|begin)(?![A-Za-z])")


def _is_reference(token: Any) -> bool:
    return token.markup == "ref"  # a \\eqref{x} written in running text


def equation_numbers(tokens: list[Any]) -> tuple[dict[int, str], dict[str, str]]:
    """The post's AMS numbering: each formula's TeX with its numbers as ``\\tag`` and no
    ``\\label`` (keyed by ``id(token)``), and the number each label shows."""
    numbers = EquationNumbers()
    tagged: dict[int, str] = {}
    for token in _math_tokens(tokens):
        if not _is_reference(token):
            display = token.type == "math_block" or bool((token.meta or {}).get("display"))
            tagged[id(token)] = numbers.number(token.content, display)
    return tagged, numbers.labels


def _linked_references(tex: str, labels: dict[str, str], post_url: str) -> str:
    """``\\eqref{x}`` / ``\\ref{x}`` as the number the post shows, linked to its equation
    (the anchor MathJax gives it); a label the post lacks is left for MathJax's "(???)"."""
    for match in reversed(list(REFERENCE.finditer(tex))):
        name, label, start, end = match[1], match[2].strip(), match.start(), match.end()
        if label in labels:
            shown = f"({labels[label]})" if name == "eqref" else labels[label]
            anchor = "mjx-eqn:" + re.sub(r"\s", "_", label)
            # in TeX, "%" starts a comment and "#", "{", "}" are special: no link then
            if re.search(r"[%#{}\\]", post_url + anchor):
                replacement = f"\\text{{{shown}}}"
            else:
                replacement = f"\\href{{{post_url}#{anchor}}}{{\\text{{{shown}}}}}"
            tex = tex[:start] + replacement + tex[end:]
    return tex


def _from_post(url: str, post_url: str) -> str:
    """``url`` as written in the post, made to point at the same place from any page."""
    parts = urlsplit(url)
    if not url or parts.scheme or parts.netloc or url.startswith("/"):
        return url
    return urljoin(post_url, url)


def _copy_tokens(tokens: list[Any]) -> list[Any]:
    """Copies of the tokens to change: their attributes, meta, map and children are their
    own (a deep copy took a tenth of a clean build)."""
    return [
        Token(
            t.type, t.tag, t.nesting, dict(t.attrs), list(t.map) if t.map else t.map,
            t.level, _copy_tokens(t.children) if t.children else t.children, t.content,
            t.markup, t.info, dict(t.meta) if t.meta else {}, t.block, t.hidden,
        )
        for t in tokens
    ]


def for_listing(
    tokens: list[Any], tagged: dict[int, str], labels: dict[str, str], post_url: str
) -> list[Any]:
    """A copy of ``tokens`` (a part of the post) that reads the same on another page."""
    shown = _copy_tokens(tokens)
    originals, copies = _math_tokens(tokens), _math_tokens(shown)
    for original, token in zip(originals, copies, strict=True):
        token.content = _linked_references(
            tagged.get(id(original), token.content), labels, post_url
        )
    for token in shown:
        if token.children:
            token.children = [c for c in token.children if c.type != "footnote_ref"]
            for child in token.children:
                if child.type == "link_open":
                    child.attrSet("href", _from_post(str(child.attrGet("href") or ""), post_url))
                elif child.type == "image":
                    child.attrSet("src", _from_post(str(child.attrGet("src") or ""), post_url))
    return shown


def make_rule(md: Any, auto: bool, url_for: Any):  # noqa: ANN201 - a markdown-it core rule
    def excerpts(state: Any) -> None:
        post = state.env.get("post")
        if post is None or not hasattr(post, "data"):
            return  # another parser's run (the feed's)
        data = post.data
        listing_math = False
        post_url = url_for(post.url)
        numbering: list[tuple[dict[int, str], dict[str, str]]] = []
        rules = md.core.ruler.getRules("")
        # a Jekyll site's parser: the one that marks up math in raw HTML
        kramdown = any(getattr(rule, "__name__", "") == "html_block_math" for rule in rules)

        def numbers_for(part: list[Any]) -> tuple[dict[int, str], dict[str, str]]:
            """The post's numbering when ``part`` shows a number (made once, as needed)."""
            if not any(_NUMBERED.search(t.content) for t in _math_tokens(part)):
                return {}, {}
            if not numbering:
                numbering.append(equation_numbers(state.tokens))
            return numbering[0]

        for key in ("title_html", "title_text", "excerpt_html", "excerpt_text"):
            data.pop(key, None)
        if post.title and _MATH_START.search(post.title):
            html, text, math = _inline(md, post.title, state.env)
            if kramdown:
                html = _jekyll_title(md, post.title, state.env)
                math = html is not None
            if math:
                data["title_html"], data["title_text"] = html, text
                listing_math = True
        if post.excerpt:
            if _MATH_START.search(post.excerpt):
                html, text, math = _inline(
                    md,
                    post.excerpt,
                    state.env,
                    lambda t: for_listing(t, {}, numbers_for(t)[1], post_url),
                )
                if math:
                    data["excerpt_html"], data["excerpt_text"] = f"<p>{html}</p>", text
                    listing_math = True
        elif auto:
            found = first_paragraph(state.tokens)
            if found is not None:
                start, end = found
                part = state.tokens[start : end + 1]
                part = for_listing(part, *numbers_for(part), post_url)
                data["excerpt_html"] = md.renderer.render(part, md.options, state.env)
                listing_math = listing_math or _has_math(part)
        data["listing_math"] = listing_math

    return excerpts


@hookimpl
def sitegen_extend_markdown(md: Any, site: Any) -> None:
    auto = site.config.plugin_options("excerpts").get("auto", True) is not False
    md.core.ruler.push("sitegen_excerpts", make_rule(md, auto, site.url_for))
