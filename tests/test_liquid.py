"""Liquid in post bodies (SPEC §4.2), recognised by parser rules: includes, highlight, raw,
post_url, link, site/page values; anything else is a warning and stays visible."""

from __future__ import annotations

import pytest

from sitegen.markdown import create_parser
from sitegen.markdown.liquid_values import LiquidContext


@pytest.fixture(scope="module")
def md():
    return create_parser()


def _include(name: str, params: dict, line: int) -> str:
    if name == "missing.html":
        raise FileNotFoundError("include 'missing.html' not found")
    pairs = ",".join(f"{k}={v}" for k, v in sorted(params.items()))
    return f'<a class="inc" data-line="{line}">{name}:{pairs}</a>'


def _post_url(name: str) -> str | None:
    return "/2016/08/24/gradients-0/" if name == "2016-08-24-gradients-0" else None


def _link(path: str) -> str | None:
    return "/about/" if path == "about.md" else None


def context(**overrides) -> LiquidContext:
    values = dict(
        site={"title": "Blog <&>", "baseurl": "/blog", "author": {"name": "Ann"}, "n": 3},
        page={"title": "Part 1", "draft": False},
        include=_include,
        post_url=_post_url,
        link=_link,
    )
    values.update(overrides)
    return LiquidContext(**values)


def render(md, text: str, *, liquid: LiquidContext | None = None, line_offset: int = 1):
    env: dict = {"line_offset": line_offset, "diagnostics": []}
    if liquid is not None:
        env["liquid"] = liquid
    return md.render(text, env), env


def test_block_include_gets_params_and_file_line(md):
    src = 'intro\n\n{% include button.html button_name="Next" button_class="primary" %}\n'
    html, env = render(md, src, liquid=context(), line_offset=10)
    assert '<a class="inc" data-line="12">button.html:button_class=primary,button_name=Next</a>' \
        in html
    assert "<p><a" not in html  # a block of its own, not wrapped in a paragraph
    assert env["diagnostics"] == []


def test_inline_include_with_variables_and_literals(md):
    src = "see {% include note.html a='x y' b=page.title c=3 d=true e=page.nope %} here"
    html, env = render(md, src, liquid=context())
    assert "<p>see <a" in html
    assert "note.html:a=x y,b=Part 1,c=3,d=True,e=None</a> here</p>" in html


def test_failing_include_is_an_error_and_stays_visible(md):
    html, env = render(md, "a\n\n{% include missing.html %}\n", liquid=context(), line_offset=5)
    assert "<p>{% include missing.html %}</p>" in html
    assert env["diagnostics"] == [(7, "error", "include 'missing.html' not found")]


def test_include_inside_html_comment_is_not_run(md):
    calls = []

    def include(name, params, line):
        calls.append(name)
        return "X"

    src = "<!--\n{% include button.html button_name=\"Next\" %}\n-->\n"
    html, env = render(md, src, liquid=context(include=include))
    assert calls == []
    assert '{% include button.html button_name="Next" %}' in html
    assert env["diagnostics"] == []


def test_highlight_block(md):
    src = "{% highlight python %}\ndef f(x):\n    return {{ x }} * 2\n{% endhighlight %}\n"
    html, env = render(md, src, liquid=context())
    assert html.startswith('<div class="highlight"><pre><code class="language-python"')
    assert '<span class="k">def</span>' in html
    assert "{{" in html and "Part" not in html  # Liquid inside code is untouched
    assert env["diagnostics"] == []


def test_highlight_linenos_and_unknown_language(md):
    src = "{% highlight nosuchlang linenos %}\na < b\nc\n{% endhighlight %}\n"
    html, _ = render(md, src, liquid=context())
    assert '<span class="lineno">1 </span>a &lt; b\n<span class="lineno">2 </span>c\n' in html


def test_highlight_interrupts_a_paragraph(md):
    html, _ = render(md, "text\n{% highlight ruby %}\nx = 1\n{% endhighlight %}\nafter\n",
                     liquid=context())
    assert "<p>text</p>" in html and "language-ruby" in html and "<p>after</p>" in html


def test_raw_block_and_inline(md):
    src = "{% raw %}\nKeep {{ page.title }} and {% include x.html %} *here*\n{% endraw %}\n\n" \
          "Inline {% raw %}{{ site.title }}{% endraw %} too"
    html, env = render(md, src, liquid=context())
    assert "<p>Keep {{ page.title }} and {% include x.html %} <em>here</em></p>" in html
    assert "<p>Inline {{ site.title }} too</p>" in html
    assert env["diagnostics"] == []


