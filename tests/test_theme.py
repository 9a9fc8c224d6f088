"""The default theme, end to end: build the fixture site ``tests/sites/theme`` and read the
pages a reader gets (index, pagination, archive, posts, pages, 404)."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import threading
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from browser import CHROMIUM_FLAGS, chromium

from sitegen.build import build_site
from sitegen.model import BuildOptions
from sitegen.templates import create_environment

FIXTURE = Path(__file__).parent / "sites" / "theme"
THEME = Path(__file__).parents[1] / "themes" / "default"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The fixture site, built once for this module; returns the output folder."""
    root = tmp_path_factory.mktemp("theme") / "site"
    shutil.copytree(FIXTURE, root)
    out = root.parent / "out"
    result = build_site(root, BuildOptions(out=out))
    assert result.ok, [str(d) for d in result.site.report.diagnostics]
    return out


def read(out: Path, url: str) -> str:
    path = out / url.strip("/")
    if url.endswith("/"):
        path = path / "index.html"
    return path.read_text(encoding="utf-8")


def post_links(html: str) -> list[str]:
    """Post URLs linked from the titles of a list of posts, in order."""
    return re.findall(r'<h2><a href="([^"]+)">', html)


def test_index_is_paginated_two_per_page(site):
    first, second, third = read(site, "/"), read(site, "/page/2/"), read(site, "/page/3/")
    assert post_links(first) == ["/blog/2024/04/01/delta/", "/blog/2024/03/05/gamma/"]
    assert post_links(second) == ["/blog/2024/02/01/beta/", "/blog/2024/01/10/alpha/"]
    assert post_links(third) == ["/blog/2023/12/24/last-year/"]
    assert not (site / "page" / "4").exists()
    assert 'rel="next" href="/blog/page/2/"' in first and 'rel="prev"' not in first
    assert 'rel="prev" href="/blog/"' in second and 'rel="next" href="/blog/page/3/"' in second
    assert 'rel="prev" href="/blog/page/2/"' in third and 'rel="next"' not in third
    assert "Page 2 of 3" in second


def test_lists_show_date_reading_time_tags_and_excerpt_escaped(site):
    first = read(site, "/")
    assert '<time datetime="2024-04-01T07:15:00">April 1, 2024</time>' in first
    assert "1 min read" in first
    assert '<a class="tag" rel="tag" href="/blog/tags/neural-nets/">Neural Nets</a>' in first
    # excerpts are text: markup in front matter is shown, never interpreted
    second = read(site, "/page/2/")
    assert "Three sections &amp; an equation &lt;b&gt;not bold&lt;/b&gt;" in second


def test_summary_badge_on_post_and_every_list(site):
    badge = '<span class="sg-badge sg-summary">&#10003; 2 of 2 stated gradients verified</span>'
    post = read(site, "/2024/01/10/alpha/")
    header = post.split('<div class="post-body"')[0]
    assert badge in header  # under the title, before the body
    assert badge in read(site, "/page/2/")
    assert badge in read(site, "/archive/")
    assert badge in read(site, "/tags/math/")
    assert "sg-summary" not in read(site, "/2024/02/01/beta/")
    # the verification plugin is off here: its style sheet is neither linked nor copied
    assert "gradcheck.css" not in post


def test_archive_groups_posts_by_year_newest_first(site):
    html = read(site, "/archive/")
    years = re.findall(r'<h2 class="archive-year" id="year-(\d+)">', html)
    assert years == ["2024", "2023"]
    section_2024 = html.split('id="year-2024"')[1].split('id="year-2023"')[0]
    titles = re.findall(r'class="archive-title" href="([^"]+)"', section_2024)
    assert titles == [
        "/blog/2024/04/01/delta/",
        "/blog/2024/03/05/gamma/",
        "/blog/2024/02/01/beta/",
        "/blog/2024/01/10/alpha/",
    ]
    assert "/blog/2023/12/24/last-year/" in html.split('id="year-2023"')[1]


