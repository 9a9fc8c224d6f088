"""Small Jekyll sites for the last differences found on real blogs: two sources with one
URL, a site's own tag list at /tags/, math in titles, MathJax on request in HTML posts."""

from __future__ import annotations

from pathlib import Path

from sitegen.build import build_site
from sitegen.model import BuildOptions


def make_site(root: Path, files: dict[str, str], config: str = "title: t\n") -> Path:
    for rel, text in {"_config.yml": config, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def messages(result, level: str) -> list[str]:
    return [str(d) for d in result.site.report.diagnostics if d.level == level]


def test_two_pages_with_one_url_build_as_jekyll_keeps_them_with_a_warning(tmp_path):
    """Jekyll writes pages in file-name order, so ``talks.md`` overwrites ``talks.html``."""
    root = make_site(
        tmp_path / "s",
        {
            "_config.yml": "title: t\ninclude: [_pages]\n",
            "_pages/talks.html": "---\ntitle: Talks\npermalink: /talks/\n---\n"
            "<p>from the html</p>\n",
            "_pages/talks.md": "---\ntitle: Talks\npermalink: /talks/\n---\nFrom the markdown.\n",
        },
    )
    result = build_site(root, BuildOptions(out=root / "_site"))
    assert not messages(result, "error")
    page = (root / "_site" / "talks" / "index.html").read_text(encoding="utf-8")
    assert "From the markdown." in page and "from the html" not in page
    conflict = [m for m in messages(result, "warning") if "same URL" in m]
    assert conflict == [
        "_pages/talks.html:3: warning: not built: _pages/talks.md has the same URL /talks/ "
        "and wins, as in Jekyll's output (Jekyll warns of a conflict)"
    ]


def test_a_post_wins_over_a_page_with_its_url_as_in_jekyll(tmp_path):
    root = make_site(
        tmp_path / "s",
        {
            "zz.md": "---\ntitle: Page\npermalink: /2020/01/02/hello/\n---\nThe page.\n",
            "_posts/2020-01-02-hello.md": "---\ntitle: Post\npermalink: /2020/01/02/hello/\n---\n"
            "The post.\n",
        },
    )
    result = build_site(root, BuildOptions(out=root / "_site"))
    assert not messages(result, "error")
    page = (root / "_site" / "2020" / "01" / "02" / "hello" / "index.html").read_text("utf-8")
    assert "The post." in page and "The page." not in page
    assert any(
        m.startswith("zz.md:3: warning: not built: _posts/") for m in messages(result, "warning")
    )


def test_a_sitegen_site_keeps_the_error_for_two_sources_with_one_url(tmp_path):
    root = tmp_path / "s"
    make_site(
        root,
        {
            "posts/a.md": "---\ntitle: A\ndate: 2020-01-01\npermalink: /same/\n---\nA\n",
            "posts/b.md": "---\ntitle: B\ndate: 2020-01-02\npermalink: /same/\n---\nB\n",
        },
    )
    (root / "_config.yml").unlink()
    (root / "sitegen.toml").write_text('title = "native"\n', encoding="utf-8")
    result = build_site(root, BuildOptions(out=root / "_site"))
    assert messages(result, "error") == [
        "posts/b.md: error: permalink /same/ is also the permalink of posts/a.md"
    ]


MATHJAX_LAYOUT = (
    "<html><script>MathJax.Hub.Config({tex2jax: {inlineMath: [['$','$']], "
    "processEscapes: true}});</script>{{ content }}</html>\n"
)


def test_a_jekyll_title_hands_mathjax_its_math_as_written(tmp_path):
    """The layout printed the title as written, so MathJax saw ``\\|``; kramdown resolves
    escapes only in the body, where ``$x \\\\| y$`` is ``x \\| y``."""
    root = make_site(
        tmp_path / "s",
        {
            "_layouts/post.html": MATHJAX_LAYOUT,
            "_posts/2020-01-01-kl.md": '---\ntitle: "Bound on $KL(q \\\\| p)$, at 5 \\\\$"\n---\n'
            "Body $x \\\\| y$.\n",
        },
    )
    result = build_site(root, BuildOptions(out=root / "_site"))
    assert not messages(result, "error")
    page = (root / "_site" / "2020" / "01" / "01" / "kl.html").read_text(encoding="utf-8")
    heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert heading == 'Bound on <span class="math inline">\\(KL(q \\| p)\\)</span>, at 5 \\$'
    assert '<span class="math inline">\\(x \\| y\\)</span>' in page
    listing = (root / "_site" / "index.html").read_text(encoding="utf-8")
    assert '<span class="math inline">\\(KL(q \\| p)\\)</span>' in listing


def test_a_jekyll_title_without_the_sites_dollar_math_is_text(tmp_path):
    """MathJax 2 reads no ``$…$`` unless the layout says so: the title is shown as typed."""
    root = make_site(
        tmp_path / "s",
        {
            "_posts/2020-01-01-money.md": '---\ntitle: "From $5 to $10"\n---\nText.\n',
        },
    )
    build_site(root, BuildOptions(out=root / "_site"))
    page = (root / "_site" / "2020" / "01" / "01" / "money.html").read_text(encoding="utf-8")
    assert "<h1>From $5 to $10</h1>" in page


GATED_LAYOUT = (
    "<head>{% if page.mathjax %}<script src='https://cdn.example.org/mathjax/MathJax.js'>"
    "</script>{% endif %}</head>{{ content }}\n"
)


def test_an_html_post_follows_mathjax_on_request_as_a_markdown_post_does(tmp_path):
    """The layout loads MathJax only for ``mathjax: true``: an HTML post without it showed
    its ``$$y$$`` as typed on Jekyll, and gets no math markup and no script here either."""
    root = make_site(
        tmp_path / "s",
        {
            "_layouts/default.html": GATED_LAYOUT,
            "_posts/2020-01-01-asks.html": "---\ntitle: a\nmathjax: true\n---\n<p>See $$x$$.</p>\n",
            "_posts/2020-01-02-silent.html": "---\ntitle: s\n---\n<p>Text.</p>\n"
            "<p>See $$y$$.</p>\n",
            "_posts/2020-01-03-plain.html": "---\ntitle: p\n---\n<p>Costs $$ nothing.</p>\n",
        },
    )
    result = build_site(root, BuildOptions(out=root / "_site"))
    out = root / "_site" / "2020" / "01"
    asks = (out / "01" / "asks.html").read_text(encoding="utf-8")
    assert '<span class="math display">\\[x\\]</span>' in asks and "MathJax" in asks
    silent = (out / "02" / "silent.html").read_text(encoding="utf-8")
    assert "<p>See $$y$$.</p>" in silent
    assert "math display" not in silent and "MathJax" not in silent
    warned = [m for m in messages(result, "warning") if "math shown as typed" in m]
    assert len(warned) == 1
    assert warned[0].startswith("_posts/2020-01-02-silent.html:5: warning:"), warned
    assert "mathjax: true" in warned[0]


TAGGED_POST = {"_posts/2020-01-01-a.md": "---\ntitle: A\ntags: [optimisation]\n---\nText.\n"}


def test_a_tag_archive_page_with_no_text_gives_way_to_sitegens_tag_list(tmp_path):
    """A Jekyll theme's ``tag-archive.md`` is front matter only; its layout made the list."""
    root = make_site(
        tmp_path / "s",
        {
            **TAGGED_POST,
            "_pages/tag-archive.md": "---\ntitle: Posts by Tag\npermalink: /tags/\nlayout: tags\n"
            "---\n",
            "_config.yml": "title: t\ninclude: [_pages]\n",
        },
    )
    result = build_site(root, BuildOptions(out=root / "_site"))
    assert not messages(result, "error")
    page = (root / "_site" / "tags" / "index.html").read_text(encoding="utf-8")
    assert 'href="/tags/optimisation/"' in page
    assert [m for m in messages(result, "warning") if "tag-archive" in m] == [
        "_pages/tag-archive.md:3: warning: not built: this page at /tags/ has no text of its "
        "own (its layout made the list); sitegen's list of tags is written there instead"
    ]


def test_a_tags_page_with_text_of_its_own_wins_with_a_note(tmp_path):
    root = make_site(
        tmp_path / "s",
        {
            **TAGGED_POST,
            "tags.md": "---\ntitle: Topics\npermalink: /tags/\n---\nMy own list of topics.\n",
        },
    )
    result = build_site(root, BuildOptions(out=root / "_site"))
    assert not messages(result, "error")
    page = (root / "_site" / "tags" / "index.html").read_text(encoding="utf-8")
    assert "My own list of topics." in page
    assert (root / "_site" / "tags" / "optimisation" / "index.html").is_file()
    assert messages(result, "note") == [
        "tags.md:3: note: this page is /tags/: sitegen's list of tags is not written there "
        "(each tag's page still is)"
    ]
