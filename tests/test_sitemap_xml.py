"""The sitemap's serialiser gives exactly the bytes ElementTree's utf-8 writer gives."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sitegen_plugins.sitemap import SITEMAP_NS, xml_bytes

TEXTS = [
    "https://example.org/2024/01/02/post/",
    "https://example.org/a?b=1&c=<2>/",
    "https://example.org/ünïcødé/数学/",
    "https://example.org/\"quoted\" 'single'/",
    "lone surrogate \ud800 and emoji \U0001f600",
    "",
]


@pytest.mark.parametrize("count", [0, 1, 3])
@pytest.mark.parametrize("text", TEXTS)
def test_same_bytes_as_elementtree(text, count):
    urlset = ET.Element("urlset", {"xmlns": SITEMAP_NS, "note": text})
    for n in range(count):
        entry = ET.SubElement(urlset, "url")
        ET.SubElement(entry, "loc").text = f"{text}{n}"
        if n % 2 == 0:
            ET.SubElement(entry, "lastmod").text = "2024-01-02T00:00:00Z"
    ET.indent(urlset, space="  ")
    expected = ET.tostring(urlset, encoding="utf-8", xml_declaration=True) + b"\n"
    assert xml_bytes(urlset) == expected