def test_post_header_and_previous_next_links(site):
    html = read(site, "/2024/02/01/beta/")
    assert "<h1>Beta: just code</h1>" in html
    assert "<title>Beta: just code · Theme fixture</title>" in html
    assert '<time datetime="2024-02-01T12:00:00">February 1, 2024</time>' in html
    nav = html.split('<nav class="post-nav"')[1]
    # previous = older, next = newer
    assert 'rel="prev" href="/blog/2024/01/10/alpha/"' in nav and "Alpha: gradients" in nav
    assert 'rel="next" href="/blog/2024/03/05/gamma/"' in nav and "Gamma: a display" in nav
    newest = read(site, "/2024/04/01/delta/").split('<nav class="post-nav"')[1]
    assert 'rel="prev"' in newest and 'rel="next"' not in newest
    oldest = read(site, "/2023/12/24/last-year/").split('<nav class="post-nav"')[1]
    assert 'rel="next"' in oldest and 'rel="prev"' not in oldest


def test_table_of_contents_only_with_three_headings(site):
    alpha = read(site, "/2024/01/10/alpha/")
    toc = alpha.split('<nav class="toc tex2jax_ignore"')[1].split("</nav>")[0]
    assert re.findall(r'href="#([^"]+)"', toc) == ["setup", "gradient", "summary"]
    for ident in ("setup", "gradient", "summary"):
        assert f'id="{ident}"' in alpha  # every toc link has a target
    assert 'class="toc' not in read(site, "/2024/02/01/beta/")  # one heading
    assert 'class="toc' not in read(site, "/2024/04/01/delta/")


def test_mathjax_loads_only_on_pages_with_math(site):
    def loads_mathjax(html: str) -> bool:
        return "window.MathJax" in html and "mathjax@3" in html

    assert loads_mathjax(read(site, "/2024/01/10/alpha/"))
    assert loads_mathjax(read(site, "/2024/03/05/gamma/"))
    assert loads_mathjax(read(site, "/about/"))
    assert not loads_mathjax(read(site, "/2024/02/01/beta/"))  # "$5 and $10" is prose
    assert not loads_mathjax(read(site, "/"))
    assert not loads_mathjax(read(site, "/archive/"))
    assert not loads_mathjax(read(site, "/404.html"))


def test_mathjax_configuration(site):
    html = read(site, "/2024/01/10/alpha/")
    config = html.split("window.MathJax = ")[1].split("</script>")[0]
    assert "inlineMath: [['\\\\(', '\\\\)']]" in config  # never '$'
    assert "displayMath: [['\\\\[', '\\\\]']]" in config
    assert "processEnvironments: true" in config and "processRefs: true" in config
    assert "tags: 'ams'" in config
    assert '"R": "\\\\mathbb{R}"' in config  # the site's macros file
    assert '"norm": ["\\\\lVert #1 \\\\rVert", 1]' in config


def test_dark_mode_toggle_and_stored_choice(site):
    html = read(site, "/2024/02/01/beta/")
    assert re.search(r"<button[^>]*data-theme-toggle[^>]*>", html)
    head = html.split("</head>")[0]
    # the stored choice is applied in <head>, before the page is painted
    assert 'var key = "sitegen-theme"' in head
    assert "localStorage.getItem(key)" in head and "localStorage.setItem(key, next)" in head
    assert '<meta name="color-scheme" content="light dark">' in head


def test_stylesheet_covers_dark_print_math_and_code():
    css = (THEME / "static" / "style.css").read_text(encoding="utf-8")
    assert "@media (prefers-color-scheme: dark)" in css
    assert ':root[data-theme="dark"]' in css
    assert ':root:not([data-theme="light"])' in css
    assert "@media print" in css
    print_css = css.split("@media print")[1]
    assert ".site-header" in print_css and "display: none" in print_css
    assert "attr(href)" in print_css
    assert re.search(r"\.math\.display \{[^}]*overflow-x: auto", css)
    for token in (".highlight .k", ".highlight .s1", ".highlight .c1", ".highlight .mi"):
        assert token in css
    assert "--measure: 40rem" in css
    # no web fonts, no third-party hosts
    assert "@import" not in css and "url(" not in css and "@font-face" not in css


