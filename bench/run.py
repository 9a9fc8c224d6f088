"""Benchmark sitegen against Jekyll, Hugo, Pelican and MkDocs in one run on this machine.

    python bench/run.py                      # N=100 (5 runs) and N=1000 (3 runs), all peers
    python bench/run.py --quick              # N=100, 2 runs: a smoke test of the benchmark
    python bench/run.py --sizes 1000 --runs 5 --peers hugo,jekyll
    python bench/run.py --sizes 1000 --peers ""   # sitegen alone

Progress goes to stderr; the Markdown report goes to stdout and bench/results/latest.md,
the raw samples to bench/results/latest.json. Ratios are sitegen's time divided by the
peer's time in the same run (below 1 means sitegen is faster): on a shared, noisy machine
they are what to compare, not absolute seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from edit_timing import edit_post, fetch, rebuilds_logged, wait_rebuilt, wait_served
from make_corpus import ALL_PEERS, make_post, post_path, write_corpus
from measure import Sample, Series, run_timed
from peers import BENCH_DIR, REPO_ROOT, Tool, ensure_installed, make_tool, sitegen_env, version

PEERS = tuple(p for p in ALL_PEERS if p != "sitegen")
# SPEC §10 / issue 6: sitegen's time over the peer's, on 1,000 posts.
RATIO_TARGETS = {"hugo": 1.0, "jekyll": 1 / 5, "pelican": 1 / 8, "mkdocs": 1 / 8}
TARGET_SIZE = 1000
DEFAULT_RUNS = {100: 5, 1000: 3}


@dataclass
class Options:
    sizes: list[int]
    runs: dict[int, int]
    peers: list[str]
    work: Path
    results: Path
    serve_edits: int
    verify_n: int
    no_extras: bool


@dataclass
class Measure:
    """A sitegen measure other than the clean build, with its target (seconds)."""

    name: str
    posts: int
    series: Series = field(default_factory=Series)
    target: float | None = None
    unit: str = "s"
    note: str = ""
    value: float | None = None  # for derived measures (e.g. per-post overhead)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description="Benchmark sitegen against its peers.")
    parser.add_argument("--sizes", help="comma-separated post counts (default 100,1000)")
    parser.add_argument("--runs", type=int,
                        help="timed runs per size (default: 5 at 100, 3 at 1000)")
    parser.add_argument("--peers", default=",".join(PEERS), help="subset of " + ",".join(PEERS))
    parser.add_argument("--quick", action="store_true", help="N=100, 2 runs, 3 serve edits")
    parser.add_argument("--work", type=Path, default=BENCH_DIR / ".work", help="scratch folder")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "results")
    parser.add_argument("--serve-edits", type=int, help="edits timed in serve (default 5)")
    parser.add_argument("--verify-n", type=int, default=100, help="posts in the verify corpus")
    parser.add_argument("--no-extras", action="store_true",
                        help="skip bench_serve.py and bench_verify_overhead.py")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else (
        [100] if args.quick else [100, 1000])
    default_runs = 2 if args.quick else None
    runs = {n: args.runs or default_runs or DEFAULT_RUNS.get(n, 3) for n in sizes}
    peers = [p for p in args.peers.split(",") if p]
    unknown = set(peers) - set(PEERS)
    if unknown:
        parser.error(f"unknown peers: {', '.join(sorted(unknown))}")
    return Options(
        sizes=sizes, runs=runs, peers=peers, work=args.work.resolve(),
        results=args.results.resolve(),
        serve_edits=args.serve_edits or (3 if args.quick else 5), verify_n=args.verify_n,
        no_extras=args.no_extras,
    )


def machine_info(names: list[str]) -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kb = 0
    commit = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(mem_kb / 2**20, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "sitegen_commit": commit or "unknown",
        "versions": {name: version(name) for name in names},
    }


def count_html(out: Path) -> int:
    return sum(1 for _ in out.rglob("*.html")) if out.is_dir() else 0


def bench_clean(tools: list[Tool], runs: int, logs: Path) -> tuple[dict[str, Series], dict]:
    """Clean builds, interleaved across tools so that machine drift hits all of them alike.

    A first, untimed run per tool warms the file cache, samples the process tree's memory
    and counts the pages produced; a tool whose warm-up fails is not timed further.
    """
    series = {t.name: Series() for t in tools}
    extra: dict[str, dict] = {}
    for tool in tools:
        tool.clean()
        log(f"warm-up {tool.name}")
        warm = run_timed(tool.cmd, tool.cwd, tool.full_env(), logs / f"{tool.name}.log",
                         sample_tree=True)
        extra[tool.name] = {"warmup": asdict(warm), "html_files": count_html(tool.out)}
        if warm.returncode != 0:
            series[tool.name].samples.append(warm)
            log(f"{tool.name} failed (exit {warm.returncode}): {warm.error.strip()[-300:]}")
    live = [t for t in tools if extra[t.name]["warmup"]["returncode"] == 0]
    for r in range(runs):
        for tool in live:
            tool.clean()
            sample = run_timed(tool.cmd, tool.cwd, tool.full_env(), logs / f"{tool.name}.log")
            series[tool.name].samples.append(sample)
            log(f"run {r + 1}/{runs} {tool.name}: {sample.wall:.3f} s (exit {sample.returncode})")
    return series, extra


def page_holds(out: Path, rel_page: str, marker: str) -> bool:
    """Whether the edited post's page shows the marker (the expected page, else any page)."""
    page = out / rel_page
    if page.is_file():
        return marker in page.read_text(encoding="utf-8", errors="replace")
    return any(marker in p.read_text(encoding="utf-8", errors="replace")
               for p in out.rglob("*.html"))