def test_site_and_page_values_are_escaped(md):
    html, env = render(md, "{{ site.title }} by {{ site.author.name }}: {{page.title}} "
                       "{{ site.n }} {{ page.draft }}", liquid=context())
    assert "<p>Blog &lt;&amp;&gt; by Ann: Part 1 3 false</p>" in html
    assert env["diagnostics"] == []


def test_undefined_value_is_empty_with_warning(md):
    html, env = render(md, "a\nb {{ page.nope }} c", liquid=context(), line_offset=3)
    assert "b  c" in html
    assert env["diagnostics"] == [(4, "warning", "{{ page.nope }} is not defined; rendered empty")]


def test_post_url_and_link_in_markdown_links(md):
    src = "[prev]({% post_url 2016-08-24-gradients-0 %}), [about]({% link about.md %}), " \
          "![pic]({{ site.baseurl }}/a.png), {% post_url 2016-08-24-gradients-0 %}"
    html, env = render(md, src, liquid=context())
    assert '<a href="/2016/08/24/gradients-0/">prev</a>' in html
    assert '<a href="/about/">about</a>' in html
    assert '<img src="/blog/a.png" alt="pic"' in html
    assert html.rstrip().endswith(", /2016/08/24/gradients-0/</p>")
    assert env["diagnostics"] == []


def test_unknown_post_is_a_warning_and_text_stays(md):
    html, env = render(md, "[x]({% post_url 2001-01-01-nope %})", liquid=context())
    assert "{% post_url 2001-01-01-nope %}" in html
    assert len(env["diagnostics"]) == 1
    assert "no such post" in env["diagnostics"][0][2]


def test_values_inside_raw_html_but_not_comments(md):
    src = '<div><img src="{{ site.baseurl }}/c.png"> \\[ {{a}} \\]</div>\n\n' \
          'x <img src="{{ site.baseurl }}/b.png"> <!-- {{ site.baseurl }} -->\n'
    html, env = render(md, src, liquid=context())
    assert '<img src="/blog/c.png">' in html and "{{a}}" in html
    assert '<img src="/blog/b.png">' in html
    assert "<!-- {{ site.baseurl }} -->" in html
    assert env["diagnostics"] == []


def test_values_with_filters_inside_raw_html(md):
    src = ('Either <a href="{{ site.title | replace: \'Blog\', \'Log\' }}">c</a> or '
           '<a href="{{ page.title | upcase }}">d</a>\n\n'
           '<div title="{{ site.baseurl | append: \'/x\' }}">\\[ {{a} | b} \\]</div>\n\n'
           '<img src="{{ \'/i/a.pdf\' | relative_url }}">\n')
    html, env = render(md, src, liquid=context())
    assert '<a href="Log &lt;&amp;&gt;">c</a>' in html and '<a href="PART 1">d</a>' in html
    assert '<div title="/blog/x">' in html and "{{a} | b}" in html  # TeX stays TeX
    assert '<img src="/blog/i/a.pdf">' in html
    assert env["diagnostics"] == []


@pytest.mark.parametrize(
    "tag",
    ["{% if x %}", "{% assign a = 1 %}", "{{ page.title | markdownify }}", "{{ x }}",
     "{% include {{ page.inc }} %}"],
)
def test_unsupported_liquid_is_a_warning_and_visible(md, tag):
    html, env = render(md, f"line\nbefore {tag} after", liquid=context(), line_offset=20)
    assert tag.replace('"', "&quot;") in html
    assert [(d[0], d[1]) for d in env["diagnostics"]] == [(21, "warning")]


def test_without_context_liquid_is_left_as_written(md):
    html, env = render(md, 'a {% include b.html x="y" %} and {{ site.title }}')
    assert '{% include b.html x=&quot;y&quot; %}' in html  # not smart-quoted
    assert "{{ site.title }}" in html
    assert len(env["diagnostics"]) == 2


def test_liquid_inside_math_and_code_is_untouched(md):
    src = "$\\frac{{a}}{b}$ and $$ {% x %} $$ and `{{ page.title }}`\n\n" \
          "```\n{% include button.html %}\n```\n"
    html, env = render(md, src, liquid=context())
    assert '<span class="math inline">\\(\\frac{{a}}{b}\\)</span>' in html
    assert '<span class="math inline">\\({% x %}\\)</span>' in html
    assert "<code>{{ page.title }}</code>" in html
    assert "{% include button.html %}" in html
    assert env["diagnostics"] == []


