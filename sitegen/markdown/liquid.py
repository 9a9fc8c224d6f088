"""The Liquid that Jekyll posts use, recognised by markdown-it rules (never by running a
template engine over a post: TeX is full of ``{{`` and ``{%``).

Supported (SPEC §4.2):

* ``{% include NAME.html key="value" key2=page.var %}`` -> ``LiquidContext.include``
* ``{% highlight LANG [linenos] %}`` … ``{% endhighlight %}`` -> a highlighted code block
* ``{% raw %}`` … ``{% endraw %}`` -> the content, with no Liquid in it recognised
* ``{% comment %}`` … ``{% endcomment %}`` -> nothing (a Liquid comment)
* ``{% post_url NAME %}``, ``{% link PATH %}`` -> a URL (also as a Markdown link target:
  ``[text]({% post_url NAME %})``, which plain Markdown would reject for its spaces)
* ``{{ site.KEY }}``, ``{{ page.KEY }}`` (dotted keys), HTML-escaped; also inside raw HTML
  (``<img src="{{ site.baseurl }}/a.png">``), but never inside HTML comments.

Anything else, or any tag when ``env["liquid"]`` is missing: a warning with the line, and
the text stays visible. Math and code are parsed before these rules see the text, so Liquid
inside them is never touched.

The plugin's parts, in the order a post meets them: :mod:`.liquid_tags` (finding tags and
outputs), :mod:`.liquid_values` (the context and the values it gives), the rules
:mod:`.liquid_block` and :mod:`.liquid_inline`, :mod:`.liquid_html` (values inside raw
HTML), then :mod:`.liquid_render` (includes, highlighted code).
"""

from __future__ import annotations

from markdown_it import MarkdownIt

from sitegen.markdown.lines import line_tracking_plugin
from sitegen.markdown.liquid_block import liquid_block
from sitegen.markdown.liquid_html import html_values
from sitegen.markdown.liquid_inline import liquid_inline, liquid_link
from sitegen.markdown.liquid_render import (
    make_highlight_renderer,
    render_include,
    render_include_block,
    render_nothing,
)

__all__ = ["liquid_plugin"]


def liquid_plugin(md: MarkdownIt, *, highlight: bool = True) -> None:
    """Add the Liquid rules to ``md`` (after math_plugin, so math is taken first)."""
    line_tracking_plugin(md)
    md.inline.ruler.before("link", "liquid_link", liquid_link)
    md.inline.ruler.before("link", "liquid", liquid_inline)
    md.block.ruler.before("fence", "liquid_block", liquid_block, {"alt": ["paragraph"]})
    md.core.ruler.push("liquid_html", html_values)
    md.add_render_rule("liquid_include", render_include)
    md.add_render_rule("liquid_include_block", render_include_block)
    md.add_render_rule("liquid_highlight", make_highlight_renderer(highlight))
    md.add_render_rule("liquid_raw_open", render_nothing)
    md.add_render_rule("liquid_raw_close", render_nothing)
