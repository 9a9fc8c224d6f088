"""HTTP tests of ``sitegen serve`` against a preview on an ephemeral port in this process."""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sitegen.model import BuildOptions
from sitegen.preview_handler import (
    CLIENT_PATH,
    EVENTS_PATH,
    content_type,
    inject_client,
    resolve_request,
)
from sitegen.server import Preview, start_preview

SECRET = "TOP-SECRET-OUTSIDE-THE-OUTPUT"
POST_URL = "/2026/02/03/hello/"
POST_FILE = "2026-02-03-hello.md"


def make_site(root: Path) -> Path:
    (root / "posts").mkdir(parents=True)
    (root / "posts" / POST_FILE).write_text(
        "---\ntitle: Hello\ntags: [demo]\n---\n\nHello body with $a_1$.\n", encoding="utf-8"
    )
    (root / "posts" / "2026-02-01-older.md").write_text("---\ntitle: Older\n---\n\nOld.\n")
    (root / "assets").mkdir()
    (root / "assets" / "site.css").write_text("body { color: black }\n")
    (root / "assets" / "data.json").write_text('{"a": 1}\n')
    (root / "assets" / "pixel.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "secret.txt").write_text(SECRET)  # in the site, outside the output
    return root


def _start(folder: Path) -> Preview:
    root = make_site(folder / "site")
    (folder / "secret.txt").write_text(SECRET)
    return start_preview(root, BuildOptions(), port=0, watch=False, quiet=True)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Preview]:
    """One preview for the tests that only read (starting one costs a build)."""
    running = _start(tmp_path_factory.mktemp("shared"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def preview(tmp_path: Path) -> Iterator[Preview]:
    """A preview of its own, for tests that edit the site."""
    running = _start(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def get(preview: Preview, path: str, method: str = "GET") -> tuple[int, dict, bytes]:
    """A request with the path sent exactly as given (no client-side normalising)."""
    host, port = preview.httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_binds_loopback_and_serves_clean_urls(shared: Preview) -> None:
    preview = shared
    assert preview.httpd.server_address[0] == "127.0.0.1"
    status, headers, body = get(preview, POST_URL)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b"Hello body" in body
    assert CLIENT_PATH.encode() in body  # injected in serve mode
    status, headers, _ = get(preview, POST_URL.rstrip("/"))
    assert status == 301 and headers["Location"] == POST_URL
    status, _, body = get(preview, POST_URL + "index.html")
    assert status == 200 and b"Hello body" in body
    status, _, body = get(preview, "/")
    assert status == 200 and b"Hello" in body


@pytest.mark.parametrize("path", ["//tags", "///tags", "/%2Ftags", "//2026/02/03/hello"])
def test_redirects_stay_on_this_site(shared: Preview, path: str) -> None:
    status, headers, _ = get(shared, path)
    if status == 301:
        location = headers["Location"]
        assert location.startswith("/") and not location.startswith("//")
        assert "%25" not in location  # not quoted twice
    else:
        assert status == 404


def test_head_has_no_body(shared: Preview) -> None:
    preview = shared
    status, headers, body = get(preview, POST_URL, method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0


@pytest.mark.parametrize(
    "path, kind",
    [
        ("/assets/site.css", "text/css"),
        ("/assets/data.json", "application/json"),
        ("/assets/pixel.png", "image/png"),
        (CLIENT_PATH, "text/javascript"),
    ],
)
def test_content_types(shared: Preview, path: str, kind: str) -> None:
    preview = shared
    status, headers, _ = get(preview, path)
    assert status == 200
    assert headers["Content-Type"].startswith(kind)


def test_content_type_of_feed() -> None:
    assert content_type(Path("feed.xml")) == "application/atom+xml"
    assert content_type(Path("sitemap.xml")) == "application/xml"


def test_missing_page_gets_the_sites_404_with_status_404(shared: Preview) -> None:
    preview = shared
    status, headers, body = get(preview, "/no/such/page/")
    assert status == 404
    assert headers["Content-Type"].startswith("text/html")
    built_404 = (preview.live.out / "404.html").read_bytes()
    assert built_404.split(b"</body>")[0][-200:] in body  # the site's own page
    assert CLIENT_PATH.encode() in body


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/..%2Fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/assets/../../secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "//etc/passwd",
        "///etc/passwd",
        "/%2f%2fetc/passwd",
        "/%2fetc%2fpasswd",
        "/etc/passwd%00.html",
        "/%00",
        "/C:/Windows/win.ini",
        "/assets/escape/secret.txt",
    ],
)
def test_never_serves_outside_the_output_folder(shared: Preview, path: str) -> None:
    preview = shared
    link = preview.live.out / "assets" / "escape"
    if not link.exists():  # a symbolic link inside the output that points out of it
        os.symlink(preview.live.root.parent, link)
    status, _, body = get(preview, path)
    assert status == 404
    assert SECRET.encode() not in body
    assert b"root:" not in body


def test_resolve_request_rules(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    (out / "a" / "index.html").write_text("a")
    (out / "b.html").write_text("b")
    (tmp_path / "outside.txt").write_text("x")
    assert resolve_request(out, "/a/") == (out / "a" / "index.html").resolve()
    assert resolve_request(out, "/a") == (out / "a" / "index.html").resolve()
    assert resolve_request(out, "/b") == (out / "b.html").resolve()
    assert resolve_request(out, "/") is None  # no index.html at the top
    assert resolve_request(out, "/../outside.txt") is None
    assert resolve_request(out, "/a/%2e%2e/%2e%2e/outside.txt") is None


def test_inject_client_before_body_end() -> None:
    page = inject_client(b"<html><body><p>x</p></body></html>")
    assert page.index(CLIENT_PATH.encode()) < page.index(b"</body>")
    assert CLIENT_PATH.encode() in inject_client(b"<p>fragment</p>")


def read_event(sock_file, deadline: float = 10.0) -> tuple[str, dict]:
    """The next Server-Sent Event (kind, data) from a raw stream; comments are skipped."""
    kind, data = "message", ""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        line = sock_file.readline().decode().rstrip("\r\n")
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line == "" and data:
            return kind, json.loads(data)
    raise AssertionError("no event arrived")


def open_events(preview: Preview):
    host, port = preview.httpd.server_address[:2]
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(f"GET {EVENTS_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    stream = sock.makefile("rb")
    status_line = stream.readline()
    assert b" 200 " in status_line
    while stream.readline() not in (b"\r\n", b""):
        pass  # headers
    return sock, stream


def test_events_tell_pages_what_changed(preview: Preview) -> None:
    sock, stream = open_events(preview)
    try:
        assert read_event(stream)[0] == "hello"
        post = preview.live.root / "posts" / POST_FILE
        post.write_text(post.read_text().replace("Hello body", "Changed body"))
        preview.on_batch({post})
        kind, data = read_event(stream)
        assert kind == "change"
        assert "2026/02/03/hello/index.html" in data["changed"]
        assert not data["reload"]
    finally:
        sock.close()
    status, _, body = get(preview, POST_URL)
    assert status == 200 and b"Changed body" in body


def test_edited_page_is_announced_first_and_once(preview: Preview) -> None:
    sock, stream = open_events(preview)
    try:
        assert read_event(stream)[0] == "hello"
        post = preview.live.root / "posts" / POST_FILE
        post.write_text(post.read_text().replace("title: Hello", "title: Hello again"))
        preview.on_batch({post})
        first = read_event(stream)
        then = read_event(stream)
    finally:
        sock.close()
    # the post's page alone, then the pages listing it (the index shows the new title)
    assert first == ("change", {**first[1], "changed": ["2026/02/03/hello/index.html"]})
    assert then[0] == "change" and "index.html" in then[1]["changed"]
    assert "2026/02/03/hello/index.html" not in then[1]["changed"]
    assert [what for what, _ in preview.timings] == ["visible", "rebuild"]


def test_bad_edits_show_errors_and_the_server_survives(preview: Preview) -> None:
    post = preview.live.root / "posts" / POST_FILE
    good = post.read_text()
    post.write_text("---\ntitle: [broken\n---\nbody\n")
    preview.on_batch({post})
    status, _, body = get(preview, POST_URL)
    assert status == 200
    assert b"sg-error" in body and f"posts/{POST_FILE}:".encode() in body
    assert b"Hello body" not in body
    assert CLIENT_PATH.encode() in body  # the error page also updates by itself

    config = preview.live.root / "sitegen.toml"
    config.write_text("title = [\n")
    preview.on_batch({config})
    status, _, body = get(preview, "/")
    assert status == 500 and b"sitegen.toml" in body

    config.write_text('title = "Back"\n')
    post.write_text(good)
    preview.on_batch({config, post})
    status, _, body = get(preview, POST_URL)
    assert status == 200 and b"Hello body" in body and b"sg-error" not in body


def test_site_below_a_base_path(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    (root / "sitegen.toml").write_text('title = "Based"\nbaseurl = "/blog"\n')
    preview = start_preview(root, BuildOptions(), port=0, watch=False, quiet=True)
    try:
        assert preview.url.endswith("/blog/")
        status, headers, _ = get(preview, "/")
        assert status == 301 and headers["Location"] == "/blog/"
        status, _, body = get(preview, "/blog" + POST_URL)
        assert status == 200 and b"Hello body" in body
        assert b'data-baseurl="/blog"' in body
        assert get(preview, POST_URL)[0] == 404
    finally:
        preview.stop()
