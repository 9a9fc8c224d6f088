"""A Jekyll blog moved as it is: drafts, future posts, categories with spaces, an
unclosed front matter, Liquid filters in posts, and links as Jekyll wrote them. Each case
is a small site written here; the expected files and text are what Jekyll 4.3 writes."""

from __future__ import annotations

import sys
from pathlib import Path

from sitegen.build import build_site
from sitegen.model import BuildOptions


def jekyll_site(root: Path, files: dict[str, str], config: str = "title: T\n") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "_config.yml").write_text(config)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def build(root: Path, out: Path, **options) -> object:
    return build_site(root, BuildOptions(out=out, extra={"verify": False}, **options))


def messages(result, level: str = "") -> list[str]:
    return [str(d) for d in result.site.report.diagnostics if not level or d.level == level]


POST = "---\ntitle: {title}\n---\n{body}\n"


def test_broken_links_of_a_jekyll_site_are_warnings_and_a_doubled_baseurl_is_named(tmp_path):
    body = (
        "[twice]({{ site.baseurl }}{% post_url 2020-01-01-first %}) and [gone](/nowhere/)."
    )
    root = jekyll_site(
        tmp_path / "site",
        {
            "_posts/2020-01-01-first.md": POST.format(title="First", body="one"),
            "_posts/2020-01-02-second.md": POST.format(title="Second", body=body),
        },
        "title: T\nbaseurl: /blog\npermalink: /:year/:month/:day/:title.html\n",
    )
    result = build(root, tmp_path / "out")
    assert not [m for m in messages(result, "error") if "broken" in m]
    broken = [m for m in messages(result, "warning") if "broken" in m]
    assert len(broken) == 2, broken
    twice, gone = sorted(broken)
    where = "_posts/2020-01-02-second.md:4: warning: broken link: "
    assert twice.startswith(where + "/blog/blog/2020/01/01/first.html")
    assert "the baseurl /blog is in it twice, as Jekyll wrote it" in twice
    assert gone.startswith(where + "/nowhere/") and "twice" not in gone
    # the link is the one Jekyll wrote, so the reader's page is the same
    page = (tmp_path / "out/2020/01/02/second.html").read_text()
    assert 'href="/blog/blog/2020/01/01/first.html"' in page
    # with a sitegen.toml the site is sitegen's and a strict build fails on them
    (root / "sitegen.toml").write_text('title = "T"\nbaseurl = "/blog"\n')
    (root / "posts").mkdir()
    for name in ("2020-01-01-first.md", "2020-01-02-second.md"):
        (root / "posts" / name).write_text((root / "_posts" / name).read_text())
    strict = build(root, tmp_path / "out2")
    assert len([m for m in messages(strict, "error") if "broken" in m]) >= 2


def test_drafts_are_built_only_with_drafts_and_dated_by_their_file(tmp_path):
    root = jekyll_site(
        tmp_path / "site",
        {
            "_posts/2020-01-01-first.md": POST.format(title="First", body="one"),
            "_drafts/a-draft.md": POST.format(title="Draft", body="not yet"),
            "_drafts/2019-05-05-named.md": "---\ntitle: Named\ndate: 2019-05-05\n---\nx\n",
        },
    )
    import os
    from datetime import datetime

    stamp = datetime(2021, 3, 4, 12, 0).timestamp()
    os.utime(root / "_drafts/a-draft.md", (stamp, stamp))
    plain = build(root, tmp_path / "plain")
    assert [p.rel for p in plain.site.posts] == ["_posts/2020-01-01-first.md"]
    assert not (tmp_path / "plain/2021").exists()
    with_drafts = build(root, tmp_path / "drafts", drafts=True)
    assert len(with_drafts.site.posts) == 3
    # Jekyll: no date in its front matter, a draft is dated by its file's modification time;
    # a draft's whole file name is its slug
    assert "not yet" in (tmp_path / "drafts/2021/03/04/a-draft.html").read_text()
    assert (tmp_path / "drafts/2019/05/05/2019-05-05-named.html").is_file()
    # show_drafts: true in _config.yml says --drafts too
    (root / "_config.yml").write_text("title: T\nshow_drafts: true\n")
    assert len(build(root, tmp_path / "shown").site.posts) == 3


