"""Math for markdown-it: every delimiter a MathJax + Jekyll/kramdown author writes.

The rules here take math out of the Markdown stream before any other rule can see it, so
Markdown never touches TeX (``_``, ``*``, ``~~``, ``|``, ``<``, backslashes ...). Output:

* inline: ``<span class="math inline">\\(TEX\\)</span>``
* display: ``<div class="math display">\\[TEX\\]</div>`` as a block, or
  ``<span class="math display">\\[TEX\\]</span>`` inside running text (a ``<div>`` may not sit
  inside a ``<p>``; the browser would split the paragraph around it).

Delimiters (each can be switched off through ``math_plugin`` options):

* ``$$ TEX $$`` on lines of its own: display, also right after a line of text (kramdown made
  that inline math, which loses ``\\tag``/``\\eqref`` in MathJax 3). Inside a line: inline,
  kramdown's rule: the content runs to the next ``$$``, without regard to braces; except
  that one holding ``\\tag`` or ``\\label`` is display math, for the same MathJax 3 reason.
* ``$ TEX $``: inline, pandoc's rules (no space after the opener nor before the closer,
  closer not followed by a digit). ``\\$`` is a literal dollar (markdown-it's escape rule).
* ``\\\\( TEX \\\\)``, ``\\\\[ TEX \\\\]``: what kramdown authors write. kramdown resolved its
  backslash escapes there before MathJax saw the text (``\\_`` -> ``_``, ``\\\\`` -> ``\\``,
  ``\\{`` -> ``{`` ...; ``\\\\`` before a newline was a ``<br>``), so we resolve exactly the
  same set: the TeX MathJax gets is the TeX it got from Jekyll.
* ``\\( TEX \\)``, ``\\[ TEX \\]``: the closer is found the way MathJax finds it (backslash
  pairs skipped, braces balanced).
* ``\\begin{ENV} ... \\end{ENV}``: display. Verbatim, except that a ``\\\\`` that ends the last
  row is dropped: kramdown turned that one into a ``<br>``, so Jekyll's MathJax never saw it,
  and an empty last row adds nothing to the rendering.
* ``\\eqref{..}`` / ``\\ref{..}`` in running text: inline math holding just the reference, as
  MathJax's ``processRefs`` would have found it in Jekyll's page.

Posts of a Jekyll site (``MathOptions.kramdown``, see :mod:`sitegen.markdown.jekyll`) differ:
``\\(``/``\\[`` are escaped brackets (text), kramdown's escapes are resolved inside ``$ .. $``,
a ``$$`` block right after a line of text is inline unless numbered, and single dollars
follow ``MathOptions.dollars`` ("off", "pandoc", or MathJax's rule: :mod:`.dollars`).

Bad math (an opener without closer, unbalanced braces) is left in the text as written, with
a warning in ``env["diagnostics"]``; parsing goes on after it.

MathJax 3 configuration this output needs: ``tex.inlineMath = [["\\(", "\\)"]]``,
``tex.displayMath = [["\\[", "\\]"]]`` (never ``$``: a dollar left in prose is prose),
``tex.tags = "ams"``, ``tex.processEscapes = true`` (bad math shown as written may hold
``\\\\(``, which must not open math). ``processEnvironments``/``processRefs`` are not needed
(environments and refs arrive delimited) unless ``wrap_environments`` is off.

The plugin's parts, in the order a post meets them: :mod:`.math_options` (the delimiters
and dialect), :mod:`.math_tex` (reading TeX as MathJax and kramdown did), the rules
:mod:`.math_block` and :mod:`.math_inline` (with :mod:`.math_environment` for
``\\begin{ENV}`` and :mod:`.math_emit` for what an inline rule leaves), then
:mod:`.math_render` (the HTML).
"""

from __future__ import annotations

from markdown_it import MarkdownIt

from sitegen.markdown.lines import line_tracking_plugin
from sitegen.markdown.math_block import make_block_rule
from sitegen.markdown.math_inline import make_inline_rule
from sitegen.markdown.math_options import parse_math_options
from sitegen.markdown.math_render import make_block_renderer, render_inline

__all__ = ["math_plugin"]


def math_plugin(md: MarkdownIt, **options: bool) -> None:
    """Add math rules to ``md``; ``options`` are the fields of :class:`MathOptions`."""
    opts = parse_math_options(options)
    line_tracking_plugin(md)
    # Before "escape" (which would eat "\\" and "\(") and "backticks"/"emphasis".
    md.inline.ruler.before("escape", "math_inline", make_inline_rule(opts))
    md.block.ruler.before(
        "fence",
        "math_block",
        make_block_rule(opts),
        {"alt": ["paragraph", "reference", "blockquote", "list"]},
    )
    md.add_render_rule("math_inline", render_inline)
    md.add_render_rule("math_block", make_block_renderer(opts))
