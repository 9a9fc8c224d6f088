"""``sitegen serve``: build, serve the output folder, watch the sources, push changes.

Threads, all in one process:
- the HTTP server (:class:`~sitegen.preview_http.PreviewHTTPServer`: one thread per
  connection, so long-lived Server-Sent Events streams do not block page requests, at
  most 64 at once; only requests for its own host names are answered);
- the watcher, which hands debounced batches of changed files to ``LiveBuild.apply``
  (the build pipeline of ``sitegen build``, see ``sitegen.live``) and publishes what
  changed.

Safety: only files inside the output folder are served; every request path is decoded,
split and checked before it touches the file system, and the result is resolved (links
included) and checked again. It binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import errno
import json
import mimetypes
import queue
import sys
import threading
import time
import traceback
import webbrowser
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from sitegen.build import DEFAULT_OUT
from sitegen.errors import Diagnostic
from sitegen.live import LiveBuild, Outcome, render_error_page
from sitegen.model import BuildOptions
from sitegen.preview_http import PreviewHTTPServer
from sitegen.report import plural
from sitegen.watch import Watcher, start_watching

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
        return base.config.baseurl if base is not None else ""


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


def event_of(outcome: Outcome) -> dict:
    return {
        "changed": outcome.news,
        "removed": outcome.removed,
        "reload": outcome.reload,
        "errors": [str(d) for d in outcome.errors],
        "pending": [],
    }


@dataclass
class Preview:
    """A running preview: server and watcher. ``serve`` runs one until Ctrl-C; tests
    start one on an ephemeral port."""

    live: LiveBuild
    httpd: ThreadingHTTPServer
    state: ServeState
    watcher: Watcher | None = None
    thread: threading.Thread | None = None
    scheduler: threading.Thread | None = None
    quiet: bool = False
    rebuilds: int = 0
    reported: set[Diagnostic] = field(default_factory=set)  # what the last build said
    ready: threading.Event = field(default_factory=threading.Event)  # first build announced
    # (what, milliseconds) of recent rebuilds, for the benchmark and the curious
    timings: deque[tuple[str, float]] = field(default_factory=lambda: deque(maxlen=200))

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{self.state.baseurl}/"

    def stop(self) -> None:
        self.state.stopping.set()
        if self.watcher is not None:
            self.watcher.stop()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)
        if self.scheduler is not None:
            self.scheduler.join(timeout=5)

    def on_batch(self, paths: set[Path]) -> None:
        """Called by the watcher with one debounced batch of changed files."""
        while not self.ready.wait(0.1):  # the first build is still being announced
            if self.state.stopping.is_set():
                return
        start = time.perf_counter()

        def early(rel: str) -> None:  # the edited post's page, ahead of the listings
            self.timings.append(("visible", (time.perf_counter() - start) * 1000))
            self.state.hub.publish("change", event_of(Outcome(changed=[rel])))

        outcome = self.live.apply(paths, on_early=early)
        self.rebuilds += 1
        self.timings.append(("rebuild", (time.perf_counter() - start) * 1000))
        edited = set()
        for path in paths:
            try:
                edited.add(Path(path).absolute().relative_to(self.live.root).as_posix())
            except ValueError:
                continue
        self._announce(outcome, time.perf_counter() - start, edited)

    def publish_scheduled(self) -> None:
        """Until stopped: build again whenever a post held back for its date is due, so
        a scheduled post appears on time in a running preview without any edit."""
        while not self.state.stopping.is_set():
            due = self.live.next_due()
            wait = 1.0 if due is None else (due - datetime.now(UTC)).total_seconds()
            if wait > 0:
                # at most a second: an edit may have scheduled an earlier post meanwhile
                self.state.stopping.wait(min(wait, 1.0))
                continue
            start = time.perf_counter()
            try:
                outcome = self.live.publish_due()
            except Exception:  # a failed rebuild must not stop the schedule
                traceback.print_exc()
                self.state.stopping.wait(1.0)
                continue
            if outcome is not None:
                self.rebuilds += 1
                self._announce(outcome, time.perf_counter() - start)

    def _announce(self, outcome: Outcome, seconds: float, edited: set[str] = frozenset()) -> None:
        if outcome.news or outcome.removed or outcome.reload:
            self.state.hub.publish("change", event_of(outcome))
        built = bool(outcome.changed or outcome.removed or outcome.rendered or outcome.diagnostics)
        if not built:
            return  # nothing the pipeline reads changed
        # what ``build`` would say, without repeating at every save what the last build
        # said already: what is new, and everything about the files just saved
        before, self.reported = self.reported, set(outcome.diagnostics)
        news = [d for d in outcome.diagnostics if d not in before or d.path in edited]
        if self.quiet:
            news = [d for d in news if d.level == "error"]
        for d in news:
            print(d, file=sys.stderr)
        if self.quiet:
            return
        counts = ""
        if outcome.errors or outcome.warnings:
            counts = (
                f" ({plural(len(outcome.errors), 'error')},"
                f" {plural(len(outcome.warnings), 'warning')})"
            )
        print(
            f"{time.strftime('%H:%M:%S')} rebuilt: {plural(len(outcome.changed), 'file')}"
            " changed"
            f"{f', {len(outcome.removed)} removed' if outcome.removed else ''}"
            f" in {seconds * 1000:.0f} ms{counts}",
            file=sys.stderr,
        )


def start_preview(
    root: Path,
    options: BuildOptions,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    watch: bool = True,
    quiet: bool = False,
) -> Preview:
    """Build the site and start serving it in background threads (port 0: any free port)."""
    root = root.absolute()
    out = (options.out or root / DEFAULT_OUT).absolute()
    live = LiveBuild(root=root, options=options, out=out)
    state = ServeState(live=live, hub=EventHub())
    # bind before building, so a taken port fails at once
    httpd = PreviewHTTPServer((host, port), make_handler(state), host=host)
    preview = Preview(live=live, httpd=httpd, state=state, quiet=quiet)
    start = time.perf_counter()
    try:
        if watch:
            # watching starts before the first build reads anything: a save made while it
            # runs (or just after the first page is served) is a batch that waits for it
            preview.watcher = start_watching(root, out, preview.on_batch)
        first = live.start()
    except BaseException:
        if preview.watcher is not None:
            preview.watcher.stop()
        httpd.server_close()
        raise
    preview.reported = set(first.diagnostics)
    for d in first.diagnostics:
        if not quiet or d.level == "error":
            print(d, file=sys.stderr)
    if not quiet:
        counts = ""
        if first.errors or first.warnings:
            counts = (
                f" ({plural(len(first.errors), 'error')},"
                f" {plural(len(first.warnings), 'warning')})"
            )
        print(
            f"built {plural(len(first.changed), 'file')} in {time.perf_counter() - start:.2f} s"
            f"{counts}",
            file=sys.stderr,
        )
    preview.thread = threading.Thread(target=httpd.serve_forever, name="sitegen-http", daemon=True)
    preview.thread.start()
    preview.ready.set()
    if watch:
        preview.scheduler = threading.Thread(
            target=preview.publish_scheduled, name="sitegen-schedule", daemon=True
        )
        preview.scheduler.start()
    return preview


def serve(
    root: Path,
    options: BuildOptions,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = False,
) -> int:
    """Run the live preview until interrupted. Exit code 0 on Ctrl-C, 2 if the port is
    taken or the output folder may not be used."""
    try:
        preview = start_preview(root, options, host=host, port=port, quiet=options.quiet)
    except OSError as exc:
        hint = ""
        if exc.errno == errno.EADDRINUSE:  # another preview, most likely
            hint = f"; try --port {port + 1} (or --port 0 for any free one)"
        print(
            f"sitegen serve: cannot listen on {host}:{port}: {exc.strerror}{hint}", file=sys.stderr
        )
        return 2
    print(f"serving {preview.url}  (Ctrl-C to stop)", file=sys.stderr)
    if open_browser:
        webbrowser.open(preview.url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
    finally:
        preview.stop()
    return 0