def test_future_true_in_config_publishes_future_posts(tmp_path):
    files = {
        "_posts/2020-01-01-now.md": POST.format(title="Now", body="now"),
        "_posts/2999-01-01-later.md": POST.format(title="Later", body="later"),
    }
    root = jekyll_site(tmp_path / "site", files)
    held = build(root, tmp_path / "held")
    assert [p.slug for p in held.site.posts] == ["now"]
    assert messages(held, "note") == [
        "_posts/2999-01-01-later.md: note: dated 2999-01-01 00:00:00 UTC, in the future: not "
        "published until then (--future builds it now, as future: true in _config.yml does)"
    ]
    (root / "_config.yml").write_text("title: T\nfuture: true\n")
    published = build(root, tmp_path / "published")
    assert [p.slug for p in published.site.posts] == ["later", "now"]
    assert (tmp_path / "published/2999/01/01/later.html").is_file()


def test_a_category_with_a_space_is_one_folder_with_an_escaped_url(tmp_path):
    root = jekyll_site(
        tmp_path / "site",
        {
            "_posts/2020-01-01-a.md": (
                "---\ntitle: A\ncategories: [machine learning, Nets]\n---\nx\n"
            ),
            "_posts/2020-01-02-b.md": "---\ntitle: B\ncategory: machine learning\n---\nx\n",
            "_posts/2020-01-03-c.md": "---\ntitle: C\ncategories: machine learning\n---\nx\n",
        },
    )
    build(root, tmp_path / "out")
    out = tmp_path / "out"
    # as Jekyll writes them: the folder has the space, the URL escapes it
    assert (out / "machine learning/nets/2020/01/01/a.html").is_file()
    assert (out / "machine learning/2020/01/02/b.html").is_file()  # `category:` is one
    assert (out / "machine/learning/2020/01/03/c.html").is_file()  # `categories:` splits
    home = (out / "index.html").read_text()
    assert 'href="/machine%20learning/2020/01/02/b.html"' in home
    assert "machine learning/" not in home.replace("machine learning</", "")


def test_an_escaped_permalink_cannot_leave_the_output_folder(tmp_path):
    root = jekyll_site(
        tmp_path / "site",
        {"_posts/2020-01-01-a.md": "---\ntitle: A\npermalink: /%2e%2e/%2e%2e/escaped/\n---\nx\n"},
    )
    result = build(root, tmp_path / "out")
    assert any("'..'" in m and "2020-01-01-a.md:3" in m for m in messages(result, "error"))
    assert not (tmp_path / "escaped").exists() and not (tmp_path.parent / "escaped").exists()


def test_an_unclosed_front_matter_is_built_as_jekyll_builds_it_with_a_warning(tmp_path):
    files = {
        "_posts/2020-01-04-unclosed.md": "---\ntitle: Unclosed\nsome text\n\nmore\n",
        "page.md": "---\ntitle: Page\n\ntext\n",
    }
    root = jekyll_site(tmp_path / "site", files)
    result = build(root, tmp_path / "out")
    warned = [m for m in messages(result, "warning") if "never closed" in m]
    assert sorted(warned) == [
        "_posts/2020-01-04-unclosed.md:1: warning: front matter opened with '---' is never "
        "closed: built as Jekyll builds it, the whole file as text with no front matter; "
        "close it with a '---' line",
        "page.md:1: warning: front matter opened with '---' is never closed: built as Jekyll "
        "builds it, the whole file as text with no front matter; close it with a '---' line",
    ]
    post = (tmp_path / "out/2020/01/04/unclosed.html").read_text()
    assert "<hr />\n<p>title: Unclosed\nsome text</p>\n<p>more</p>" in post
    assert "<p>title: Page</p>" in (tmp_path / "out/page.html").read_text()
    # a sitegen site keeps it an error
    native = tmp_path / "native"
    (native / "posts").mkdir(parents=True)
    (native / "sitegen.toml").write_text('title = "T"\n')
    (native / "posts/2020-01-04-unclosed.md").write_text(files["_posts/2020-01-04-unclosed.md"])
    errors = messages(build(native, tmp_path / "out2"), "error")
    assert errors == [
        "posts/2020-01-04-unclosed.md:1: error: front matter opened with '---' is never closed"
    ]


