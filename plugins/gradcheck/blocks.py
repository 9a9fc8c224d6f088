"""Executed code blocks: reading a fence's info string and collecting a post's blocks.

A fence whose info string is ``python verify …`` or ``python exec …`` is executed; the words
after the kind are options (``hide``, ``seed=N``, ``timeout=S``, ``rtol=…``, ``atol=…``).
Everything here is plain data that crosses the process boundary to the worker.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("verify", "exec")
NUMBER_OPTIONS = {"seed": int, "timeout": float, "rtol": float, "atol": float}
# token.meta key under which the collector leaves a block's index for the renderer
META_KEY = "gradcheck_block"


@dataclass
class BlockOptions:
    hide: bool = False
    seed: int | None = None
    timeout: float | None = None
    rtol: float | None = None
    atol: float | None = None
    unknown: list[str] = field(default_factory=list)  # words we did not understand
    invalid: list[str] = field(default_factory=list)  # known options with a bad value


@dataclass
class Block:
    """One executed fence of a post."""

    index: int  # position among the post's executed blocks
    kind: str  # "verify" | "exec"
    code: str
    line: int  # line of the fence's first code line in the source file (1-based)
    options: BlockOptions = field(default_factory=BlockOptions)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_info(info: str) -> tuple[str, BlockOptions] | None:
    """``"python verify hide seed=3"`` → ``("verify", options)``; None for other fences."""
    words = info.split()
    if len(words) < 2 or words[0].lower() not in ("python", "py") or words[1] not in KINDS:
        return None
    options = BlockOptions()
    for word in words[2:]:
        key, sep, value = word.partition("=")
        if not sep:
            if key == "hide":
                options.hide = True
            else:
                options.unknown.append(word)
            continue
        convert = NUMBER_OPTIONS.get(key)
        try:
            setattr(options, key, convert(value)) if convert else options.unknown.append(word)
        except ValueError:
            options.invalid.append(word)
    return words[1], options


def option_problems(options: BlockOptions, kind: str) -> list[str]:
    """Messages for the words of a fence that were not understood."""
    found = [f"unknown option '{word}' on a {kind} block" for word in options.unknown]
    for word in options.invalid:
        key, _, value = word.partition("=")
        expected = "an integer" if NUMBER_OPTIONS[key] is int else "a number"
        found.append(f"bad value for option {key} on a {kind} block: '{value}' is not "
                     f"{expected}")
    return found


def collect_blocks(tokens: list[Any], line_offset: int) -> list[Block]:
    """The post's executed blocks in document order; tags each fence token with its index.

    ``line_offset`` is the file line of the Markdown body's first line, so that a block's
    ``line`` (and every traceback) points into the source file.
    """
    blocks: list[Block] = []
    # fences inside lists and quotes are still top-level tokens in markdown-it's flat stream
    for token in tokens:
        if token.type != "fence":
            continue
        parsed = parse_info(token.info or "")
        if parsed is None:
            continue
        kind, options = parsed
        start = token.map[0] if token.map else 0
        # the code starts on the line after the opening fence
        line = start + line_offset + 1
        block = Block(len(blocks), kind, token.content, line, options)
        token.meta = dict(token.meta or {}, **{META_KEY: block.index})
        blocks.append(block)
    return blocks