def post_permalink(index: int) -> str:
    post = make_post(index)
    return f"{post.date:%Y/%m/%d}/{post.slug}/"


def bench_rebuilds(tool: Tool, n: int, runs: int, logs: Path) -> list[Measure]:
    """sitegen's nothing-changed and one-post-changed rebuilds after one clean build."""
    noop = Measure("rebuild, nothing changed", n, target=0.3)
    one = Measure("rebuild, one post changed", n, target=0.5)
    tool.clean()
    first = run_timed(tool.cmd, tool.cwd, tool.full_env(), logs / "sitegen-rebuild.log")
    if first.returncode != 0:
        noop.note = one.note = f"clean build failed: {first.error.strip()[-200:]}"
        return [noop, one]
    for _ in range(runs):
        noop.series.samples.append(run_timed(tool.cmd, tool.cwd, tool.full_env(),
                                             logs / "sitegen-rebuild.log"))
    # The edited post sits in the middle of the corpus, so neighbours' prev/next links change.
    index = n // 2
    path = post_path("sitegen", tool.cwd, make_post(index))
    original = path.read_text(encoding="utf-8")
    stale = 0
    try:
        for r in range(runs):
            marker = f"bench-edit-{n}-{r}-{time.time_ns()}"
            edit_post(path, original, marker)
            sample = run_timed(tool.cmd, tool.cwd, tool.full_env(), logs / "sitegen-rebuild.log")
            one.series.samples.append(sample)
            if sample.returncode == 0 and not page_holds(tool.out, post_permalink(index) +
                                                         "index.html", marker):
                stale += 1
    finally:
        path.write_text(original, encoding="utf-8")
    if stale:
        one.note = f"{stale} of {runs} rebuilds did not show the edit"
    log(f"N={n} nothing-changed {noop.series.median()} s, one-post {one.series.median()} s")
    return [noop, one]