FILTERS = """---
title: Filters
date: 2020-01-05 10:00:00
---
A {{ "/x" | relative_url }} B {{ '/y' | absolute_url }} C {{ page.date | date_to_string }}
D {{ "a<b" | xml_escape }} E {{ page.title | upcase }} F {{ "foo bar" | slugify }}
G {{ page.date | date: "%Y-%m" }} H {{ page.nothing | default: "none" }}
I {{ page.date | date_to_long_string: "ordinal", "US" }} J {{ "x" | append: "y" | prepend: "w" }}

![pic]({{ '/assets/pic.png' | relative_url }})

K {{ page.title | markdownify }}
"""


def test_common_liquid_filters_in_a_post_and_a_warning_for_the_rest(tmp_path):
    root = jekyll_site(
        tmp_path / "site",
        {"_posts/2020-01-05-filters.md": FILTERS, "assets/pic.png": "png"},
        "title: T\nurl: https://example.org\nbaseurl: /blog\n",
    )
    result = build(root, tmp_path / "out")
    page = (tmp_path / "out/2020/01/05/filters.html").read_text()
    # as Jekyll 4.3 renders them
    assert "A /blog/x B https://example.org/blog/y C 05 Jan 2020" in page
    assert "D a&lt;b E FILTERS F foo-bar" in page
    assert "G 2020-01 H none" in page
    assert "I January 5th, 2020 J wxy" in page
    assert '<img src="/blog/assets/pic.png" alt="pic"' in page
    assert "K {{ page.title | markdownify }}" in page  # left as text, and said so
    liquid = [m for m in messages(result) if "{{" in m]
    assert liquid == [
        "_posts/2020-01-05-filters.md:12: warning: {{ page.title | markdownify }}: the filter "
        "'markdownify' is not one sitegen applies; left as text"
    ]
    assert not [m for m in messages(result) if "broken" in m]


def test_a_filter_neither_liquid_nor_jekyll_has_passes_its_value_through_as_in_jekyll(
    tmp_path,
):
    # a typo that Jekyll reads as a filter named "https", which Liquid skips
    post = (
        "---\ntitle: Typo\n---\n"
        '![shot]({{ "  https://example.org/a.png" |   https://example.org/a.png }})\n\n'
        'L {{ "text" | no_such_filter: 3 | upcase }} M\n'
    )
    root = jekyll_site(tmp_path / "site", {"_posts/2020-01-06-typo.md": post}, "title: T\n")
    result = build(root, tmp_path / "out")
    page = (tmp_path / "out/2020/01/06/typo.html").read_text()
    assert '<img src="https://example.org/a.png" alt="shot"' in page
    assert "L TEXT M" in page
    said = [m for m in messages(result) if "{{" in m]
    assert len(said) == 2 and all("the value is shown unfiltered" in m for m in said), said
    assert said[0].startswith("_posts/2020-01-06-typo.md:4: warning: ")
    assert "the filter 'https'" in said[0] and "'no_such_filter'" in said[1]


