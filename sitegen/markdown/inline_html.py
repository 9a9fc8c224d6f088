"""Two places where CommonMark's handling of HTML and images would drop a math post's text.

* A line that starts with an HTML comment and goes on after it (``<!-- TODO --> The loss is
  $L$, see[^1].``): CommonMark makes the whole line raw HTML, so its math is shown as
  ``$…$`` and the footnote vanishes. kramdown, which Jekyll posts were written for, treats
  such a comment as part of the paragraph; so do we: the line starts a paragraph (and
  inside one it does not end it), in which the comment is inline HTML. A comment alone on
  its line is still an HTML block.
* An image's ``alt`` text is the label with markup stripped; markdown-it keeps only the
  text tokens, so math in the label (``![plot of $\\sigma(x)$](p.png)``) was dropped. Here
  math is kept as the author wrote it (an alt text is never typeset).
"""

from __future__ import annotations

from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.html_block import html_block
from markdown_it.rules_block.paragraph import paragraph
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

__all__ = ["alt_text", "inline_html_plugin"]

# How the math rules' markup (token.markup) is written back around the TeX.
_MATH_DELIMITERS = {
    "$": ("$", "$"),
    "$$": ("$$", "$$"),
    "\\(": ("\\(", "\\)"),
    "\\\\(": ("\\(", "\\)"),
    "\\[": ("\\[", "\\]"),
    "\\\\[": ("\\[", "\\]"),
}


def _comment_then_text(state: StateBlock, line: int) -> bool:
    """The line starts with a complete HTML comment and has more text after it."""
    start = state.bMarks[line] + state.tShift[line]
    end = state.eMarks[line]
    src = state.src
    if not src.startswith("<!--", start):
        return False
    close = src.find("-->", start + 4, end)
    return close >= 0 and bool(src[close + 3 : end].strip())


def _html_block_or_paragraph(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent < 4 and _comment_then_text(state, start):
        if silent:
            return False  # it does not end the paragraph above: it is one of its lines
        return paragraph(state, start, end, False)
    return html_block(state, start, end, silent)


def alt_text(tokens: Sequence[Token]) -> str:
    """An image label's text without markup, math kept with its delimiters."""
    out: list[str] = []
    for token in tokens:
        kind = token.type
        if kind in ("text", "text_special", "code_inline", "html_inline"):
            out.append(token.content)
        elif kind == "math_inline":
            source = token.meta.get("source")  # the math as written, delimiters included
            if source is None:
                opener, closer = _MATH_DELIMITERS.get(token.markup, ("", ""))
                source = f"{opener}{token.content}{closer}"
            out.append(source)
        elif kind == "image" and token.children:
            out.append(alt_text(token.children))
        elif kind in ("softbreak", "hardbreak"):
            out.append("\n")
    return "".join(out)


def _render_image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict):
    token = tokens[idx]
    token.attrSet("alt", alt_text(token.children or []))
    return self.renderToken(tokens, idx, options, env)


def inline_html_plugin(md: MarkdownIt) -> None:
    """Comment-led lines as paragraphs; math kept in image alt text."""
    md.block.ruler.at(
        "html_block", _html_block_or_paragraph, {"alt": ["paragraph", "reference", "blockquote"]}
    )
    md.add_render_rule("image", _render_image)
