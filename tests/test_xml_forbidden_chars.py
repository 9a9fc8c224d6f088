"""Characters XML forbids (a form feed pasted from a PDF, a backspace, a lone surrogate)
never make feed.xml or sitemap.xml unreadable: they are replaced or removed, with a
``path:line`` warning where the source had them."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

from sitegen_plugins._xml_text import FORBIDDEN, clean_tree
from sitegen_plugins.sitemap import build_sitemap

from sitegen.build import build_site
from sitegen.model import BuildOptions

ATOM = "{http://www.w3.org/2005/Atom}"


def _site(tmp_path):
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "sitegen.toml").write_text('title = "feed"\nurl = "https://example.org"\n')
    (root / "posts" / "2024-01-01-c.md").write_text(
        '---\ntitle: "form\\ffeed title"\n---\n\nIntro line.\n\n'
        "Text pasted from a PDF\fwith a form feed, and a backspace\b too.\n",
        encoding="utf-8",
    )
    (root / "posts" / "2024-01-02-clean.md").write_text(
        "---\ntitle: clean\n---\n\nNothing odd here.\n", encoding="utf-8"
    )
    return root


def test_the_feed_stays_valid_xml_and_the_warning_names_file_and_line(tmp_path):
    root = _site(tmp_path)
    out = tmp_path / "out"
    result = build_site(root, BuildOptions(out=out))
    feed = ET.parse(out / "feed.xml").getroot()  # raises if it is not well-formed XML
    titles = {e.find(f"{ATOM}title").text: e for e in feed.findall(f"{ATOM}entry")}
    assert set(titles) == {"form feed title", "clean"}
    content = titles["form feed title"].find(f"{ATOM}content").text
    assert "from a PDF with a form feed, and a backspace too." in content
    warnings = [str(d) for d in result.site.report.warnings]
    expected = (
        "posts/2024-01-01-c.md:7: warning: feed.xml: removed characters XML does not allow "
        "(U+0008, U+000C)"
    )
    assert expected in warnings, warnings
    assert not [w for w in warnings if "2024-01-02-clean" in w]
    ET.parse(out / "sitemap.xml")


def test_the_sitemap_removes_them_from_addresses_and_warns(tmp_path):
    root = _site(tmp_path)
    result = build_site(root, BuildOptions(out=tmp_path / "out"))
    site = result.site
    (post,) = [p for p in site.posts if p.rel.endswith("clean.md")]
    post.url = "/odd\x0bpath\x01/"  # however it got there, the sitemap must stay valid
    urls = [e.text for e in ET.fromstring(build_sitemap(site)).iter() if e.tag.endswith("loc")]
    assert "https://example.org/odd path/" in urls
    assert any(
        d.path == post.rel and "sitemap.xml: removed" in d.message and "U+000B" in d.message
        for d in site.report.warnings
    )


def _expected(text: str) -> str:
    """The rule: vertical tab and form feed become spaces, a lone surrogate U+FFFD, the
    other forbidden characters go; everything XML allows stays as it was."""
    return "".join(
        " " if c in "\x0b\x0c"
        else "\ufffd" if "\ud800" <= c <= "\udfff"
        else "" if FORBIDDEN.match(c)
        else c
        for c in text
    )


def test_random_text_with_forbidden_characters_always_serialises_to_valid_xml():
    rng = random.Random(17)
    alphabet = "ab <>&\"'\t\n\r\x00\x01\x08\x0b\x0c\x1f\ud800\udfff\ufffe\uffff\u00e9\U0001f600"
    for _ in range(500):
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(3)]
        root = ET.Element("feed", {"title": texts[0]})
        child = ET.SubElement(root, "entry")
        child.text, child.tail = texts[1], texts[2]
        found = clean_tree(root)
        parsed = ET.fromstring(ET.tostring(root, encoding="utf-8"))  # well-formed, or raises
        assert found == {c for t in texts for c in FORBIDDEN.findall(t)}
        assert parsed.get("title") == _expected(texts[0])

        def as_parsed(text: str) -> str | None:  # XML reads a CR in text as a newline
            return _expected(text).replace("\r\n", "\n").replace("\r", "\n") or None

        entry = parsed.find("entry")
        assert (entry.text, entry.tail) == (as_parsed(texts[1]), as_parsed(texts[2]))
