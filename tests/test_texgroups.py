"""Brace groups of TeX (``sitegen.texgroups``), checked against a plain reference reading
on random text: the macros file, the feed's TeX and gradcheck's statements all use them."""

from __future__ import annotations

import random

from sitegen.texgroups import group_end, split_outside_groups

ALPHABET = "{}\\=ab "


def _depths(text: str) -> list[tuple[int, str, int]]:
    """(index, character, depth after it) of every character that is not escaped."""
    found, depth, escaped = [], 0, False
    for i, char in enumerate(text):
        if escaped:
            escaped = False
            continue
        if char == "\\":
            escaped = True
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        found.append((i, char, depth))
    return found


def _reference_end(text: str, opening: int) -> int | None:
    base = next(d for i, _, d in _depths(text) if i == opening) - 1
    for i, char, depth in _depths(text):
        if i > opening and char == "}" and depth == base:
            return i + 1
    return None


def _reference_split(text: str, separator: str) -> list[str]:
    cuts = [i for i, char, depth in _depths(text) if char == separator and depth == 0]
    bounds = [-1] + cuts + [len(text)]
    return [text[a + 1 : b] for a, b in zip(bounds, bounds[1:], strict=False)]


def test_groups_and_splits_agree_with_a_plain_reading_on_random_text():
    rng = random.Random(15)
    for _ in range(3000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 24)))
        assert split_outside_groups(text, "=") == _reference_split(text, "="), text
        opening = "{" + text  # a group opened at 0, closed or not
        assert group_end(opening, 0) == _reference_end(opening, 0), opening


def test_examples():
    assert group_end(r"{a{b}\}c}d", 0) == 9
    assert group_end(r"{a{b}", 0) is None
    assert split_outside_groups(r"a = \frac{b=c}{d} \= e = f", "=") == [
        "a ", r" \frac{b=c}{d} \= e ", " f"
    ]
