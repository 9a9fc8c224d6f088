"""Where does a sitegen build spend its time? Import times and a cProfile of one build.

    python bench/profile_build.py --n 1000            # clean build, builder process only
    python bench/profile_build.py --n 1000 --jobs 1   # everything in one process

Prints the slowest imports (``-X importtime``) of a clean and of a nothing-changed build,
which heavy libraries the nothing-changed build still imports, and the top functions of a
cProfile of a clean build and of a rebuild after one post changed. cProfile sees only the
builder process: with ``--jobs 1`` it sees the per-post work too (sitegen then renders in
one process).
"""

from __future__ import annotations

import argparse
import os
import pstats
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from make_corpus import write_corpus
from peers import BENCH_DIR, sitegen_env

HEAVY = ("markdown_it", "mdit_py_plugins", "jinja2", "numpy", "pygments", "yaml", "latex2mathml")
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


@dataclass(frozen=True)
class ImportCost:
    module: str
    self_us: int
    cumulative_us: int
    depth: int  # 0 for a module imported directly by the program


def parse_importtime(stderr: str) -> list[ImportCost]:
    """The rows of ``python -X importtime`` output, in the order printed."""
    rows = []
    for line in stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            self_us, cum_us, indent, module = match.groups()
            rows.append(ImportCost(module, int(self_us), int(cum_us), (len(indent) - 1) // 2))
    return rows


def _build(
    root: Path, out: Path, python_args: list[str], build_args: list[str], clean: bool
) -> subprocess.CompletedProcess:
    if clean:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(root / ".sitegen-cache", ignore_errors=True)
    cmd = [sys.executable, *python_args, "-m", "sitegen", "build", "--out", str(out), *build_args]
    env = {**os.environ, **sitegen_env()}
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)


def report_imports(title: str, stderr: str, top: int) -> None:
    rows = parse_importtime(stderr)
    total = sum(r.self_us for r in rows)
    print(f"\n## {title}: {len(rows)} modules, {total / 1000:.0f} ms of import time in all")
    print("top-level imports by cumulative time:")
    for r in sorted((r for r in rows if r.depth == 0), key=lambda r: -r.cumulative_us)[:top]:
        print(f"  {r.cumulative_us / 1000:8.1f} ms  {r.module}")
    loaded = {r.module.split(".")[0] for r in rows}
    heavy = [h for h in HEAVY if h in loaded]
    print(f"heavy libraries imported: {', '.join(heavy) or 'none'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--jobs", type=int, help="pass --jobs to sitegen build")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--work", type=Path, default=BENCH_DIR / ".work")
    args = parser.parse_args(argv)
    work = args.work.resolve() / f"profile-{args.n}"
    root = write_corpus(work, args.n, ["sitegen"])["sitegen"]
    out = work / "out"
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []

    def build(python_args: list[str], clean: bool) -> subprocess.CompletedProcess:
        done = _build(root, out, python_args, jobs, clean)
        if done.returncode != 0:
            sys.exit(f"sitegen build failed:\n{done.stdout[-800:]}{done.stderr[-800:]}")
        return done

    report_imports("clean build", build(["-X", "importtime"], clean=True).stderr, args.top)
    report_imports("nothing-changed build", build(["-X", "importtime"], clean=False).stderr,
                   args.top)

    prof = work / "build.prof"
    profile = ["-m", "cProfile", "-o", str(prof)]
    done = _build(root, out, profile, jobs, clean=True)
    if done.returncode != 0 or not prof.exists():
        sys.exit(f"profiled build failed:\n{done.stderr[-800:]}")
    print_profile(f"cProfile of a clean {args.n}-post build (builder process)", prof, args.top)

    # One post edited in the middle of the corpus, as bench/run.py does.
    post = sorted((root / "posts").iterdir())[args.n // 2]
    original = post.read_text(encoding="utf-8")
    try:
        post.write_text(original + "\nEdited for profiling.\n", encoding="utf-8")
        done = _build(root, out, profile, jobs, clean=False)
    finally:
        post.write_text(original, encoding="utf-8")
    if done.returncode != 0:
        sys.exit(f"profiled rebuild failed:\n{done.stderr[-800:]}")
    print_profile(f"cProfile of a one-post-changed rebuild of {args.n} posts", prof, args.top)
    return 0


# (label, file suffix, function): the stages and parts a build's time is reported by
STAGES = (
    ("imports", "<frozen importlib._bootstrap>", "_find_and_load"),
    ("read and front matter", "sitegen/posts.py", "read_posts"),
    ("Markdown parse", "sitegen/bodies.py", "parse_posts"),
    ("plugins on parsed posts (gradcheck: stated gradients)", "sitegen/bodies.py", "render_bodies"),
    ("Markdown render", "sitegen/bodies.py", "render_post_body"),
    ("  Pygments", "pygments/__init__.py", "highlight"),
    ("pages (templates, records, writing)", "sitegen/pages.py", "render"),
    ("  templates", "sitegen/templates.py", "render_template"),
    ("  Jinja2 compiling templates", "jinja2/environment.py", "compile"),
    ("  what each page read (records)", "sitegen/deps.py", "record"),
    ("  writing files", "sitegen/write.py", "write"),
    ("extra pages (feed, sitemap, tags, verification)", "", "sitegen_extra_pages"),
    ("regular expressions compiled at first use", "re/_compiler.py", "compile"),
)


def print_stages(stats: pstats.Stats) -> None:
    """Cumulative time of each stage, summed over its calls (a part of a stage is
    indented; "plugins on parsed posts" is the bodies stage less parsing and rendering)."""
    entries = stats.stats  # type: ignore[attr-defined]
    total = max(v[3] for v in entries.values())

    def spent(suffix: str, function: str) -> float:
        # cProfile's cumulative time already counts a recursive call (imports) once
        return sum(v[3] for (f, _, fn), v in entries.items()
                   if fn == function and f.endswith(suffix))

    times = {label: spent(suffix, fn) for label, suffix, fn in STAGES}
    label = "plugins on parsed posts (gradcheck: stated gradients)"
    times[label] -= times["Markdown parse"] + times["Markdown render"]
    print(f"stages (cumulative, {total:.3f} s in all under cProfile):")
    for name, seconds in times.items():
        print(f"  {seconds:7.3f} s {seconds / total * 100:5.1f}%  {name}")


def print_profile(title: str, prof: Path, top: int) -> None:
    stats = pstats.Stats(str(prof))
    print(f"\n## {title}")
    print_stages(stats)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


if __name__ == "__main__":
    raise SystemExit(main())
