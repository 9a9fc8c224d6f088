"""``tag_slug`` is memoised; it must still be ``slugify``, name for name."""

from __future__ import annotations

from sitegen_plugins.tags import tag_slug

from sitegen.read import slugify


def test_memoised_slug_is_slugify():
    names = ["Neural Nets", "neural-nets", "C++", "Ünïcode Tag", "  ", "a_b c", "Neural Nets"]
    assert [tag_slug(n) for n in names] == [slugify(n) for n in names]
    assert [tag_slug(n) for n in names] == [slugify(n) for n in names]  # from the memo
