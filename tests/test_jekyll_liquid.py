"""Jekyll pages whose text Liquid makes (loops over site.posts and site.tags, includes,
filters, conditions) are built as Jekyll builds them: the fixture site's pages compared
with what Jekyll 4.3 wrote for it (tests/fixtures/jekyll_loops_built/), and Liquid that
cannot run is a warning at its line, the rest of the site built."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sitegen.build import build_site
from sitegen.model import BuildOptions

TESTS = Path(__file__).parent
JEKYLL_BUILT = TESTS / "fixtures" / "jekyll_loops_built"
LIQUID_PAGES = [
    "archive.html",
    "math.html",
    "tags.html",
    "menu/blog.html",
    "notes.html",
    "notes/2022/02/14/note-card.html",
    "talks.html",  # a collection's documents, by date, the undated last
]


_BLOCKS = frozenset(
    "p div li ul ol h1 h2 h3 h4 h5 h6 br tr td th table pre figure article header footer "
    "section nav".split()
)


class _Visible(HTMLParser):
    """The words a reader sees (a block element separates words, an inline one does not:
    highlighted code is many spans) and the links they can follow, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "a":
            self.links.extend(value for name, value in attrs if name == "href")
        if tag in _BLOCKS:
            self.text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.text.append(" ")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def words(self) -> list[str]:
        return "".join(self.text).split()


def visible(html: str) -> tuple[list[str], list[str]]:
    parser = _Visible()
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    # sitegen's own marks on a display equation (its verification badge) are not text
    html = re.sub(r'<span class="sg-eq-badges">.*?</span></span>', "", html, flags=re.S)
    parser.feed(html)
    return parser.words, parser.links


def page_body(html: str) -> str:
    """What sitegen's theme shows of the page's own text (its layout left out): from the
    content's opening tag to the close before the theme's last ``</article>``."""
    marker = 'id="sg-content">'
    start = html.index(marker) + len(marker)
    chunk = html[start : html.rindex("</article>")]
    chunk = chunk.split('<nav class="post-nav"', 1)[0]
    return chunk.rstrip().removesuffix("</div>")


def build(root: Path, **options) -> object:
    return build_site(root, BuildOptions(quiet=True, jobs=1, **options))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[object, Path]:
    root = tmp_path_factory.mktemp("loops") / "site"
    shutil.copytree(TESTS / "sites" / "jekyll_loops", root)
    return build(root), root / "_site"


def test_every_url_jekyll_wrote_is_written(built):
    result, out = built
    assert not result.site.report.errors
    for page in JEKYLL_BUILT.rglob("*.html"):
        rel = page.relative_to(JEKYLL_BUILT).as_posix()
        assert (out / rel).is_file(), rel
    warnings = [str(d) for d in result.site.report.warnings]
    assert not [w for w in warnings if "not built" in w and "index.md" not in w], warnings


@pytest.mark.parametrize("rel", LIQUID_PAGES)
def test_liquid_pages_show_what_jekyll_shows(built, rel):
    _, out = built
    theirs = visible((JEKYLL_BUILT / rel).read_text(encoding="utf-8"))
    ours = visible(page_body((out / rel).read_text(encoding="utf-8")))
    assert ours == theirs
    assert "{%" not in (out / rel).read_text(encoding="utf-8")


def test_loops_see_posts_newest_first_with_their_data(built):
    _, out = built
    archive = (out / "archive.html").read_text(encoding="utf-8")
    titles = re.findall(r'<p><a href="[^"]+">([^<]+)</a>', archive)
    assert titles == [
        "A note written in HTML",
        "Least squares in one line",
        "Chain rule, twice",
        "The gradient of softmax",
    ]
    math = (out / "math.html").read_text(encoding="utf-8")
    # an include with a parameter; the excerpt, front matter's or the first paragraph
    assert "<div class=\"excerpt\">Two ways to see the chain rule.</div>" in math
    assert "March 4, 2021" in math
    assert "softmax}(z)" in math and "A second paragraph" not in math
    # the post's excerpt_separator: all before <!--more-->, the display math too
    assert r"s_i (\delta_{ij} - s_j)" in math and "cross-entropy" not in math


def test_math_in_a_loop_page_loads_mathjax(built):
    result, out = built
    page = next(p for p in result.site.pages if p.rel == "math.html")
    assert page.has_math
    assert "mathjax" in (out / "math.html").read_text(encoding="utf-8").lower()