def test_the_theme_archive_and_tag_list_stand_in_at_jekyll_urls_of_unbuilt_pages(tmp_path):
    # a loop sitegen runs, over a filter of a Jekyll plugin it does not have
    loop = (
        "---\nlayout: page\ntitle: {t}\n---\n"
        "{{% for post in site.posts %}}{{{{ post.title | plugin_only }}}}{{% endfor %}}\n"
    )
    root = jekyll_site(
        tmp_path / "site",
        {
            "_posts/2020-01-01-a.md": "---\ntitle: A\ntags: [x]\n---\nx\n",
            "archive.html": loop.format(t="Archive"),
            "tags.md": loop.format(t="Tags"),
        },
    )
    result = build(root, tmp_path / "out")
    out = tmp_path / "out"
    assert any(m.startswith("archive.html:5: warning: not built") for m in messages(result))
    assert any(m.startswith("tags.md:5: warning: not built") for m in messages(result))
    # Jekyll wrote /archive.html and /tags.html; sitegen's own pages are there too
    assert 'href="/2020/01/01/a.html"' in (out / "archive.html").read_text()
    assert "{% for" not in (out / "archive.html").read_text()
    assert 'href="/tags/x/"' in (out / "tags.html").read_text()
    assert (out / "tags/index.html").is_file()


def test_the_comparison_leaves_out_a_hidden_macro_block_only_where_sitegen_has_its_macros():
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "bench" / "jekyll_compare.py"
    spec = importlib.util.spec_from_file_location("jekyll_compare", path)
    compare = importlib.util.module_from_spec(spec)
    sys.modules["jekyll_compare"] = compare  # its dataclasses look their module up
    try:
        spec.loader.exec_module(compare)
    finally:
        del sys.modules["jekyll_compare"]
    block = r"\newcommand\bs[1]{\boldsymbol{#1}} \DeclareMathOperator{\Tr}{Tr}"
    assert compare.defined_names(block) == ["bs", "Tr"]
    assert compare.defined_names(r"\newcommand\bs[1]{x} y = 1") is None
    assert compare.defined_names("x = 1") is None
    theirs = [{"tex": block}, {"tex": "x"}]
    ours = [{"tex": "x"}]
    configured = 'macros: {"Tr": "\\\\operatorname{Tr}", "bs": ["\\\\boldsymbol{#1}", 1]}'
    kept, _, left_out = compare._without_definitions(theirs, ours, configured)
    assert left_out == 1 and kept == [{"tex": "x"}]
    # a macro sitegen's page does not configure: the block counts (as missing)
    kept, _, left_out = compare._without_definitions(theirs, ours, 'macros: {"bs": 1}')
    assert left_out == 0 and kept == theirs
    # the same block in both pages (a post's own): compared as any item
    kept, _, left_out = compare._without_definitions(theirs, theirs, configured)
    assert left_out == 0 and kept == theirs


def test_emphasis_kramdown_made_across_math_is_a_warned_difference():
    from sitegen.markdown import MarkdownDialect, create_parser

    dialect = MarkdownDialect(kramdown=True, dollars="mathjax", process_escapes=False)
    md = create_parser(highlight=False, dialect=dialect)

    def warnings(text: str) -> list[int]:
        env: dict = {"diagnostics": []}
        html = md.render(text, env)
        assert html.count('class="math inline"') == text.count("$") // 2  # math as written
        return [line for line, level, message in env["diagnostics"] if "emphasis" in message]

    # kramdown made "<em>$ are the parameters for $x^</em>" of this; Jekyll's MathJax
    # showed the two formulas broken
    assert warnings("text\n\nwhere $\\theta^*$ are the parameters for $x^*$ here.\n") == [3]
    # no star can pair with the one in the math: no difference, no warning
    assert warnings("and $a^*$ alone, $b * c * d$ fine\n") == []
    assert warnings("*see* $a^*$ and **bold**\n") == []
    assert warnings("_within $\\theta^*$ and $x^*$ emphasis_\n") == []
    # "_" after a non-letter opens, and the next "_" not before a letter or digit closes
    assert warnings("as $\\mathcal{L}_n = \\sum\\limits_{i=1}^n x_i$, and $y$\n") == [1]
    assert warnings("as $x_n = \\sum_{i} y$\n") == []  # x_ and m_: after letters
    assert warnings("[a](/b_1/c_2.png) and $f(x)_2$\n") == []  # a link target is no text
