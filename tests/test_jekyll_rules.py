"""Jekyll's rules for dates, file names, URLs and pages, one at a time, on small sites
made in a temporary folder; and the old-Mac line endings every site may have."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sitegen.build import build_site
from sitegen.frontmatter import YamlTimestamp, parse_date, split_front_matter
from sitegen.model import BuildOptions
from sitegen.read import jekyll_slugify

LA = ZoneInfo("America/Los_Angeles")


def make_site(root: Path, files: dict[str, str], config: str = "permalink: pretty\n") -> Path:
    """A site of ``files`` (path -> text); ``config`` is its ``_config.yml``, or with
    ``config=None`` it is a sitegen site."""
    root.mkdir(parents=True, exist_ok=True)
    # every site has a url: without one the feed and sitemap plugins warn, which these
    # tests do not look for
    if config is None:
        (root / "sitegen.toml").write_text('title = "native"\nurl = "https://example.org"\n')
    else:
        url = "" if "url:" in config else "url: https://example.org\n"
        (root / "_config.yml").write_text(config + url)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def build(root: Path):
    result = build_site(root, BuildOptions(out=root / "_site"))
    written = {p.relative_to(root / "_site").as_posix() for p in (root / "_site").rglob("*")}
    return result, written


POST = "---\ntitle: T\n{front}---\nText.\n"


# -- item 1: dates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-01-06 9:00:00", datetime(2020, 1, 6, 9)),
        ("2018-3-2 13:00:00", datetime(2018, 3, 2, 13)),
        ("2015-10-9 23:59:00", datetime(2015, 10, 9, 23, 59)),
        ("2018-3-2", datetime(2018, 3, 2)),
        ("2020-01-06 9:05", datetime(2020, 1, 6, 9, 5)),
        ("2020/01/06", datetime(2020, 1, 6)),
        ("2020-01-06 09:00:00.250", datetime(2020, 1, 6, 9, 0, 0, 250000)),
        ("Jan 6, 2020", datetime(2020, 1, 6)),
        ("January 6th, 2020 9:30 pm", datetime(2020, 1, 6, 21, 30)),
        ("6 March 2020 12:10 am", datetime(2020, 3, 6, 0, 10)),
    ],
)
def test_lenient_dates_jekyll_accepts(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        ("2016-08-30 15:40:00 +0530", datetime(2016, 8, 30, 10, 10)),
        ("2016-08-30 15:40:00 -08:00", datetime(2016, 8, 30, 23, 40)),
        ("2016-08-30T15:40:00Z", datetime(2016, 8, 30, 15, 40)),
        ("Tue, 30 Aug 2016 15:40:00 GMT", datetime(2016, 8, 30, 15, 40)),
        ("2016-08-30 15:40:00 PDT", datetime(2016, 8, 30, 22, 40)),
    ],
)
def test_dates_with_a_zone(value, utc):
    assert parse_date(value).astimezone(UTC).replace(tzinfo=None) == utc


@pytest.mark.parametrize(
    "value", ["2016-13-01", "2016-02-30", "yesterday", "2016-08-30 25:00:00", "13:00 pm", 42]
)
def test_what_jekyll_rejects_is_still_an_error(value):
    with pytest.raises(ValueError, match="bad date"):
        parse_date(value)


def test_random_spellings_of_one_date_agree():
    """The same time, written with and without leading zeros and with either separator
    and either time mark, reads as that time."""
    rng = random.Random(14)
    for _ in range(500):
        when = datetime(2000, 1, 1) + timedelta(minutes=rng.randrange(60 * 24 * 366 * 30))
        pad = (lambda n: f"{n:02d}") if rng.random() < 0.5 else str
        sep = rng.choice("-/")
        mark = rng.choice(["T", " ", "  "])
        text = f"{when.year}{sep}{pad(when.month)}{sep}{pad(when.day)}"
        text += f"{mark}{pad(when.hour)}:{when.minute:02d}:00"
        assert parse_date(text) == when, text


def test_a_plain_yaml_timestamp_is_utc_on_a_jekyll_site_and_a_quoted_one_local():
    meta, _, _ = split_front_matter(
        '---\nplain: 2020-01-09 06:00:00\nquoted: "2020-01-09 06:00:00"\n---\n', "p.md"
    )
    assert type(meta["plain"]) is YamlTimestamp and type(meta["quoted"]) is str
    assert parse_date(meta["plain"], LA, jekyll=True) == datetime(2020, 1, 8, 22, tzinfo=LA)
    assert parse_date(meta["quoted"], LA, jekyll=True) == datetime(2020, 1, 9, 6, tzinfo=LA)
    # a sitegen site reads both as local time, as it always has
    assert parse_date(meta["plain"], LA) == datetime(2020, 1, 9, 6, tzinfo=LA)


def test_a_jekyll_site_shows_dates_in_its_timezone(tmp_path):
    root = make_site(
        tmp_path / "s",
        {
            "_posts/2020-01-09-a.md": POST.format(front="date: 2020-01-09 06:00:00\n"),
            "_posts/2020-01-09-b.md": POST.format(front="date: 2020-01-09 06:00:00 +09:00\n"),
            "_posts/2020-01-09-c.md": POST.format(front='date: "2020-01-09 06:00:00"\n'),
            "_posts/2020-01-09-d.md": POST.format(front=""),
        },
        "permalink: pretty\ntimezone: America/Los_Angeles\n",
    )
    result, written = build(root)
    assert not result.site.report.errors
    for name in ("2020/01/08/a/", "2020/01/08/b/", "2020/01/09/c/", "2020/01/09/d/"):
        assert name + "index.html" in written


def test_a_bad_date_names_the_post_and_line(tmp_path):
    root = make_site(tmp_path / "s", {"_posts/2020-01-01-x.md": POST.format(front="date: soon\n")})
    result, _ = build(root)
    assert [str(d) for d in result.site.report.errors] == [
        "_posts/2020-01-01-x.md:3: error: bad date 'soon': expected e.g. 2016-08-30 15:40:00"
    ]


# -- item 2: file names ----------------------------------------------------------------


def test_one_digit_months_and_days_in_file_names_are_posts(tmp_path):
    root = make_site(
        tmp_path / "s",
        {
            "_posts/2020-1-7-short-name.md": POST.format(front=""),
            "_posts/2020-11-7-b.md": POST.format(front=""),
            "posts/2021-3-14-native.md": POST.format(front=""),
            "_posts/notes.md": POST.format(front=""),
        },
    )
    result, written = build(root)
    assert {"2020/01/07/short-name/index.html", "2020/11/07/b/index.html"} <= written
    assert "2021/03/14/native/index.html" in written
    # Jekyll publishes no post without a date in its name, and we say so
    assert [str(d) for d in result.site.report.warnings] == [
        "_posts/notes.md: warning: no date in the file name: skipped, as Jekyll does"
    ]


def test_an_impossible_date_in_a_file_name_is_an_error(tmp_path):
    root = make_site(
        tmp_path / "s",
        {"_posts/2020-02-31-x.md": POST.format(front=""), "_posts/2020-02-28-y.md": "Ok.\n"},
    )
    result, written = build(root)
    assert [str(d) for d in result.site.report.errors] == [
        "_posts/2020-02-31-x.md:1: error: no such date in the file name: 2020-02-31"
    ]
    assert "2020/02/28/y/index.html" in written


# -- item 9: URLs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pretty", "default"),
    [
        ("with space", "with-space", "with-space"),
        ("The _config.yml file", "The-_config.yml-file", "the-config-yml-file"),
        ("  Café & crème!  ", "Café-&-crème!", "café-crème"),
        ("a--b", "a-b", "a-b"),
    ],
)
def test_jekyll_slugify(text, pretty, default):
    assert jekyll_slugify(text) == pretty
    assert jekyll_slugify(text, pretty=False, cased=False) == default


@pytest.mark.parametrize(
    ("config", "url"),
    [
        ("title: x\n", "2019/10/31/A-B.html"),  # Jekyll's default style, "date"; :title keeps case
        ("permalink: date\n", "2019/10/31/A-B.html"),
        ("permalink: pretty\n", "2019/10/31/A-B/index.html"),
        ("permalink: ordinal\n", "2019/304/A-B.html"),
        ("permalink: none\n", "A-B.html"),
        ("permalink: weekdate\n", "2019/W44/THU/A-B.html"),
        ("permalink: /:year/:slug:output_ext\n", "2019/a-b.html"),  # :slug is lower case
        ("permalink: :year/:title/\n", "2019/A-B/index.html"),  # no leading "/": Jekyll adds it
        ("permalink: /:short_month/:i_day/:title\n", "OCT/31/A-B.html"),
    ],
)
def test_jekyll_permalink_styles(tmp_path, config, url):
    root = make_site(tmp_path / "s", {"_posts/2019-10-31-A-B.md": POST.format(front="")}, config)
    result, written = build(root)
    assert not result.site.report.errors
    assert url in written, sorted(w for w in written if w.endswith(".html"))


def test_categories_in_jekyll_urls(tmp_path):
    root = make_site(
        tmp_path / "s",
        {
            "_posts/2020-01-01-a.md": POST.format(front="categories: [ML, Stats]\n"),
            "blog/_posts/2020-01-02-b.md": POST.format(front="category: notes\n"),
        },
        "title: x\n",
    )
    result, written = build(root)
    assert not result.site.report.errors
    assert "ml/stats/2020/01/01/a.html" in written
    # the folders above a nested _posts/ are categories, first
    assert "blog/notes/2020/01/02/b.html" in written


@pytest.mark.parametrize(
    ("config", "permalink", "url"),
    [
        ("permalink: pretty\n", "2020/01/10/noslash", "2020/01/10/noslash.html"),
        ("permalink: pretty\n", "/a/b.htm", "a/b.htm.html"),  # as Jekyll: .html added
        ("permalink: pretty\n", "/a/b.html", "a/b.html"),
        ("permalink: pretty\n", "/a/:title/", "a/x/index.html"),
        (None, "/custom/path", "custom/path.html"),  # a sitegen site: no file without a type
        (None, "/custom/feed.txt", "custom/feed.txt"),
    ],
)
def test_a_permalink_without_a_trailing_slash_is_an_html_file(tmp_path, config, permalink, url):
    front = f"permalink: {permalink}\n"
    folder = "_posts" if config else "posts"
    files = {f"{folder}/2020-01-10-x.md": POST.format(front=front)}
    root = make_site(tmp_path / "s", files, config)
    result, written = build(root)
    assert not result.site.report.errors
    assert url in written
    post = result.site.posts[0]
    assert post.url == "/" + url.removesuffix("index.html")


# -- item 10: pages --------------------------------------------------------------------


PAGE = "---\ntitle: {title}\n---\n{body}\n"


def test_pages_anywhere_in_a_jekyll_site(tmp_path):
    root = make_site(
        tmp_path / "s",
        {
            "about.md": PAGE.format(title="About", body="About me, *emphasised*."),
            "docs/intro.markdown": PAGE.format(title="Intro", body="Intro text."),
            "docs/index.md": PAGE.format(title="Docs", body="All the docs."),
            "pages/faq.mkd": PAGE.format(title="FAQ", body="Questions."),
            "contact.html": PAGE.format(
                title="Contact", body="<p>Write to *me*.</p>\n\n    <b>x</b>"
            ),
            "moved.md": "---\npermalink: /elsewhere/\n---\nMoved.\n",
            "README.md": "# No front matter: a static file for Jekyll, not a page\n",
            "_drafts/2020-01-01-d.md": PAGE.format(title="Draft", body="No."),
        },
    )
    result, written = build(root)
    assert not result.site.report.errors, result.site.report.errors
    out = root / "_site"
    assert "<em>emphasised</em>" in (out / "about/index.html").read_text(encoding="utf-8")
    assert "Intro text." in (out / "docs/intro/index.html").read_text(encoding="utf-8")
    assert "All the docs." in (out / "docs/index.html").read_text(encoding="utf-8")
    assert "Questions." in (out / "pages/faq/index.html").read_text(encoding="utf-8")
    assert "Moved." in (out / "elsewhere/index.html").read_text(encoding="utf-8")
    # an HTML page is its own body: no Markdown runs over it
    contact = (out / "contact/index.html").read_text(encoding="utf-8")
    assert "<p>Write to *me*.</p>\n\n    <b>x</b>" in contact
    # a file without front matter is copied as it is, as Jekyll copies it
    assert (out / "README.md").read_text(encoding="utf-8").startswith("# No front matter")
    assert not any(w.startswith("README/") or "Draft" in w or "/d/" in w for w in written)
    titles = {p.title for p in result.site.pages}
    assert titles == {"About", "Intro", "Docs", "FAQ", "Contact", "Moved"}


def test_pages_of_a_date_style_site_are_html_files(tmp_path):
    root = make_site(
        tmp_path / "s",
        {
            "about.md": PAGE.format(title="A", body="x"),
            "docs/index.md": PAGE.format(title="D", body="y"),
        },
        "title: x\n",
    )
    _, written = build(root)
    assert {"about.html", "docs/index.html"} <= written


def test_files_sitegen_does_not_build_are_named_in_warnings(tmp_path):
    root = make_site(
        tmp_path / "s",
        {
            "archive.html": PAGE.format(
                title="A", body="<ul>\n{% for p in site.posts %}{% endfor %}</ul>"
            ),
            "hello.html": PAGE.format(title="H", body="<p>{{ site.title | plugin_only }}</p>"),
            "css/main.scss": "---\n---\n@import 'main';\n",
            "feed.xml": "---\nlayout: null\n---\n<feed/>\n",
        },
    )
    result, written = build(root)
    warnings = {d.path: str(d) for d in result.site.report.warnings}
    assert "archive.html" not in warnings  # its loop runs (tests/test_jekyll_liquid.py)
    assert "archive/index.html" in written  # at Jekyll's URL, in place of sitegen's archive
    assert warnings["hello.html"].startswith("hello.html:4: warning: not built")
    assert "unknown filter 'plugin_only'" in warnings["hello.html"]
    assert warnings["css/main.scss"].startswith("css/main.scss:1: warning: not built")
    assert "feed.xml" in warnings
    assert "hello/index.html" not in written and "css/main.scss" not in written


def test_a_sitegen_site_has_no_jekyll_pages(tmp_path):
    root = make_site(
        tmp_path / "s",
        {
            "about.md": PAGE.format(title="A", body="x"),
            "pages/faq.md": PAGE.format(title="F", body="y"),
        },
        None,
    )
    _, written = build(root)
    assert "faq/index.html" in written
    assert "about/index.html" not in written


# -- old-Mac line endings --------------------------------------------------------------


def test_cr_only_line_endings_are_read(tmp_path):
    # the reproduction's post, byte for byte
    data = b"---\rtitle: Classic Mac line endings\r---\rBody text $x$.\r"
    root = tmp_path / "s"
    (root / "posts").mkdir(parents=True)
    (root / "posts" / "2024-01-03-cr-only.md").write_bytes(data)
    (root / "sitegen.toml").write_text('url = "https://example.org"\n')  # no url warning
    result, _ = build(root)
    assert not result.site.report.diagnostics, result.site.report.diagnostics
    post = result.site.posts[0]
    assert post.title == "Classic Mac line endings"
    page = (root / "_site" / "2024/01/03/cr-only/index.html").read_text(encoding="utf-8")
    assert '<span class="math inline">\\(x\\)</span>' in page
    assert "title:" not in page.split("<body", 1)[1]


def test_static_files_of_a_jekyll_site_are_copied_as_jekyll_copies_them(tmp_path):
    root = make_site(
        tmp_path / "s",
        {
            "_posts/2020-01-01-a.md": POST.format(front=""),
            "images/plot.png": "PNG",
            "css/site.css": "body {}",
            "CNAME": "example.org",
            "README.md": "# read me\n",
            "scripts/deploy.sh": "echo",
            "notes.tmp": "x",
            ".htaccess": "deny",
            ".env": "secret",
            "_drafts/2020-01-02-d.md": "draft",
            "node_modules/x/index.js": "x",
        },
        "permalink: pretty\nexclude: [scripts/, '*.tmp']\ninclude: [.htaccess]\n",
    )
    result, written = build(root)
    assert not result.site.report.errors
    out = root / "_site"
    assert (out / "images/plot.png").read_text() == "PNG"
    assert {"css/site.css", "CNAME", "README.md", ".htaccess"} <= written
    for left_out in ("scripts", "notes.tmp", ".env", "_drafts", "node_modules"):
        assert not any(w.startswith(left_out) for w in written), left_out


def test_an_output_folder_inside_the_site_is_never_an_input(tmp_path):
    root = make_site(
        tmp_path / "s",
        {
            "_posts/2020-01-01-a.md": POST.format(front=""),
            "about.md": PAGE.format(title="A", body="x"),
        },
    )
    for _ in range(2):
        result = build_site(root, BuildOptions(out=root / "public"))
        assert not result.site.report.diagnostics, result.site.report.diagnostics
    assert not (root / "public" / "public").exists()
    assert len(result.site.pages) == 1


def test_a_changed_file_outside_sitegens_folders_is_seen_by_the_next_build(tmp_path):
    root = make_site(
        tmp_path / "s",
        {"_posts/2020-01-01-a.md": POST.format(front=""), "images/a.png": "one"},
    )
    build(root)
    build(root)  # nothing changed: may be skipped
    (root / "images" / "a.png").write_text("two, longer")
    (root / "about.md").write_text(PAGE.format(title="About", body="New page."))
    _, written = build(root)
    assert (root / "_site/images/a.png").read_text() == "two, longer"
    assert "about/index.html" in written


def test_serve_reloads_for_a_jekyll_page_or_file(tmp_path):
    from sitegen.live import classify

    def builds(root, path):
        changes = classify(root, [path])
        return changes.build or changes.reload

    root = make_site(tmp_path / "s", {"about.md": PAGE.format(title="A", body="x")})
    assert builds(root, root / "about.md")
    assert builds(root, root / "images" / "a.png")
    assert builds(root, root / "blog" / "_posts" / "2020-01-01-a.md")
    assert builds(root, root / "_posts" / "2020-01-01-a.html")
    assert builds(root, root / "_drafts" / "x.md")  # built with --drafts
    assert not builds(root, root / "_drafts" / "x.png")
    assert not builds(root, root / "node_modules" / "x.js")
    native = make_site(tmp_path / "n", {"about.md": "x"}, None)
    assert not builds(native, native / "about.md")


@pytest.mark.parametrize(
    "name, text",
    [
        ("index.md", "---\nlayout: home\n---\n"),
        ("index.html", "---\nlayout: default\n---\n{% for post in site.posts %}{% endfor %}\n"),
    ],
)
def test_the_root_index_page_yields_to_the_list_of_posts(tmp_path, name, text):
    root = make_site(tmp_path / "s", {name: text, "_posts/2020-01-01-a.md": POST.format(front="")})
    result, _ = build(root)
    assert not result.site.report.errors
    assert [str(d) for d in result.site.report.warnings] == [
        f"{name}:1: warning: not built: the home page is sitegen's own list of posts "
        "(with the theme's index.html, or yours in templates/)"
    ]
    assert "/2020/01/01/a/" in (root / "_site" / "index.html").read_text(encoding="utf-8")


def test_the_sites_own_404_and_archive_pages_win_over_the_themes(tmp_path):
    root = make_site(
        tmp_path / "s",
        {
            "404.html": "---\npermalink: /404.html\ntitle: Lost\n---\n<h1>Nothing here</h1>\n",
            "archive.md": PAGE.format(title="Archive", body="Everything I wrote."),
            "_posts/2020-01-01-a.md": POST.format(front=""),
        },
    )
    result, _ = build(root)
    assert not result.site.report.diagnostics, result.site.report.diagnostics
    out = root / "_site"
    assert "<h1>Nothing here</h1>" in (out / "404.html").read_text(encoding="utf-8")
    assert "Everything I wrote." in (out / "archive/index.html").read_text(encoding="utf-8")


def test_serve_and_build_agree_on_which_files_are_a_jekyll_sites_inputs(tmp_path):
    """``is_jekyll_input`` (what a change in ``serve`` reloads for) against the walk the
    build reads (``jekyll_inputs``), on random trees of files."""
    from sitegen.discover import is_jekyll_input, jekyll_inputs

    rng = random.Random(17)
    names = ["a", "b.md", "_x", ".h", "#t", "k~", "_posts", "scripts", "c.tmp", "node_modules",
             "vendor", "bundle", "posts", "assets", "Gemfile", "index.html", "_docs", "_hidden",
             "2020-01-01-p.html", "2020-1-2-q.png"]
    for trial in range(40):
        root = tmp_path / f"site{trial}"
        root.mkdir()
        settings = (
            "exclude: [scripts, '*.tmp', blog/_posts]\ninclude: [.h]\n"
            "collections: {docs: {output: true}, hidden: {output: false}}\n"
        )
        (root / "_config.yml").write_text(settings)
        rels = set()
        for _ in range(25):
            parts = [rng.choice(names) for _ in range(rng.randint(1, 4))]
            rel = "/".join(parts)
            if any(other.startswith(rel + "/") or rel.startswith(other + "/") for other in rels):
                continue  # a name is either a file or a folder
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
            rels.add(rel)
        (root / "blog" / "_posts").mkdir(parents=True, exist_ok=True)
        (root / "blog" / "_posts" / "2020-01-01-x.md").write_text("x")
        rels.add("blog/_posts/2020-01-01-x.md")
        walked = {p.relative_to(root).as_posix() for p in jekyll_inputs(root)}
        for rel in rels:
            assert is_jekyll_input(root, rel) == (rel in walked), (trial, rel)
        assert walked <= rels


def test_front_matter_defaults_of_a_jekyll_site(tmp_path):
    config = """permalink: pretty
