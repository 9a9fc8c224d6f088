"""The HTTP server under ``sitegen serve``: which Host names it answers, and how many
connections it serves at once.

* Host check (DNS rebinding): a web page on another site can make the browser send
  requests to a name that resolves to 127.0.0.1; the only sign is its Host header. So a
  request is answered only when its Host is a localhost name (``localhost``,
  ``*.localhost``, ``127.0.0.1``, ``::1``) or the address ``--host`` gave; with ``--host``
  set to every interface (``0.0.0.0``, ``::``) any Host is answered, as asked. A request
  without a Host header (HTTP/1.0 tools; browsers always send one) is answered.
* Connection bound: one thread per connection (Server-Sent Events streams are long-lived),
  but at most :data:`MAX_CONNECTIONS` at once; a connection beyond that gets a 503 and is
  closed, and an idle connection is closed after :data:`IDLE_SECONDS` without a request,
  so idle sockets cannot hold every thread.
* A browser that goes away mid-request (a reload, a closed tab) is not an error: the
  terminal stays for the site's messages, without a traceback for it.
"""

from __future__ import annotations

import socket
import threading
from http.server import ThreadingHTTPServer

__all__ = ["IDLE_SECONDS", "MAX_CONNECTIONS", "PreviewHTTPServer", "host_name"]

MAX_CONNECTIONS = 64
IDLE_SECONDS = 30.0
_LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_EVERY_INTERFACE = frozenset({"", "0.0.0.0", "::"})
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 31\r\nConnection: close\r\n\r\ntoo many connections; try again"
)


def host_name(header: str) -> str:
    """The name in a Host header, without port or IPv6 brackets, lower case."""
    value = header.strip().lower().rstrip(".")
    if value.startswith("["):
        close = value.find("]")
        return value[1:close] if close > 0 else value
    if value.count(":") == 1:  # name:port (an IPv6 address without brackets has more)
        return value.split(":", 1)[0].rstrip(".")
    return value


class PreviewHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer with the Host check's names and a bound on its threads."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, *, host: str) -> None:
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        bound = host.strip().lower().strip("[]")
        self._any_host = bound in _EVERY_INTERFACE
        self._names = _LOCAL_NAMES | {bound, str(self.server_address[0]).lower()}

    def host_allowed(self, header: str | None) -> bool:
        """May a request with this Host header be answered (see module doc)?"""
        if header is None or self._any_host:
            return True
        name = host_name(header)
        return name in self._names or name.endswith(".localhost")

    def process_request(self, request: socket.socket, client_address: object) -> None:
        if not self._slots.acquire(blocking=False):
            try:
                request.settimeout(1.0)
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        request.settimeout(IDLE_SECONDS)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # the client left (reset, broken pipe) or idled out
        super().handle_error(request, client_address)

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()
