"""``sitegen serve`` answers only its own host names and bounds its connection threads."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from sitegen.model import BuildOptions
from sitegen.preview_http import MAX_CONNECTIONS, PreviewHTTPServer, host_name
from sitegen.server import Preview, start_preview


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Preview]:
    root = tmp_path_factory.mktemp("site")
    (root / "posts").mkdir()
    (root / "posts" / "2026-02-03-hello.md").write_text("---\ntitle: Hello\n---\n\nHi $a$.\n")
    running = start_preview(root, BuildOptions(), port=0, watch=False, quiet=True)
    try:
        yield running
    finally:
        running.stop()


def status_for_host(preview: Preview, host_header: str | None) -> tuple[int, bytes]:
    host, port = preview.httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.putrequest("GET", "/", skip_host=True, skip_accept_encoding=True)
        if host_header is not None:
            conn.putheader("Host", host_header.replace("PORT", str(port)))
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "header", ["localhost:PORT", "127.0.0.1:PORT", "LOCALHOST", "[::1]:PORT", "blog.localhost:PORT"]
)
def test_local_host_names_are_answered(preview: Preview, header: str) -> None:
    status, body = status_for_host(preview, header)
    assert status == 200 and b"Hello" in body


@pytest.mark.parametrize(
    "header", ["evil.example:PORT", "evil.example", "127.0.0.1.evil.example", "localhost.evil:PORT"]
)
def test_other_host_names_are_refused(preview: Preview, header: str) -> None:
    """DNS rebinding: a page elsewhere reaches 127.0.0.1 under its own name; refused."""
    status, body = status_for_host(preview, header)
    assert status == 421
    assert b"Hello" not in body


def test_host_name_parsing() -> None:
    assert host_name("LocalHost:8000") == "localhost"
    assert host_name("[::1]:8000") == "::1"
    assert host_name("::1") == "::1"
    assert host_name("example.org.") == "example.org"


def test_host_option_names_are_accepted_and_every_interface_accepts_all() -> None:
    class Quiet(BaseHTTPRequestHandler):
        pass

    named = PreviewHTTPServer(("127.0.0.1", 0), Quiet, host="127.0.0.1")
    wildcard = PreviewHTTPServer(("127.0.0.1", 0), Quiet, host="0.0.0.0")
    try:
        assert named.host_allowed("127.0.0.1:1") and not named.host_allowed("10.0.0.5:1")
        assert wildcard.host_allowed("10.0.0.5:1") and wildcard.host_allowed("anything")
    finally:
        named.server_close()
        wildcard.server_close()


def test_idle_connections_cannot_take_more_than_the_bound_of_threads(tmp_path: Path) -> None:
    release = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            release.wait(20)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = PreviewHTTPServer(("127.0.0.1", 0), Slow, host="127.0.0.1")
    loop = threading.Thread(target=server.serve_forever, daemon=True)
    loop.start()
    before = threading.active_count()
    sockets: list[socket.socket] = []
    try:
        for _ in range(MAX_CONNECTIONS + 40):
            sock = socket.create_connection(server.server_address[:2], timeout=10)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            sockets.append(sock)
        deadline = time.monotonic() + 10
        refused = 0
        for sock in sockets[MAX_CONNECTIONS:]:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            if sock.recv(100).startswith(b"HTTP/1.1 503"):
                refused += 1
        assert refused == 40
        assert threading.active_count() - before <= MAX_CONNECTIONS
        release.set()
        for sock in sockets[:MAX_CONNECTIONS]:  # the ones in the bound were served
            sock.settimeout(10)
            assert sock.recv(100).startswith(b"HTTP/1.0 204")
    finally:
        release.set()
        for sock in sockets:
            sock.close()
        server.shutdown()
        server.server_close()


def test_a_client_that_leaves_prints_no_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    handled = threading.Semaphore(0)

    class Leaving(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            try:
                if self.path == "/gone":  # what a socket says when the browser went away
                    raise ConnectionResetError(104, "Connection reset by peer")
                raise ValueError("a real bug")
            finally:
                handled.release()

    server = PreviewHTTPServer(("127.0.0.1", 0), Leaving, host="127.0.0.1")
    loop = threading.Thread(target=server.serve_forever, daemon=True)
    loop.start()
    try:
        for path in ("/gone", "/bug"):
            with socket.create_connection(server.server_address[:2], timeout=10) as sock:
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
                assert handled.acquire(timeout=10)
                # the server closes the connection after handle_error has run
                assert sock.recv(100) == b""
    finally:
        server.shutdown()
        server.server_close()
    err = capsys.readouterr().err
    assert "ValueError: a real bug" in err  # a bug still shows
    assert "ConnectionResetError" not in err