defaults:
  - scope: {path: ""}
    values: {layout: page, mathjax: true}
  - scope: {path: "", type: posts}
    values: {permalink: "/blog/:title/", layout: post}
  - scope: {path: "_posts/notes", type: posts}
    values: {permalink: "/notes/:title/"}
  - scope: {path: "docs/*"}
    values: {permalink: null, title: "A doc"}
"""
    root = make_site(
        tmp_path / "s",
        {
            "_posts/2020-01-01-a.md": POST.format(front=""),
            "_posts/notes/2020-01-02-b.md": POST.format(front=""),
            "_posts/2020-01-03-c.md": POST.format(front="permalink: /own/\n"),
            "about.md": "---\n---\nAbout.\n",
            "docs/x/intro.md": "---\n---\nIntro.\n",
        },
        config,
    )
    result, written = build(root)
    assert not result.site.report.errors, result.site.report.errors
    # the more specific scope wins; the file's own permalink wins over every default
    assert {"blog/a/index.html", "notes/b/index.html", "own/index.html"} <= written
    assert not any(w.startswith("2020/") for w in written)
    posts = {p.rel: p for p in result.site.posts + result.site.pages}
    assert posts["_posts/2020-01-01-a.md"].layout == "post"
    assert posts["_posts/2020-01-01-a.md"].meta["mathjax"] is True
    assert posts["about.md"].layout == "page" and posts["about.md"].url == "/about/"
    assert posts["docs/x/intro.md"].title == "A doc"


def test_published_collections_and_the_posts_collections_permalink(tmp_path):
    config = """permalink: pretty