def bench_jekyll_incremental(tool: Tool, n: int, runs: int, logs: Path) -> Measure:
    """Reference point: Jekyll's own incremental mode with nothing changed."""
    measure = Measure("jekyll --incremental, nothing changed (reference)", n)
    inc = Tool(tool.name, [*tool.cmd, "--incremental"], tool.cwd, tool.out, tool.caches)
    inc.clean()
    run_timed(inc.cmd, inc.cwd, inc.full_env(), logs / "jekyll-inc.log")
    for _ in range(runs):
        measure.series.samples.append(run_timed(inc.cmd, inc.cwd, inc.full_env(),
                                                logs / "jekyll-inc.log"))
    inc.clean()
    return measure


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_serve(root: Path, n: int, edits: int, logs: Path) -> Measure:
    """Save-to-visible in `sitegen serve`: write a post, poll its page until the edit shows.

    Polling over HTTP measures rebuild plus serving, not the browser's part (the event,
    the fetch, the patch); bench_serve.py times both, with the same edit and poll.
    """
    measure = Measure("serve: save to visible (HTTP poll)", n, target=0.1)
    help_run = subprocess.run([sys.executable, "-m", "sitegen", "serve", "--help"], cwd=root,
                              env={**os.environ, **sitegen_env()}, capture_output=True, text=True)
    if help_run.returncode != 0:
        measure.note = "n/a: `sitegen serve` is not available yet"
        return measure
    port = _free_port()
    out = logs.parent / "out" / f"serve-{n}"
    cmd = [sys.executable, "-m", "sitegen", "serve", "--port", str(port), "--out", str(out)]
    index = n // 2
    path = post_path("sitegen", root, make_post(index))
    url = f"http://127.0.0.1:{port}/{post_permalink(index)}"
    original = path.read_text(encoding="utf-8")
    with open(logs / "sitegen-serve.log", "wb") as log_file:
        server = subprocess.Popen(cmd, cwd=root, env={**os.environ, **sitegen_env()},
                                  stdout=log_file, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while fetch(url) is None:
            if server.poll() is not None or time.monotonic() > deadline:
                tail = (logs / "sitegen-serve.log").read_text(errors="replace").strip()
                last = tail.splitlines()[-1][:160] if tail else "no output"
                measure.note = f"n/a: server never served {url} ({last})"
                return measure
            time.sleep(0.1)
        time.sleep(1.0)  # let the watcher settle after the first build
        for r in range(edits):
            marker = f"bench-serve-{r}-{time.time_ns()}"
            logged = rebuilds_logged(logs / "sitegen-serve.log")
            start = time.perf_counter()
            edit_post(path, original, marker)
            seen = wait_served(url, marker, start)
            ok = seen is not None
            wall = seen if seen is not None else time.perf_counter() - start
            measure.series.samples.append(Sample(wall, 0.0, 0 if ok else 1,
                                                 error="" if ok else "edit not visible in 20 s"))
            log(f"serve edit {r + 1}/{edits}: {wall * 1000:.0f} ms{'' if ok else ' (timed out)'}")
            wait_rebuilt(logs / "sitegen-serve.log", logged)  # the listing pages are done
            time.sleep(0.2)  # separate edits beyond any debounce window
    finally:
        path.write_text(original, encoding="utf-8")
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)  # the server's own session, started above
            server.wait()
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(root / "_site", ignore_errors=True)
    if measure.series.failed:
        measure.note = "edits never became visible"
    return measure


_FIRST_BUILD = re.compile(r"^(?:built .* in ([\d.]+) s|nothing changed since .*\(([\d.]+) s\))",
                          re.M)


