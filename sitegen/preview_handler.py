"""The requests ``sitegen serve`` answers: files of the output folder (HTML with the
live-reload script added), the live-reload client itself, the Server-Sent Events stream,
and in place of a page that could not be built, its errors.

Safety: only files inside the output folder are served; every request path is decoded,
split and checked before it touches the file system, and the result is resolved (links
included) and checked again.
"""

from __future__ import annotations

import json
import mimetypes
import queue
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from importlib import resources
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from sitegen.live import LiveBuild, render_error_page
from sitegen.preview_events import EventHub

EVENTS_PATH = "/__sitegen/events"
CLIENT_PATH = "/__sitegen/livereload.js"
KEEPALIVE_SECONDS = 15.0

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".wasm": "application/wasm",
}


def content_type(path: Path) -> str:
    if path.name == "feed.xml" or path.name.endswith(".atom"):
        return "application/atom+xml"
    known = _TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def resolve_request(out: Path, url_path: str) -> Path | None:
    """The file inside ``out`` that a request path names, or None.

    Rejects anything that could leave the folder: ``..`` segments (also percent-encoded,
    also behind encoded slashes), backslashes, NUL bytes, drive letters; and, after
    resolving symbolic links, anything that ends up outside ``out``. A folder maps to
    its ``index.html``; ``/about`` to ``/about/index.html`` or ``/about.html``.
    """
    path = unquote(url_path)
    if "\x00" in path or "\\" in path:
        return None
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if any(p == ".." or ":" in p for p in parts):
        return None
    root = out.resolve()
    candidate = root.joinpath(*parts) if parts else root
    options = [candidate]
    if candidate.is_dir():
        options = [candidate / "index.html"]
    elif not candidate.exists() and parts and "." not in parts[-1]:
        options = [candidate / "index.html", candidate.with_name(parts[-1] + ".html")]
    for option in options:
        try:
            real = option.resolve()
        except OSError:
            continue
        if real.is_file() and real.is_relative_to(root):
            return real
    return None


def _output_path(url_path: str) -> str:
    """The output path a request path names (``/a/b/`` → ``a/b/index.html``)."""
    rel = "/".join(p for p in unquote(url_path).split("/") if p)
    if url_path.endswith("/") or not rel:
        return f"{rel}/index.html".lstrip("/")
    return rel if "." in rel.rsplit("/", 1)[-1] else f"{rel}/index.html"


def inject_client(page: bytes, baseurl: str = "") -> bytes:
    """Add the live-reload script to an HTML page (before ``</body>`` when there is one)."""
    tag = (
        f'<script src="{CLIENT_PATH}" data-events="{EVENTS_PATH}" '
        f'data-baseurl="{baseurl}" defer></script>'
    ).encode()
    lower = page.lower()
    at = lower.rfind(b"</body>")
    if at < 0:
        return page + tag
    return page[:at] + tag + page[at:]


def client_script() -> bytes:
    return resources.files("sitegen").joinpath("livereload.js").read_bytes()


@dataclass
class ServeState:
    """What request handlers need: the folder, the build (for its errors), the events."""

    live: LiveBuild
    hub: EventHub
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def out(self) -> Path:
        return self.live.out

    @property
    def baseurl(self) -> str:
        base = self.live.loaded_site
        return base.config.baseurl if base is not None else self.live.baseurl_hint


def make_handler(state: ServeState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "sitegen"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # quiet: the terminal is for build messages

        def do_GET(self) -> None:  # noqa: N802
            self._respond(head=False)

        def do_HEAD(self) -> None:  # noqa: N802
            self._respond(head=True)

        def _respond(self, head: bool) -> None:
            if not self.server.host_allowed(self.headers.get("Host")):  # DNS rebinding
                body = b"sitegen serve answers only its own host names (see --host)"
                self._send(HTTPStatus.MISDIRECTED_REQUEST, body, "text/plain", head)
                return
            path = urlsplit(self.path).path
            if path == EVENTS_PATH and not head:
                self._events()
                return
            if path == CLIENT_PATH:
                self._send(HTTPStatus.OK, client_script(), "text/javascript; charset=utf-8", head)
                return
            base = state.baseurl
            if base:
                if path == "/" or path == base:
                    self._redirect(base + "/")
                    return
                if not path.startswith(base + "/"):
                    self._not_found(head)
                    return
                path = path[len(base) :]
            failed = state.live.error_pages.get(_output_path(path))
            if failed is not None:  # the page's post failed: its errors instead of a 404
                body = inject_client(failed, base)  # 200: the page updates itself when fixed
                self._send(HTTPStatus.OK, body, _TYPES[".html"], head)
                return
            target = resolve_request(state.out, path)
            if state.live.site_errors and (target is None or target.suffix == ".html"):
                # nothing can be built: say why on every page (assets are still served)
                body = inject_client(render_error_page(state.live.site_errors, state.live.root))
                self._send(HTTPStatus.INTERNAL_SERVER_ERROR, body, _TYPES[".html"], head)
                return
            if target is None:
                self._not_found(head)
                return
            if target.name == "index.html" and not path.endswith(("/", ".html")):
                # relative links need the slash; built from the cleaned path, never from
                # the raw one ("//host" would redirect to another site)
                clean = "/".join(p for p in unquote(path).split("/") if p)
                self._redirect(quote(f"{base}/{clean}/"))
                return
            try:
                body = target.read_bytes()
            except OSError:
                self._not_found(head)
                return
            kind = content_type(target)
            if kind.startswith("text/html"):
                body = inject_client(body, base)
            self._send(HTTPStatus.OK, body, kind, head)

        def _not_found(self, head: bool) -> None:
            errors = state.live.errors
            if errors:  # the page may be one that failed before this preview knew its URL
                heading = "No page here, and the last build had errors"
                body = render_error_page(errors, state.live.root, heading)
                self._send(
                    HTTPStatus.NOT_FOUND, inject_client(body, state.baseurl), _TYPES[".html"], head
                )
                return
            page = resolve_request(state.out, "/404.html")
            body = page.read_bytes() if page is not None else b"<h1>404 Not Found</h1>"
            self._send(
                HTTPStatus.NOT_FOUND, inject_client(body, state.baseurl), _TYPES[".html"], head
            )

        def _redirect(self, location: str) -> None:
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _send(self, status: HTTPStatus, body: bytes, kind: str, head: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")  # a preview is never stale
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _events(self) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "keep-alive")
            self.end_headers()
            self.close_connection = True
            q = state.hub.subscribe()
            try:
                self._write_event("hello", {})
                quiet_since = time.monotonic()
                while not state.stopping.is_set():
                    try:
                        # short waits so that a stopping server ends the stream soon
                        kind, data = q.get(timeout=0.5)
                    except queue.Empty:
                        if time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                            self.wfile.write(b": keep-alive\n\n")  # proxies drop idle streams
                            self.wfile.flush()
                            quiet_since = time.monotonic()
                        continue
                    self._write_event(kind, data)
                    quiet_since = time.monotonic()
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass  # the page was closed
            finally:
                state.hub.unsubscribe(q)

        def _write_event(self, kind: str, data: dict) -> None:
            self.wfile.write(f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

    return Handler
