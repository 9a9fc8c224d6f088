from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from sitegen.errors import PostError
from sitegen.frontmatter import as_list, parse_date, split_front_matter


def test_split_returns_meta_body_and_body_line():
    meta, body, line = split_front_matter("---\ntitle: A\ntags: [x]\n---\n\nHello\n", "p.md")
    assert meta == {"title": "A", "tags": ["x"]}
    assert body == "\nHello\n"
    assert line == 5


def test_no_front_matter_is_all_body():
    assert split_front_matter("Just text\n", "p.md") == ({}, "Just text\n", 1)


def test_a_horizontal_rule_is_not_front_matter():
    meta, body, _ = split_front_matter("----\ntext\n", "p.md")
    assert meta == {} and body.startswith("----")


def test_malformed_yaml_points_at_the_line():
    with pytest.raises(PostError) as info:
        split_front_matter("---\ntitle: ok\nbad: [1, 2\nother: 3\n---\nx\n", "p.md")
    assert info.value.path == "p.md" and info.value.line in (4, 5)
    assert "malformed front matter" in info.value.message


def test_front_matter_must_be_a_mapping():
    with pytest.raises(PostError, match="mapping"):
        split_front_matter("---\n- a\n- b\n---\n", "p.md")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2016-08-30 15:40:00", datetime(2016, 8, 30, 15, 40)),
        ("2016-08-30T15:40:00", datetime(2016, 8, 30, 15, 40)),
        (date(2016, 8, 30), datetime(2016, 8, 30)),
        (datetime(2016, 8, 30, 1, 2, 3), datetime(2016, 8, 30, 1, 2, 3)),
        ("2016-08-30", datetime(2016, 8, 30)),
    ],
)
def test_dates_in_the_forms_jekyll_accepts(value, expected):
    assert parse_date(value) == expected


def test_date_with_offset():
    d = parse_date("2016-08-30 15:40:00 +0530")
    assert d.utcoffset() == timedelta(hours=5, minutes=30)
    assert d.astimezone(UTC).hour == 10


@pytest.mark.parametrize("value", ["2016-13-01", "yesterday", 42])
def test_bad_dates(value):
    with pytest.raises(ValueError, match="bad date"):
        parse_date(value)


def test_tags_as_list_or_words():
    assert as_list("a b") == ["a", "b"]
    assert as_list(["a", 1]) == ["a", "1"]
    assert as_list(None) == []
