"""The result channel from a post's process to the builder: one pipe per post, framed JSON.

Each frame is ``token (16 bytes) | sender pid (4) | body length (4) | body``. The token is
drawn afresh for every post, so bytes the post's code writes to the pipe by mistake (or a
leftover process of another post, which never held this pipe nor knew its token) are
recognised as not sitegen's at once instead of being read as a result. The pid lets the
builder ignore frames from processes the post forked. Bodies are JSON: only plain data
crosses, and reading it can never run code. Nothing here imports numpy.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import struct
from typing import Any

TOKEN_BYTES = 16
HEADER = struct.Struct(f"!{TOKEN_BYTES}sII")
MESSAGE_LIMIT = 32 * 1024 * 1024  # one frame (a block's result; error maps are pooled)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class ChannelError(Exception):
    """Bytes on a result channel that sitegen's worker did not send."""


def new_token() -> bytes:
    return secrets.token_bytes(TOKEN_BYTES)


def encode(token: bytes, message: Any) -> bytes:
    """One frame; TypeError or ValueError if ``message`` is not plain JSON data."""
    body = json.dumps(message, ensure_ascii=True).encode("ascii")
    if len(body) > MESSAGE_LIMIT:
        raise ValueError(f"a result of {len(body):,} bytes is over the {MESSAGE_LIMIT:,} limit")
    return HEADER.pack(token, os.getpid(), len(body)) + body


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def scrubbed(value: Any) -> Any:
    """``value`` with lone surrogates (which no UTF-8 file can hold) replaced by U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [scrubbed(v) for v in value]
    if isinstance(value, dict):
        return {scrubbed(k): scrubbed(v) for k, v in value.items()}
    return value


class FrameReader:
    """Turns the bytes read from one post's channel into (pid, message) pairs."""

    def __init__(self, token: bytes) -> None:
        self.token = token
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, Any]]:
        self.buffer += data
        messages = []
        while len(self.buffer) >= HEADER.size:
            token, pid, length = HEADER.unpack_from(self.buffer)
            if token != self.token or length > MESSAGE_LIMIT:
                raise ChannelError("bytes that sitegen did not send")
            end = HEADER.size + length
            if len(self.buffer) < end:
                break
            body = bytes(self.buffer[HEADER.size : end])
            del self.buffer[:end]
            try:
                message = json.loads(body.decode("ascii"))
            except ValueError as exc:
                raise ChannelError("a frame that is not JSON") from exc
            if not (isinstance(message, list) and message and isinstance(message[0], str)):
                raise ChannelError("a frame that is not a message")
            messages.append((pid, scrubbed(message)))
        return messages