collections:
  posts: {permalink: "/writing/:year/:title/"}
  docs: {output: true}
  talks: {output: true, permalink: "/talks/:name:output_ext"}
  drafts_kept: {output: false}
"""
    root = make_site(
        tmp_path / "s",
        {
            "_posts/2020-01-01-a.md": POST.format(front=""),
            "_docs/setup/install.md": PAGE.format(title="Install", body="Run it."),
            "_docs/notes.txt": "no front matter",
            "_talks/Berlin 2019.md": PAGE.format(title="Talk", body="Slides."),
            "_drafts_kept/x.md": PAGE.format(title="X", body="Not published."),
        },
        config,
    )
    result, written = build(root)
    assert not result.site.report.errors, result.site.report.errors
    assert "writing/2020/a/index.html" in written
    assert "Run it." in (root / "_site/docs/setup/install/index.html").read_text(encoding="utf-8")
    assert "talks/berlin-2019.html" in written
    assert not any("drafts_kept" in w or w.startswith("x/") for w in written)


def test_liquid_values_in_an_html_page_are_substituted(tmp_path):
    body = (
        '<h1>{{ site.title }}</h1>\n<a href="{% link about.md %}">{{ page.title }}</a>\n'
        '<a href="{% post_url 2020-01-01-a %}">post</a>\n<!-- {{ site.title }} -->'
    )
    root = make_site(
        tmp_path / "s",
        {
            "hello.html": PAGE.format(title="Hello", body=body),
            "about.md": PAGE.format(title="About", body="x"),
            "_posts/2020-01-01-a.md": POST.format(front=""),
        },
        "title: My blog\npermalink: pretty\n",
    )
    result, _ = build(root)
    assert not result.site.report.diagnostics, result.site.report.diagnostics
    page = (root / "_site" / "hello" / "index.html").read_text(encoding="utf-8")
    assert "<h1>My blog</h1>" in page
    assert '<a href="/about/">Hello</a>' in page
    assert '<a href="/2020/01/01/a/">post</a>' in page
    assert "<!-- {{ site.title }} -->" in page  # comments stay comments


def test_html_and_other_posts_of_a_jekyll_site(tmp_path):
    root = make_site(
        tmp_path / "s",
        {
            "_posts/2015-01-01-imported.html": "---\ntitle: Old\n---\n<p>From *WordPress*.</p>\n",
            "_posts/2015-01-02-loop.html": "---\ntitle: L\n---\n{% if page.x %}x{% endif %}\n",
            "_posts/2015-01-03-notes.textile": "---\ntitle: T\n---\nh1. Textile\n",
            "_posts/2015-01-04-figure.png": "\x00PNG",
            "_posts/figure.png": "\x00PNG",
        },
    )
    result, written = build(root)
    assert not result.site.report.errors, result.site.report.errors
    page = (root / "_site/2015/01/01/imported/index.html").read_text(encoding="utf-8")
    assert "<p>From *WordPress*.</p>" in page
    # its Liquid run as Jekyll runs it: page.x is nil
    loop = (root / "_site/2015/01/02/loop/index.html").read_text(encoding="utf-8")
    assert "{%" not in loop and "x</div>" not in loop
    warnings = sorted(str(d) for d in result.site.report.warnings)
    assert warnings == [
        "_posts/2015-01-03-notes.textile:1: warning: not built: a .textile post; sitegen "
        "builds Markdown and HTML posts",
        "_posts/2015-01-04-figure.png:1: warning: not built: a .png post; sitegen builds "
        "Markdown and HTML posts",
    ]