def test_liquid_comment_renders_nothing(md):
    src = "a {% comment %}hidden $x${% endcomment %} b\n\n{% comment %}\nhidden\n\nmore\n" \
          "{% endcomment %}\n\nq {% comment %} never closed"
    html, env = render(md, src, liquid=context(), line_offset=2)
    assert "<p>a  b</p>\n<p>q {% comment %} never closed</p>" in html
    assert "hidden" not in html and not env.get("has_math")
    assert env["diagnostics"] == [
        (10, "warning", "{% comment %} without {% endcomment %}; left as text")
    ]


@pytest.mark.parametrize("name", ["../secret.html", "/etc/passwd", "a/../../b.html"])
def test_include_names_stay_inside_the_includes_folder(md, name):
    calls = []
    ctx = context(include=lambda n, p, line: calls.append(n) or "X")
    html, env = render(md, f"{{% include {name} %}}\n", liquid=ctx)
    assert calls == []
    assert f"{{% include {name} %}}" in html
    assert env["diagnostics"][0][1] == "warning"


@pytest.mark.parametrize(
    ("condition", "shown"),
    [
        ("page.draft", "B"),
        ("page.title", "A"),
        ("page.missing", "B"),
        ("site.n > 2", "A"),
        ("site.n >= 4", "B"),
        ("page.title == 'Part 1'", "A"),
        ("page.title != \"Part 1\"", "B"),
        ("page.title contains 'art'", "A"),
        ("page.tags contains 'ml'", "A"),
        ("page.tags contains 'x'", "B"),
        ("page.draft or site.n == 3", "A"),
        ("page.title and page.draft", "B"),
        ("page.draft and page.title or site.n", "B"),  # right to left: draft and (title or n)
        ("page.empty_list == empty", "A"),
        ("page.title == empty", "B"),
        ("page.title == 'a and b'", "B"),  # "and" inside a quoted string is not a join
    ],
)
def test_if_block_keeps_only_the_branch_whose_condition_holds(md, condition, shown):
    page = {"title": "Part 1", "draft": False, "tags": ["ml", "math"], "empty_list": []}
    src = f"{{% if {condition} %}}\nA $x$\n{{% else %}}\nB $y$\n{{% endif %}}\n\nafter\n"
    html, env = render(md, src, liquid=context(page=page))
    other = "B" if shown == "A" else "A"
    assert f"<p>{shown} " in html and f"<p>{other} " not in html
    assert "{%" not in html and "<p>after</p>" in html
    assert env["diagnostics"] == []


def test_elsif_and_unless_and_nested_blocks(md):
    src = (
        "{% if site.n == 1 %}\none\n{% elsif site.n == 3 %}\n"
        "three\n\n{% unless page.draft %}\n* published\n{% endunless %}\n"
        "{% else %}\nother\n{% endif %}\n"
    )
    html, env = render(md, src, liquid=context())
    assert "<p>three</p>" in html and "<li>published</li>" in html
    assert "one" not in html and "other" not in html
    assert env["diagnostics"] == []


def test_if_without_true_branch_renders_nothing_and_markdown_around_survives(md):
    src = "# Title\n\n{% if page.comments %}\n<div id=\"disqus\"></div>\n{% endif %}\n\ntext\n"
    html, env = render(md, src, liquid=context())
    assert "disqus" not in html and "<h1" in html and "<p>text</p>" in html
    assert env["diagnostics"] == []


def test_an_unreadable_condition_is_a_warning_and_the_tags_stay_visible(md):
    src = "{% if page.foo(1) %}\nshown\n{% endif %}\n"
    html, env = render(md, src, liquid=context(), line_offset=5)
    assert "{% if page.foo(1) %}" in html and "shown" in html
    assert [(d[0], d[1]) for d in env["diagnostics"]][:1] == [(5, "warning")]


def test_an_if_without_endif_is_left_to_the_inline_warning(md):
    html, env = render(md, "{% if page.title %}\nno end\n", liquid=context())
    assert "{% if page.title %}" in html
    assert env["diagnostics"] and env["diagnostics"][0][1] == "warning"
