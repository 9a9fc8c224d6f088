"""Info strings of executed fences and collecting a post's blocks with file lines."""

from __future__ import annotations

from sitegen_plugins.gradcheck.blocks import META_KEY, collect_blocks, parse_info

from sitegen.markdown import create_parser


def test_parse_info_reads_kind_and_options():
    kind, options = parse_info("python verify hide seed=7 timeout=2.5 rtol=1e-4 atol=0")
    assert kind == "verify"
    assert options.hide and options.seed == 7 and options.timeout == 2.5
    assert options.rtol == 1e-4 and options.atol == 0.0 and options.unknown == []


def test_parse_info_ignores_other_fences_and_keeps_unknown_words():
    assert parse_info("python") is None
    assert parse_info("javascript verify") is None
    assert parse_info("") is None
    kind, options = parse_info("python exec fold seed=x timeout=abc")
    assert kind == "exec" and options.unknown == ["fold"] and options.seed is None
    # a known option with a bad value is a bad value, not an unknown option
    assert options.invalid == ["seed=x", "timeout=abc"] and options.timeout is None


def test_collect_blocks_gives_file_lines_and_tags_tokens():
    body = (
        "Text.\n\n```python verify\na = 1\n```\n\n"
        "- item\n\n  ```python exec\n  print(a)\n  ```\n"
    )
    md = create_parser()
    tokens = md.parse(body, {})
    blocks = collect_blocks(tokens, line_offset=5)  # the body starts on line 5 of the file
    assert [(b.kind, b.line, b.index) for b in blocks] == [("verify", 8, 0), ("exec", 14, 1)]
    assert blocks[0].code == "a = 1\n"
    fences = [t for t in tokens if t.type == "fence"]
    assert [t.meta[META_KEY] for t in fences] == [0, 1]
