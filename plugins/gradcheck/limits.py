"""The limits of a post's process: printed output capped, a block's time ended by SIGALRM,
the address space bounded, Ctrl-C left to the builder, C code's fd 1 sent nowhere."""

from __future__ import annotations

import faulthandler
import io
import os
import resource
import signal
import sys
from typing import Any

OUTPUT_LIMIT = 200_000  # characters of printed output a post may produce


class OutputLimit(BaseException):
    """Raised from print() when a post prints too much (BaseException: ``except Exception``
    in the author's code must not swallow it)."""


class BlockTimeout(BaseException):
    """Raised by SIGALRM when a block runs past its time limit."""


class CappedWriter(io.TextIOBase):
    """stdout/stderr for the author's code: keeps output, stops a runaway printer."""

    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.size += len(text)
        if self.size > self.limit:
            raise OutputLimit(f"printed more than {self.limit:,} characters")
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def _on_alarm(signum: int, frame: Any) -> None:
    raise BlockTimeout()


def prepare_process() -> None:
    """Signals and descriptors of a process that will run posts (its forks inherit them)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the builder's to handle
    signal.signal(signal.SIGALRM, _on_alarm)
    faulthandler.enable(file=sys.__stderr__)  # a segfault's Python stack, for the runner
    # the author's code prints into a CappedWriter; C code writing to fd 1 goes nowhere
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)


def _address_space() -> int:
    """Current virtual memory size of this process in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def limit_memory(megabytes: int) -> None:
    """Allow the post ``megabytes`` beyond what the warm process already maps."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        soft = _address_space() + megabytes * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (OSError, ValueError):
        pass  # not Linux, or not allowed: the runner's time limit still applies
