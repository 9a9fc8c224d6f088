"""``sitegen serve``: build, serve the output folder, watch the sources, push changes.

Threads, all in one process:
- the HTTP server (:class:`~sitegen.preview_http.PreviewHTTPServer`: one thread per
  connection, so long-lived Server-Sent Events streams do not block page requests, at
  most 64 at once; only requests for its own host names are answered), answering as
  ``sitegen.preview_handler`` says;
- the watcher, which hands debounced batches of changed files to ``LiveBuild.apply``
  (the build pipeline of ``sitegen build``, see ``sitegen.live``); what each build
  changed goes to the open pages through ``sitegen.preview_events``, the edited post's
  page first;
- the schedule, which builds again when a post held back for its date is due.

It binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import errno
import sys
import threading
import time
import traceback
import webbrowser
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

from sitegen.build import DEFAULT_OUT
from sitegen.errors import Diagnostic
from sitegen.live import LiveBuild, Outcome
from sitegen.model import BuildOptions
from sitegen.preview_events import EventHub, event_of
from sitegen.preview_handler import ServeState, make_handler
from sitegen.preview_http import PreviewHTTPServer
from sitegen.report import plural
from sitegen.watch import Watcher, start_watching


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

    def finish_start(self, said: list[str]) -> None:
        """After a quick start: the first build, in the background, to have the site in
        memory. The output was already what it writes, so this is normally silent; what
        it does change (or says anew) is announced like any rebuild."""
        start = time.perf_counter()
        try:
            outcome = self.live.start()
        except Exception:  # the next save builds again and says what is wrong
            traceback.print_exc()
            return
        self.reported = {d for d in outcome.diagnostics if str(d) in said}
        outcome.reload = bool(outcome.errors)  # a first build always loads; the pages need not
        self._announce(outcome, time.perf_counter() - start)
        self.live.warm_up()

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
        counts = _counts(outcome)
        print(
            f"{time.strftime('%H:%M:%S')} rebuilt: {plural(len(outcome.changed), 'file')}"
            " changed"
            f"{f', {len(outcome.removed)} removed' if outcome.removed else ''}"
            f" in {seconds * 1000:.0f} ms{counts}",
            file=sys.stderr,
        )


def _counts(outcome: Outcome) -> str:
    """What follows a build's summary line when it said anything: `` (1 error, 2 warnings)``."""
    if not (outcome.errors or outcome.warnings):
        return ""
    return f" ({plural(len(outcome.errors), 'error')}, {plural(len(outcome.warnings), 'warning')})"


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
    said: list[str] | None = None
    try:
        if watch:
            # watching starts before the first build reads anything: a save made while it
            # runs (or just after the first page is served) is a batch that waits for it
            preview.watcher = start_watching(root, out, preview.on_batch)
            said = live.quick_start()
        first = live.start() if said is None else Outcome()
    except BaseException:
        if preview.watcher is not None:
            preview.watcher.stop()
        httpd.server_close()
        raise
    preview.reported = set(first.diagnostics)
    for d in first.diagnostics:
        if not quiet or d.level == "error":
            print(d, file=sys.stderr)
    for warning in [] if quiet else said or []:
        print(warning, file=sys.stderr)
    if not quiet:
        counts = _counts(first)
        seconds = time.perf_counter() - start
        if said is None:
            print(f"built {plural(len(first.changed), 'file')} in {seconds:.2f} s{counts}",
                  file=sys.stderr)
        else:
            print(f"nothing changed since the last preview: serving {out} as it is "
                  f"({seconds:.2f} s)", file=sys.stderr)
    preview.thread = threading.Thread(target=httpd.serve_forever, name="sitegen-http", daemon=True)
    preview.thread.start()
    preview.ready.set()
    if watch:  # before the first save, not during it
        load = preview.finish_start if said is not None else live.warm_up
        threading.Thread(target=load, args=(said,) if said is not None else (),
                         name="sitegen-warm-up", daemon=True).start()
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
