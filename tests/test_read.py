"""Reading a source: its bytes, their decoding, and what is wrong with bad ones."""

from __future__ import annotations

import pytest

from sitegen.errors import PostError
from sitegen.read import decode_source, read_bytes


def test_read_bytes_returns_the_whole_file(tmp_path):
    path = tmp_path / "big.md"
    data = bytes(range(256)) * 9000  # larger than one read
    path.write_bytes(data)
    assert read_bytes(path) == data
    (tmp_path / "empty.md").write_bytes(b"")
    assert read_bytes(tmp_path / "empty.md") == b""


def test_decoding_drops_a_byte_order_mark_and_windows_line_ends():
    assert decode_source("\ufefftitle\r\nline\r\n".encode(), "a.md") == "title\nline\n"


def test_old_mac_line_ends_are_line_ends():
    # a lone "\r" ends a line for CommonMark and YAML alike
    assert decode_source(b"---\rtitle: A\r---\rBody $x$.\r", "a.md") == (
        "---\ntitle: A\n---\nBody $x$.\n"
    )
    assert decode_source(b"mixed\r\nold\rnew\n", "a.md") == "mixed\nold\nnew\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b" \n\t\n", "empty file"),
        (b"text\x00more", "binary file"),
        (b"ok\n\xff\xfe", "invalid UTF-8"),
    ],
)
def test_bad_bytes_are_named(data, message):
    with pytest.raises(PostError, match=message):
        decode_source(data, "posts/a.md")


def test_invalid_utf8_names_its_line():
    with pytest.raises(PostError) as info:
        decode_source(b"one\ntwo\nthr\xe9e\n", "posts/a.md")
    assert info.value.line == 3
