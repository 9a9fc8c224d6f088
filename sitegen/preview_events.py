"""The events ``sitegen serve`` pushes to open pages (Server-Sent Events): each build's
changed and removed output paths, whether every page should reload, and its errors."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field

from sitegen.live import Outcome


@dataclass
class EventHub:
    """Fans events out to every open Server-Sent Events stream."""

    _clients: list[queue.Queue] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self) -> queue.Queue:
        q: queue.Queue = queue.Queue()
        with self._lock:
            self._clients.append(q)
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        with self._lock:
            if q in self._clients:
                self._clients.remove(q)

    def publish(self, kind: str, data: dict) -> None:
        with self._lock:
            clients = list(self._clients)
        for q in clients:
            q.put((kind, data))


def event_of(outcome: Outcome) -> dict:
    return {
        "changed": outcome.news,
        "removed": outcome.removed,
        "reload": outcome.reload,
        "errors": [str(d) for d in outcome.errors],
        "pending": [],
    }