def jekyll_site(root: Path, files: dict[str, str]) -> Path:
    for rel, text in {"_config.yml": "title: T\n", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_liquid_that_cannot_run_is_a_warning_at_its_line_and_the_rest_builds(tmp_path):
    head = "---\nlayout: page\ntitle: {t}\n---\n"
    root = jekyll_site(
        tmp_path / "site",
        {
            "_posts/2020-01-01-a.md": "---\ntitle: A\n---\nx\n",
            "gists.html": head.format(t="G") + "<p>one</p>\n{% gist 12345 %}\n",
            "archive.html": head.format(t="Archive")
            + "{% for post in site.posts %}\n{{ post.title | nonsense }}\n{% endfor %}\n",
            "broken.md": head.format(t="B") + "{% for post in site.posts %}\nno end\n",
            "missing.html": head.format(t="M") + "\n\n{% include nowhere.html %}\n",
            "fine.html": head.format(t="F")
            + "{% for post in site.posts %}{{ post.title }}{% endfor %}\n",
        },
    )
    result = build(root)
    out = root / "_site"
    warnings = sorted(str(d) for d in result.site.report.warnings if "not built" in str(d))
    assert [w.split(" (")[0] for w in warnings] == [
        "archive.html:6: warning: not built: its Liquid cannot be run here",
        "broken.md:5: warning: not built: its Liquid cannot be run here",
        "gists.html:6: warning: not built: its Liquid cannot be run here",
        "missing.html:7: warning: not built: its Liquid cannot be run here",
    ]
    assert "unknown filter 'nonsense'" in warnings[0]
    assert "'gist'" in warnings[2]
    assert "include 'nowhere.html' not found" in warnings[3]
    assert not result.site.report.errors
    assert not (out / "gists.html").exists() and not (out / "broken.html").exists()
    # sitegen's own archive stands in at the URL of the archive that could not be built
    assert "{%" not in (out / "archive.html").read_text(encoding="utf-8")
    assert 'href="/2020/01/01/a.html"' in (out / "archive.html").read_text(encoding="utf-8")
    assert ">A</div>" in (out / "fine.html").read_text(encoding="utf-8").replace("\n", "")


def test_a_loop_page_follows_every_change_of_the_posts_it_lists(tmp_path):
    page = (
        "---\nlayout: page\ntitle: List\n---\n"
        "{% for post in site.posts %}<p>{{ post.title }} {{ post.date | date: '%Y-%m-%d' }} "
        "[{{ post.tags | join: ',' }}] {{ post.excerpt | strip_html | strip }}</p>\n{% endfor %}"
    )
    root = jekyll_site(
        tmp_path / "site",
        {
            "_posts/2020-01-01-a.md": "---\ntitle: A\ntags: [x]\n---\nFirst $$x^2$$.\n",
            "_posts/2020-02-01-b.md": "---\ntitle: B\n---\nSecond.\n",
            "list.html": page,
        },
    )
    build(root)
    out = root / "_site" / "list.html"

    def shown() -> list[str]:
        return re.findall(r"<p>(.*?)</p>", page_body(out.read_text(encoding="utf-8")))

    assert shown() == ["B 2020-02-01 [] Second.", r"A 2020-01-01 [x] First \(x^2\)."]
    posts = root / "_posts"
    (posts / "2020-01-01-a.md").write_text("---\ntitle: A2\ntags: [x, y]\n---\nNew.\n")
    result = build(root)
    assert "list.html" in result.rendered
    assert shown() == ["B 2020-02-01 [] Second.", "A2 2020-01-01 [x,y] New."]
    (posts / "2020-02-01-b.md").rename(posts / "2019-02-01-b.md")
    (posts / "2021-01-01-c.md").write_text("---\ntitle: C\n---\nThird.\n")
    build(root)
    assert shown() == [
        "C 2021-01-01 [] Third.",
        "A2 2020-01-01 [x,y] New.",
        "B 2019-02-01 [] Second.",
    ]
    (posts / "2021-01-01-c.md").unlink()
    build(root)
    assert [s.split()[0] for s in shown()] == ["A2", "B"]
    # nothing changed: the page is not rendered again
    assert "list.html" not in build(root).rendered


def test_ruby_liquid_lax_forms_and_jekyll_array_filters(tmp_path):
    # what Jekyll 4.3 printed for this page (it warns of the first two lines' syntax)
    body = (
        '{% assign names = "c,a,b" | split: "," %}'
        "<p>{% for n in names | sort %}{{ n }}{% endfor %}</p>\n"
        '<p>[{{ page.missing | "fallback text" }}] [{{ page.title | "x" }}]</p>\n'
        '{% assign list = "" | split: "" %}{% assign list = list | push: "one" | push: "two" %}'
        '<p>{{ list | join: "+" }} {{ list | pop | join: "+" }} {{ list | shift | join: "+" }} '
        '{{ list | unshift: "zero" | join: "+" }}</p>\n'
        '<p>{{ "a  b   c" | normalize_whitespace }} {{ nothing | date: "%Y" }}.</p>\n'
    )
    root = jekyll_site(tmp_path / "site", {"lax.html": "---\ntitle: Lax\n---\n" + body})
    build(root)
    shown = re.findall(r"<p>(.*?)</p>", page_body((root / "_site/lax.html").read_text()))
    assert shown == ["cab", "[] [Lax]", "one+two one two zero+one+two", "a b c ."]


def test_highlight_and_include_relative_in_liquid_pages(tmp_path):
    root = jekyll_site(
        tmp_path / "site",
        {
            "_posts/2020-01-01-a.md": "---\ntitle: A\n---\nx\n",
            "docs/code.md": (
                "---\ntitle: Code\n---\n{% for post in site.posts %}- {{ post.title }}\n"
                "{% endfor %}\n\n{% highlight python %}\ndef f(x):\n"
                "    return {{ site.title | downcase }} * x\n{% endhighlight %}\n\n"
                "{% include_relative part.md %}\n"
            ),
            "docs/part.md": "From the *folder*: {{ page.title }}.\n",
            "h.html": (
                "---\ntitle: H\n---\n{% for post in site.posts %}<p>{{ post.title }}</p>"
                "{% endfor %}\n{% highlight ruby %}\nputs 1\n{% endhighlight %}\n"
            ),
        },
    )
    result = build(root)
    warnings = [d for d in result.site.report.warnings if d.path != "_config.yml"]  # no url
    assert not warnings, warnings
    code = page_body((root / "_site/docs/code.html").read_text())
    # as Jekyll 4.3 shows them: the list, the highlighted code, the Markdown of the include
    words, _ = visible(code)
    assert words == ["A", "def", "f(x):", "return", "t", "*", "x", "From", "the", "folder:",
                     "Code."]
    assert 'class="language-python"' in code and "<em>folder</em>" in code
    html_page = page_body((root / "_site/h.html").read_text())
    assert visible(html_page)[0] == ["A", "puts", "1"]
    assert 'class="language-ruby"' in html_page