def test_pages_and_no_external_assets_but_mathjax(site):
    about = read(site, "/about/")
    assert "<h1>About</h1>" in about and 'class="page-body"' in about
    assert 'href="/blog/about/" aria-current="page"' in about  # pages are in the nav
    for url in ("/", "/2024/02/01/beta/", "/archive/", "/tags/", "/404.html"):
        html = read(site, url)
        hosts = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
        assert all(h.startswith("https://example.org/") for h in hosts), hosts


def test_404_page_links_home_with_baseurl(site):
    html = read(site, "/404.html")
    assert "<h1>Page not found</h1>" in html
    assert 'href="/blog/"' in html and 'href="/blog/theme/style.css"' in html


def test_head_has_description_canonical_and_feed(site):
    html = read(site, "/2024/03/05/gamma/")
    assert '<meta name="description" content="One display equation.">' in html
    assert '<link rel="canonical" href="https://example.org/blog/2024/03/05/gamma/">' in html
    assert 'type="application/atom+xml"' in html and 'href="/blog/feed.xml"' in html
    index = read(site, "/")
    assert "A small site for the default theme&#39;s tests" in index


def test_theme_static_files_are_copied(site):
    assert (site / "theme" / "style.css").read_bytes() == (
        THEME / "static" / "style.css"
    ).read_bytes()


