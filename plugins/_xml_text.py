"""Characters XML 1.0 forbids, taken out of text before it goes into an XML file.

A form feed or backspace pasted from a PDF is harmless in a page but makes a feed or a
sitemap unreadable: XML allows only tab, newline, carriage return and the characters from
U+0020 on, less the surrogates, U+FFFE and U+FFFF. The feed and sitemap plugins pass every
text and attribute through here and warn where the source had such characters.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_AS_SPACE = {"\x0b", "\x0c"}  # vertical tab and form feed separate words


def _replacement(char: str) -> str:
    if char in _AS_SPACE:
        return " "
    return "\ufffd" if "\ud800" <= char <= "\udfff" else ""  # a surrogate stood for a character


def xml_safe(text: str, found: set[str]) -> str:
    """``text`` with the characters XML forbids replaced or removed (added to ``found``)."""
    if not FORBIDDEN.search(text):
        return text

    def replace(match: re.Match[str]) -> str:
        found.add(match.group())
        return _replacement(match.group())

    return FORBIDDEN.sub(replace, text)


def clean_tree(element: ET.Element) -> set[str]:
    """Make every text, tail and attribute under ``element`` XML-safe; what was taken out."""
    found: set[str] = set()
    for node in element.iter():
        if node.text:
            node.text = xml_safe(node.text, found)
        if node.tail:
            node.tail = xml_safe(node.tail, found)
        for key, value in node.attrib.items():
            node.attrib[key] = xml_safe(value, found)
    return found


def warn_removed(site: Any, output: str, post: Any, found: set[str]) -> None:
    """``path:line: warning`` at the first such character of ``post``'s source (or at the
    site's configuration when the text came from there)."""
    if not found:
        return
    names = ", ".join(f"U+{ord(c):04X}" for c in sorted(found))
    message = f"{output}: removed characters XML does not allow ({names})"
    if post is None:
        site.report.warning("sitegen.toml", None, message)
        return
    source = post.source or ""
    at = min((i for i in (source.find(c) for c in found) if i >= 0), default=-1)
    line = source.count("\n", 0, at) + 1 if at >= 0 else post.body_line
    site.report.warning(post.rel, line, message)