def bench_serve_start(tool: Tool, n: int, runs: int, logs: Path) -> Measure:
    """`sitegen serve` started again with nothing changed since its last preview (warm
    caches): its first build as it reports it, against a nothing-changed `sitegen build`.
    The series is launch to the first page served, the process start included."""
    measure = Measure("serve: first build with warm caches", n)
    noop = Series()
    tool.clean()
    run_timed(tool.cmd, tool.cwd, tool.full_env(), logs / "sitegen-serve-start.log")
    for _ in range(runs):
        noop.samples.append(run_timed(tool.cmd, tool.cwd, tool.full_env(),
                                      logs / "sitegen-serve-start.log"))
    out = logs.parent / "out" / f"serve-start-{n}"
    url_path = post_permalink(n // 2)
    reported: list[float] = []
    for r in range(runs + 1):  # the first start fills the preview's output: not counted
        port = _free_port()
        cmd = [sys.executable, "-m", "sitegen", "serve", "--port", str(port), "--out", str(out)]
        log_path = logs / "sitegen-serve-start.log"
        start = time.perf_counter()
        with open(log_path, "wb") as log_file:
            server = subprocess.Popen(cmd, cwd=tool.cwd, env={**os.environ, **sitegen_env()},
                                      stdout=log_file, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        try:
            while fetch(f"http://127.0.0.1:{port}/{url_path}") is None:
                if server.poll() is not None or time.perf_counter() - start > 300:
                    measure.note = "n/a: the server never served the page"
                    return measure
                time.sleep(0.002)
            wall = time.perf_counter() - start
            time.sleep(1.0 if r == 0 else 0.3)  # the site loads behind the first page
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, 9)
                server.wait()
        said = _FIRST_BUILD.search(log_path.read_text(errors="replace"))
        if r and said:
            reported.append(float(said.group(1) or said.group(2)))
            measure.series.samples.append(Sample(wall, 0.0, 0))
    shutil.rmtree(out, ignore_errors=True)
    tool.clean()
    base = noop.median()
    if reported and base is not None:
        measure.value = sorted(reported)[len(reported) // 2]
        measure.target = 1.1 * base
        measure.note = (f"as serve reports it; target 1.1 x a nothing-changed build "
                        f"({base:.3f} s); launch to first page "
                        f"{measure.series.median():.3f} s")
    return measure


def bench_verify(work: Path, n: int, runs: int, logs: Path) -> list[Measure]:
    """Verification overhead per post: the same corpus with and without a trivial verify block."""
    plain_root = work / f"verify-plain-{n}"
    verify_root = work / f"verify-on-{n}"
    write_corpus(plain_root, n, ["sitegen"])
    write_corpus(verify_root, n, ["sitegen"], verify=True)
    plain = make_tool("sitegen", plain_root / "sitegen", work / "out" / f"verify-plain-{n}")
    checked = make_tool("sitegen", verify_root / "sitegen", work / "out" / f"verify-on-{n}")
    overhead = Measure("verification overhead per post (trivial verify block)", n,
                       target=0.05, unit="ms/post")
    clean_plain, clean_checked = Series(), Series()
    noop_checked = Measure("rebuild, nothing changed, posts with verify blocks", n, target=0.3)
    for tool in (plain, checked):
        tool.clean()
        warm = run_timed(tool.cmd, tool.cwd, tool.full_env(), logs / "sitegen-verify.log")
        if warm.returncode != 0:
            overhead.note = noop_checked.note = f"build failed: {warm.error.strip()[-200:]}"
            return [overhead, noop_checked]
    for _ in range(runs):
        for tool, series in ((plain, clean_plain), (checked, clean_checked)):
            tool.clean()
            series.samples.append(run_timed(tool.cmd, tool.cwd, tool.full_env(),
                                            logs / "sitegen-verify.log"))
    # Nothing-changed rebuilds, alternating with the same corpus without blocks: the cached
    # verification results should make the two cost the same.
    noop_plain = Series()
    for _ in range(runs):
        for tool, series in ((plain, noop_plain), (checked, noop_checked.series)):
            series.samples.append(run_timed(tool.cmd, tool.cwd, tool.full_env(),
                                            logs / "sitegen-verify.log"))
    if noop_plain.median() is not None:
        noop_checked.note = f"same corpus without blocks: {noop_plain.median():.3f} s"
    a, b = clean_plain.median(), clean_checked.median()
    if a is not None and b is not None:
        overhead.value = (b - a) / n
        overhead.note = f"clean build {b:.2f} s with blocks vs {a:.2f} s without"
    overhead.series = clean_checked
    return [overhead, noop_checked]


def bench_checker(logs: Path) -> Measure:
    """The 100,000-entry gradient check, via bench/bench_checker.py when it exists."""
    measure = Measure("gradient check, 100,000 entries", 100_000, target=1.0)
    script = BENCH_DIR / "bench_checker.py"
    if not script.exists():
        measure.note = "n/a: bench/bench_checker.py not present yet"
        return measure
    log_file = logs / "bench_checker.log"
    sample = run_timed([sys.executable, str(script)], REPO_ROOT,
                       {**os.environ, **sitegen_env()}, log_file)
    # bench_checker.py prints, per case, a label line then "  median X s (...)"; the slowest
    # case's median is the figure that matters for the target.
    cases: list[tuple[str, float]] = []
    label = ""
    for line in log_file.read_text(errors="replace").splitlines():
        found = re.search(r"median ([0-9.]+) s", line)
        if found and line.startswith(" "):
            cases.append((label, float(found.group(1))))
        elif line and not line.startswith(" "):
            label = line.strip()
    if cases:
        measure.value = max(t for _, t in cases)
        measure.note = "slowest case; " + "; ".join(
            f"{lab.split(':')[0]}: {t:.3f} s" for lab, t in cases)
    measure.series.samples.append(sample)
    if sample.returncode != 0:
        measure.note = f"bench_checker.py failed: {sample.error.strip()[-200:]}"
    elif measure.value is None:
        measure.note = "whole script wall time, incl. interpreter and numpy start-up"
    return measure


# Other helpers' scripts in bench/, run as they are and quoted in the report.
EXTRA_SCRIPTS = (
    ("bench_serve.py", "save-to-visible in a real browser"),
    ("bench_verify_overhead.py", "verification overhead, by part"),
)


def run_extras(logs: Path) -> list[tuple[str, str, str]]:
    """(script, what it measures, its output or why there is none) for each present script."""
    found = []
    for name, what in EXTRA_SCRIPTS:
        script = BENCH_DIR / name
        if not script.exists():
            continue
        log(f"running {name}")
        log_file = logs / f"{name}.log"
        sample = run_timed([sys.executable, str(script)], REPO_ROOT,
                           {**os.environ, **sitegen_env()}, log_file, timeout=900)
        text = log_file.read_text(errors="replace").strip()
        if sample.returncode != 0:
            text = f"n/a: exit {sample.returncode}\n" + "\n".join(text.splitlines()[-8:])
        found.append((name, what, text))
    return found


# ---------------------------------------------------------------- report


def _s(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def _mb(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f}"


def clean_table(clean: dict[int, dict[str, Series]], extra: dict[int, dict],
                runs: dict[int, int]) -> str:
    rows = [
        "| posts | generator | median s | min–max s | CPU s | peak RSS MB (largest process) "
        "| peak RSS MB (process tree) | HTML files | sitegen ÷ peer | sitegen ÷ peer (CPU s) "
        "| target (N=1000) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for n, by_tool in clean.items():
        ours = by_tool.get("sitegen")
        ours_med = ours.median() if ours else None
        for name, series in by_tool.items():
            med, spread = series.median(), series.spread()
            spread_txt = f"{_s(spread[0])}–{_s(spread[1])}" if spread else "—"
            warm = extra[n][name]["warmup"]
            ratio_txt, cpu_ratio_txt, target_txt = "—", "—", ""
            if name != "sitegen":
                if med and ours_med:
                    ratio = ours_med / med
                    ratio_txt = f"{ratio:.2f}"
                    cpu_ours, cpu_peer = ours.median_cpu(), series.median_cpu()
                    if cpu_ours and cpu_peer:
                        cpu_ratio_txt = f"{cpu_ours / cpu_peer:.2f}"
                    goal = RATIO_TARGETS[name]
                    if n == TARGET_SIZE:
                        met = "met" if ratio <= goal else "missed"
                        target_txt = f"≤ {goal:.3g}: {met}"
                elif ours is not None and ours.failed:
                    ratio_txt = "n/a (sitegen failed)"
            if series.failed:
                lines = series.first_error().strip().splitlines() or ["(no output)"]
                med_txt = "failed: " + lines[-1].replace("|", "/")[:120]
            else:
                med_txt = _s(med)
            rows.append(
                f"| {n} | {name} | {med_txt} | {spread_txt} | {_s(series.median_cpu())} "
                f"| {_mb(series.peak_rss_mb())} "
                f"| {_mb(warm.get('tree_rss_mb'))} | {extra[n][name]['html_files']} "
                f"| {ratio_txt} | {cpu_ratio_txt} | {target_txt} |"
            )
    return "\n".join(rows)


def _fmt_measure(m: Measure, x: float | None) -> str:
    if x is None:
        return "—"
    if m.unit == "MB":
        return f"{x:.0f} MB"
    if m.unit == "ms/post" or (m.target is not None and m.target < 1 and x < 1):
        return f"{x * 1000:.0f} ms"
    return f"{_s(x)} s"


def measures_table(measures: list[Measure]) -> str:
    rows = [
        "| measure | posts | median | min–max | target | status | note |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for m in measures:
        value = m.value if m.value is not None else m.series.median()
        spread = m.series.spread() if m.value is None else None
        status = ""
        if m.target is not None and value is not None:
            status = "met" if value <= m.target else "missed"
        spread_txt = (f"{_fmt_measure(m, spread[0])}–{_fmt_measure(m, spread[1])}"
                      if spread else "—")
        target_txt = f"< {_fmt_measure(m, m.target)}" if m.target is not None else ""
        if m.unit == "ms/post":
            target_txt += "/post"
        rows.append(f"| {m.name} | {m.posts} | {_fmt_measure(m, value)} | {spread_txt} "
                    f"| {target_txt} | {status} | {m.note.replace('|', '/')} |")
    return "\n".join(rows)


def _load(values: list[float]) -> str:
    return "/".join(f"{v:.1f}" for v in values)


def extras_section(extras: list[tuple[str, str, str]]) -> list[str]:
    lines = []
    for name, what, text in extras:
        lines += [f"`python bench/{name}` ({what}):", "", "```", text, "```", ""]
    return ["### Other scripts in bench/", "", *lines] if lines else []


def render_report(machine: dict, clean: dict, extra: dict, runs: dict[int, int],
                  measures: list[Measure], command: str,
                  extras: list[tuple[str, str, str]] = ()) -> str:
    versions = "; ".join(f"{k}: {v}" for k, v in machine["versions"].items())
    runs_txt = ", ".join(f"{r} at N={n}" for n, r in runs.items())
    return "\n".join([
        f"## Benchmark ({machine['date']})",
        "",
        f"Machine: {machine['cpus']} CPUs ({machine['cpu_model']}), "
        f"{machine['memory_gib']} GiB, {machine['platform']}, Python {machine['python']}, "
        f"sitegen at {machine['sitegen_commit']}. Load average (1/5/15 min) "
        f"{_load(machine['load_average_at_start'])} at start, "
        f"{_load(machine['load_average_at_end'])} at end"
        + (" — the machine was busy: trust the ratios, not the seconds."
           if max(machine["load_average_at_end"][0], machine["load_average_at_start"][0])
           > (machine["cpus"] or 1) else "."),
        f"Generators: {versions}.",
        f"Command: `{command}` — clean builds, median of {runs_txt} (after one warm-up run); "
        "ratio = sitegen's median ÷ the peer's, below 1 means sitegen is faster. CPU s is "
        "user + system time of the whole process tree: less disturbed by other load than wall "
        "time, but it counts both cores' work for a parallel build.",
        "",
        "### Clean build of the synthetic math corpus",
        "",
        clean_table(clean, extra, runs),
        "",
        "### sitegen: rebuilds, live preview, verification",
        "",
        measures_table(measures),
        "",
        *extras_section(list(extras)),
    ])


def series_json(series: Series) -> dict:
    return {"median": series.median(), "spread": series.spread(),
            "median_cpu": series.median_cpu(),
            "peak_rss_mb": series.peak_rss_mb(), "samples": [asdict(s) for s in series.samples]}


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    command = "python bench/run.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    logs = opts.work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    peers = []
    for peer in opts.peers:
        problem = ensure_installed(peer)
        if problem:
            log(f"skipping {peer}: {problem}")
        else:
            peers.append(peer)
    names = ["sitegen", *peers]
    machine = machine_info(names)
    log(f"machine: {machine}")

    clean: dict[int, dict[str, Series]] = {}
    extra: dict[int, dict] = {}
    measures: list[Measure] = []
    for n in opts.sizes:
        log(f"writing {n}-post corpus")
        roots = write_corpus(opts.work / f"corpus-{n}", n, names)
        tools = [make_tool(name, roots[name], opts.work / "out" / f"{name}-{n}") for name in names]
        clean[n], extra[n] = bench_clean(tools, opts.runs[n], logs)
        if clean[n]["sitegen"].failed:
            log("sitegen's clean build fails; skipping its rebuild measures at this size")
        else:
            measures += bench_rebuilds(tools[0], n, opts.runs[n], logs)
        if "jekyll" in peers:
            jekyll = next(t for t in tools if t.name == "jekyll")
            measures.append(bench_jekyll_incremental(jekyll, n, opts.runs[n], logs))
        if not clean[n]["sitegen"].failed:
            ours = clean[n]["sitegen"]
            peak = Measure("peak memory of a clean build, largest process", n, target=300,
                           unit="MB")
            peak.value = ours.peak_rss_mb()
            warm = extra[n]["sitegen"]["warmup"]
            tree, shared = warm.get("tree_rss_mb"), warm.get("tree_pss_mb")
            peak.note = (
                f"whole process tree {tree:.0f} MB summed RSS, {shared or 0:.0f} MB summed PSS "
                "(forked workers' shared pages counted once; sampled every 20 ms)"
                if tree else ""
            )
            measures.append(peak)
        for tool in tools:
            tool.clean()

    largest = max(opts.sizes)
    measures.append(bench_serve(opts.work / f"corpus-{largest}" / "sitegen", largest,
                                opts.serve_edits, logs))
    largest_tool = make_tool("sitegen", opts.work / f"corpus-{largest}" / "sitegen",
                             opts.work / "out" / f"sitegen-{largest}")
    measures.append(bench_serve_start(largest_tool, largest, 3, logs))
    measures += bench_verify(opts.work, opts.verify_n, opts.runs.get(opts.verify_n, 3), logs)
    measures.append(bench_checker(logs))
    extras = [] if opts.no_extras else run_extras(logs)

    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report = render_report(machine, clean, extra, opts.runs, measures, command.strip(), extras)
    print(report)
    opts.results.mkdir(parents=True, exist_ok=True)
    (opts.results / "latest.md").write_text(report, encoding="utf-8")
    data = {
        "machine": machine,
        "command": command.strip(),
        "clean": {str(n): {name: {**series_json(s), **extra[n][name]} for name, s in by.items()}
                  for n, by in clean.items()},
        "extras": {name: text for name, _, text in extras},
        "measures": [{"name": m.name, "posts": m.posts, "target": m.target, "unit": m.unit,
                      "value": m.value, "note": m.note, **series_json(m.series)}
                     for m in measures],
    }
    (opts.results / "latest.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    log(f"wrote {opts.results / 'latest.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