def test_two_builds_give_identical_bytes(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(FIXTURE, root)
    outputs = []
    for name in ("one", "two"):
        build_site(root, BuildOptions(out=tmp_path / name))
        files = sorted(p for p in (tmp_path / name).rglob("*") if p.is_file())
        outputs.append({p.relative_to(tmp_path / name): p.read_bytes() for p in files})
    assert outputs[0].keys() == outputs[1].keys()
    assert outputs[0] == outputs[1]
    assert Path("feed.xml") in outputs[0] and Path("sitemap.xml") in outputs[0]


def test_one_article_per_post_page_and_none_on_lists(site):
    # the live preview patches the first <article> (else <main>) of a page in place
    assert read(site, "/2024/01/10/alpha/").count("<article") == 1
    assert read(site, "/about/").count("<article") == 1
    for url in ("/", "/page/2/", "/archive/", "/tags/", "/tags/math/"):
        assert "<article" not in read(site, url), url


# Appended to a page in the browser test: the theme before and after two clicks on the
# toggle, what was stored, the page's background, and whether anything is wider than the
# window (the test runs at a phone's width).
TOGGLE_PROBE = """
<script>
window.addEventListener("load", () => {
  const root = document.documentElement, button = document.querySelector("[data-theme-toggle]");
  const bg = () => getComputedStyle(document.body).backgroundColor;
  const report = {hidden: button.hidden, before: root.getAttribute("data-theme"), bg0: bg()};
  button.click();
  Object.assign(report, {first: root.getAttribute("data-theme"), bg1: bg(),
                         stored1: localStorage.getItem("sitegen-theme")});
  button.click();
  Object.assign(report, {second: root.getAttribute("data-theme"), bg2: bg(),
                         stored2: localStorage.getItem("sitegen-theme"),
                         overflow: root.scrollWidth > root.clientWidth});
  localStorage.removeItem("sitegen-theme");
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
});
</script>
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        pass  # no request log in the test output


def test_dark_mode_toggle_in_a_browser(site, tmp_path):
    browser = chromium()
    # serve the output under the site's baseurl, with the probed page next to it
    web = tmp_path / "web"
    web.mkdir()
    (web / "blog").symlink_to(site, target_is_directory=True)
    html = read(site, "/2024/02/01/beta/")
    (web / "probe.html").write_text(html.replace("</body>", TOGGLE_PROBE + "</body>"))
    handler = functools.partial(QuietHandler, directory=str(web))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/probe.html"
        proc = subprocess.run(
            [
                browser,
                *CHROMIUM_FLAGS,
                "--window-size=400,800",
                "--virtual-time-budget=5000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.shutdown()
        server.server_close()
    found = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout)
    assert found, proc.stderr[-2000:]
    report = json.loads(found.group(1).replace("&quot;", '"'))
    assert report["hidden"] is False  # shown once the script runs
    assert report["before"] is None  # nothing stored: the system's preference applies
    assert {report["first"], report["second"]} == {"light", "dark"}
    assert (report["stored1"], report["stored2"]) == (report["first"], report["second"])
    assert report["bg1"] != report["bg2"]  # the palette really changes
    assert report["overflow"] is False


def _post(**fields):
    """A post as post.html reads it, with no neighbours and no table of contents."""
    return SimpleNamespace(**{"previous": None, "next": None, "toc": [], "meta": {}, **fields})


def _render_post_page(env, post, **context):
    site = {"title": "S", "description": "", "config": {"language": "en"}, "url": ""}
    site.update(pages=[], tags={}, data={}, author=None)
    context.setdefault("url_for", lambda url: url)
    context.setdefault("absolute_url", lambda url: url)
    page = {"url": post.url}
    return env.get_template("post.html").render(
        context, site=site, page=page, post=post, content="", math={"enabled": False}
    )


# _macros.html writes some macros out inline for speed (post_meta and badge in post_list,
# tag_list in post_meta); these posts cover every branch of that markup (date or not, tags
# or not, badge or not, text to escape)
INLINE_SAMPLES = [
    _post(
        url="/a/",
        title="A <b>",
        date=datetime(2024, 3, 5, 9, 30),
        reading_minutes=4,
        tags=["x & y", "grad"],
        data={"badge_html": '<span class="sg-badge">1 of 1</span>'},
        excerpt="E <i>",
    ),
    _post(url="/b/", title="B", date=None, reading_minutes=1, tags=[], data={}, excerpt=""),
    _post(
        url="/c/",
        title="C",
        date=None,
        reading_minutes=2,
        tags=["t"],
        data={"badge_html": ""},
        excerpt="",
    ),
]


@pytest.mark.parametrize("tags_plugin", [True, False])
@pytest.mark.parametrize("p", INLINE_SAMPLES, ids=["full", "bare", "empty-badge"])
def test_inline_post_meta_and_badge_match_the_macros(p, tags_plugin):
    env = create_environment([THEME / "templates"])
    context = {"url_for": lambda url: "/blog" + url, "p": p}
    if tags_plugin:
        context["tag_url"] = lambda name: f"/blog/tags/{name}/"
    macros = '{% import "_macros.html" as m with context %}'
    meta = env.from_string(macros + "{{ m.post_meta(p) }}\n{{ m.badge(p) }}\n").render(context)
    assert "post-meta" in meta and ("post-badge" in meta) == bool(p.data.get("badge_html"))
    tags = env.from_string(macros + "{{ m.tag_list(p.tags) }}").render(context)
    assert f"min read</span>\n{tags}\n</div>" in meta

    listed = env.from_string(macros + "{{ m.post_list([p]) }}").render(context)
    after = '<p class="excerpt">' if p.excerpt else "</div>\n</li>"
    assert f"</a></h2>\n{meta}{after}" in listed
    assert f"</h1>\n{meta}</header>" in _render_post_page(env, p, **context)


def test_table_of_contents_nests_below_the_shallowest_heading():
    toc = [(3, "a", "A"), (4, "b", "B"), (3, "c", "C"), (5, "d", "D")]
    post = _post(
        url="/p/", title="P", date=None, reading_minutes=1, tags=[], data={}, excerpt="", toc=toc
    )
    html = _render_post_page(create_environment([THEME / "templates"]), post)
    levels = re.findall(r'<li class="toc-level-(\d)"><a href="#(\w)">', html)
    assert levels == [("2", "a"), ("3", "b"), ("2", "c"), ("4", "d")]
