"""The Atom feed: newest posts, absolute links, reproducible dates, math as MathML."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sitegen_plugins.feeds.entries import feed_parser, prepare_math
from sitegen_plugins.feeds.mathml import to_mathml
from sitegen_plugins.feeds.numbering import EquationNumbers, expand_macros, resolve_refs
from theme_fixture import FIXTURE, build_theme_fixture

from sitegen.build import build_site
from sitegen.model import BuildOptions

ATOM = "{http://www.w3.org/2005/Atom}"
MATHML = "http://www.w3.org/1998/Math/MathML"
BASE = "https://example.org/blog"


def build(tmp_path: Path, extra_config: str = "") -> Path:
    return build_theme_fixture(tmp_path, extra_config)[1]


@pytest.fixture(scope="module")
def feed(tmp_path_factory) -> ET.Element:
    out = build(tmp_path_factory.mktemp("feeds"))
    return ET.parse(out / "feed.xml").getroot()


def entry(feed: ET.Element, title: str) -> ET.Element:
    for item in feed.findall(f"{ATOM}entry"):
        if item.findtext(f"{ATOM}title") == title:
            return item
    raise AssertionError(f"no entry {title!r}")


def content(feed: ET.Element, title: str) -> str:
    return entry(feed, title).findtext(f"{ATOM}content")


def test_feed_metadata(feed):
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "Theme fixture"
    assert feed.findtext(f"{ATOM}subtitle") == "A small site for the default theme's tests"
    assert feed.findtext(f"{ATOM}id").startswith("urn:uuid:")  # not where the site lives
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "Test Author"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {"self": f"{BASE}/feed.xml", "alternate": f"{BASE}/"}


def test_updated_is_the_newest_post_never_the_build_time(feed):
    # gamma was updated 2024-03-20, delta (the newest post) published 2024-04-01
    assert feed.findtext(f"{ATOM}updated") == "2024-04-01T07:15:00Z"
    gamma = entry(feed, "Gamma: a display")
    assert gamma.findtext(f"{ATOM}published") == "2024-03-05T18:00:00Z"
    assert gamma.findtext(f"{ATOM}updated") == "2024-03-20T10:00:00Z"


def test_entries_newest_first_with_absolute_links(feed):
    entries = feed.findall(f"{ATOM}entry")
    links = [e.find(f"{ATOM}link").get("href") for e in entries]  # ids: test_publishing_urls
    assert links == [
        f"{BASE}/2024/04/01/delta/",
        f"{BASE}/2024/03/05/gamma/",
        f"{BASE}/2024/02/01/beta/",
        f"{BASE}/2024/01/10/alpha/",
        f"{BASE}/2023/12/24/last-year/",
    ]
    alpha = entries[3]
    assert alpha.find(f"{ATOM}link").get("href") == f"{BASE}/2024/01/10/alpha/"
    assert [c.get("term") for c in alpha.findall(f"{ATOM}category")] == ["math", "Neural Nets"]
    assert alpha.findtext(f"{ATOM}summary") == "Three sections & an equation <b>not bold</b>"
    body = alpha.find(f"{ATOM}content")
    assert body.get("type") == "html"
    assert body.get("{http://www.w3.org/XML/1998/namespace}base") == f"{BASE}/2024/01/10/alpha/"


def test_math_is_mathml_not_tex(feed):
    html = content(feed, "Alpha: gradients of a neuron")
    assert html.count(f'<math xmlns="{MATHML}" display="inline">') == 2
    assert html.count(f'<math xmlns="{MATHML}" display="block">') == 2
    assert "\\(" not in html and "\\[" not in html and "\\begin" not in html
    assert "\\label" not in html  # labels are invisible in MathJax too
    assert "MathJax" not in html


def test_equation_numbers_and_references_match_the_page(feed):
    html = content(feed, "Alpha: gradients of a neuron")
    # align rows are numbered 1 and 2; the $$ block has an explicit \tag{7}
    assert "<mtext>(1)</mtext>" in html and "<mtext>(2)</mtext>" in html
    assert "<mtext>(7)</mtext>" in html
    assert "<p>Using (2) and (1) we are done.</p>" in html
    assert "<p>The loss (7) has its own tag.</p>" in html


def test_site_macros_are_expanded_before_conversion(feed):
    html = content(feed, "Alpha: gradients of a neuron")
    # as a character (math-core) or a reference (latex2mathml)
    assert "\u211d" in html or "&#x0211D;" in html  # \R -> \mathbb{R} -> double-struck R
    assert "\u2016" in html or "&#x02016;" in html  # \norm{x} -> \lVert x \rVert
    gamma = content(feed, "Gamma: a display")
    assert f'<math xmlns="{MATHML}" display="inline">' in gamma  # kramdown's \\( \\)


def test_code_is_plain_text_and_prose_is_unchanged(feed):
    beta = content(feed, "Beta: just code")
    assert "<math" not in beta and "$5 and $10" in beta
    # feed readers have no style sheet for Pygments' classes: no highlighting spans
    assert '<pre><code class="language-python" data-lang="python">def add(a, b):' in beta
    assert "<span" not in beta


def test_damaged_or_cut_cache_entries_are_misses(tmp_path):
    build(tmp_path)
    post = tmp_path / "site" / "posts" / "2024-02-01-beta.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    cache = tmp_path / "site" / ".sitegen-cache"
    damaged = 0
    for path in cache.rglob("*"):
        if path.is_file() and path.name != "manifest.json":
            data = path.read_bytes()
            # every other file cut in half, the others with one byte flipped
            path.write_bytes(data[: len(data) // 2] if damaged % 2 else
                             data[:-1] + bytes([data[-1] ^ 1]))
            damaged += 1
    assert damaged > 5
    assert build_site(tmp_path / "site", BuildOptions(out=tmp_path / "out")).ok
    shutil.rmtree(cache)
    assert build_site(tmp_path / "site", BuildOptions(out=tmp_path / "clean")).ok
    for name in ("feed.xml", "sitemap.xml", "index.html", "2024/02/01/beta/index.html"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "clean" / name).read_bytes()
    assert "One more line." in content(ET.parse(tmp_path / "out/feed.xml").getroot(),
                                       "Beta: just code")


def test_a_rebuild_with_every_entry_cached_does_not_load_the_converter(tmp_path):
    import os
    import subprocess
    import sys

    out = build(tmp_path)
    post = tmp_path / "site" / "posts" / "2024-02-01-beta.md"
    st = post.stat()
    os.utime(post, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a save without changes
    script = (
        "import sys\n"
        "from sitegen.cli import main\n"
        f"code = main(['build', '--source', {str(tmp_path / 'site')!r},"
        f" '--out', {str(out)!r}, '-q'])\n"
        "print(code, 'latex2mathml' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.split() == ["0", "False"], done.stderr


def test_limit_option(tmp_path):
    out = build(tmp_path, "\n[plugins.feeds]\nlimit = 2\n")
    feed = ET.parse(out / "feed.xml").getroot()
    titles = [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")]
    assert titles == ["Delta: the newest", "Gamma: a display"]


def test_bad_limit_is_a_config_error(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(FIXTURE, root)
    with (root / "sitegen.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[plugins.feeds]\nlimit = "many"\n')
    result = build_site(root, BuildOptions(out=tmp_path / "out"))
    messages = [d.message for d in result.site.report.errors]
    assert any("limit must be a positive integer" in m for m in messages), messages


# -- the TeX helpers -----------------------------------------------------------------------


def test_ams_numbering_across_a_post():
    numbers = EquationNumbers()
    align = numbers.number(
        r"\begin{align} a &= b \label{x} \\ c &= d \nonumber \\ e &= f \tag{9} \label{y}"
        r" \\ g &= h \label{z} \\ \end{align}"
    )
    assert " ".join(align.split()) == (
        r"\begin{align} a &= b \tag{1}\\ c &= d \\ e &= f \tag{9} \\ g &= h \tag{2}\end{align}"
    )
    numbers.number(
        r"\begin{equation} \begin{bmatrix} 1 \\ 2 \end{bmatrix} \label{m} \end{equation}"
    )
    numbers.number(r"\begin{align*} s \label{starred} \end{align*}")  # starred: no number
    numbers.number(r"x \label{plain}")  # display without environment: no number
    assert numbers.labels == {"x": "1", "y": "9", "z": "2", "m": "3"}


def test_references_inside_math_become_text():
    labels = {"a": "3"}
    assert resolve_refs(r"x \eqref{a} y", labels) == r"x \text{(3)} y"
    assert resolve_refs(r"\text{by \eqref{a}}", labels) == r"\text{by (3)}"
    assert resolve_refs(r"\ref{a} \ref{b}", labels) == r"\text{3} \text{b}"


def test_expand_macros_with_and_without_arguments():
    macros = {"R": r"\mathbb{R}", "norm": [r"\lVert #1 \rVert", 1], "RR": r"\R^2"}
    assert expand_macros(r"x \in \R^{n}", macros) == r"x \in \mathbb{R}^{n}"
    assert expand_macros(r"\norm{x_i}_2", macros) == r"\lVert x_i \rVert_2"
    assert expand_macros(r"\RR", macros) == r"\mathbb{R}^2"  # a macro using a macro
    assert expand_macros(r"a \\R", macros) == r"a \\R"  # a row break, then the letter R
    assert expand_macros(r"\Rational", macros) == r"\Rational"  # a longer name


def test_tex_latex2mathml_rejects_falls_back_to_escaped_tex():
    assert to_mathml(r"\frac{", display=False) is None

    class Token:
        type, markup, meta, children = "math_inline", "", {"display": False}, None
        content = r"a<b^"

    html = prepare_math([Token()], {})
    assert list(html.values()) == [r"\(a&lt;b^\)"]


def test_feed_parser_leaves_the_site_parser_alone():
    from sitegen.markdown import create_parser

    md = create_parser()
    feed_md = feed_parser(md)
    text = "Inline $x^2$ and\n\n$$\ny = 1\n$$\n"
    env: dict = {}
    page = md.render(text, env)
    assert '<span class="math inline">\\(x^2\\)</span>' in page
    tokens = feed_md.parse(text, {})
    body = feed_md.renderer.render(
        tokens, feed_md.options, {"_sg_feed_mathml": prepare_math(tokens, {})}
    )
    assert f'<math xmlns="{MATHML}" display="inline">' in body
    assert md.render(text, {}) == page  # the site's rules are unchanged


CORPUS = Path(__file__).parents[1] / ".." / "shared" / "corpus" / "anujgupta82"


def test_jekyll_corpus_every_formula_becomes_mathml(tmp_path):
    """Real kramdown posts: each formula of a page is MathML in its feed entry (references
    in running text become numbers), and no TeX is left for a reader that runs no JS."""
    if not CORPUS.is_dir():
        pytest.skip("the shared Jekyll corpus is not available")
    root = tmp_path / "site"
    shutil.copytree(CORPUS, root)
    out = tmp_path / "out"
    build_site(root, BuildOptions(out=out))
    feed = ET.parse(out / "feed.xml").getroot()
    with_math = 0
    for item in feed.findall(f"{ATOM}entry"):
        url = item.find(f"{ATOM}link").get("href").split("github.io", 1)[1]
        page = (out / url.strip("/") / "index.html").read_text(encoding="utf-8")
        body = _without_comments(page.split('id="sg-content">')[1].split("</article>")[0])
        formulas = body.count('class="math inline"') + body.count('class="math display"')
        references = body.count('class="math inline">\\(\\eqref{') + body.count(
            'class="math inline">\\(\\ref{'
        )
        entry_html = _without_comments(item.findtext(f"{ATOM}content"))
        assert entry_html.count(f'<math xmlns="{MATHML}"') == formulas - references, url
        assert "\\(" not in entry_html and "\\[" not in entry_html, url
        assert "(ref" not in entry_html, url  # every \eqref{refN} resolved to a number
        with_math += formulas > 0
    assert with_math == 7  # the seven published posts with math


def _without_comments(html: str) -> str:
    # HTML comments of the posts hold drafts with TeX that is never rendered
    parts = html.split("<!--")
    return parts[0] + "".join(p.split("-->", 1)[-1] for p in parts[1:])


def test_failed_newest_posts_give_their_places_to_the_next_with_mathml(tmp_path):
    whole = ET.parse(build(tmp_path / "whole", "\n[plugins.feeds]\nlimit = 4\n") / "feed.xml")
    root = tmp_path / "site"
    shutil.copytree(FIXTURE, root)
    with (root / "sitegen.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[plugins.feeds]\nlimit = 2\n\n[plugins.breaker]\n")
    (root / "plugins").mkdir(exist_ok=True)
    (root / "plugins/breaker.py").write_text(
        "from sitegen.hooks import hookimpl\n\n\n"
        "@hookimpl\n"
        "def sitegen_post_rendered(site, post):\n"
        "    if post.title.startswith(('Delta', 'Gamma')):\n"
        "        raise RuntimeError('broken on purpose')\n"
    )
    result = build_site(root, BuildOptions(out=tmp_path / "out"))
    assert any("broken on purpose" in d.message for d in result.site.report.errors)
    feed = ET.parse(tmp_path / "out/feed.xml").getroot()
    titles = [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")]
    expected = [e.findtext(f"{ATOM}title") for e in whole.getroot().findall(f"{ATOM}entry")]
    assert expected[:2] == ["Delta: the newest", "Gamma: a display"]
    assert titles == expected[2:]
    # the entries made when the feed is, for the posts that moved up, are the usual ones
    for title in titles:
        assert content(feed, title) == content(whole.getroot(), title)
    assert f"<math xmlns=\"{MATHML}\"" in content(feed, titles[1])
