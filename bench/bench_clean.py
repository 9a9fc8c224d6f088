"""Clean builds of small sites, interleaved across checkouts: the fixed costs of a build.

    python bench/bench_clean.py --n 1 100 --runs 7
    python bench/bench_clean.py --checkout before=../old-checkout --checkout after=.

Each checkout (a folder holding ``sitegen/``, ``plugins/`` and ``themes/``) is run through a
folder of links that puts its packages first on ``PYTHONPATH``, so two versions are timed
on the same corpus in the same minutes: runs alternate between checkouts, and the output
and every cache are deleted before each run. The warm-up run of each checkout also records
a digest of every output file, and the report names the files whose bytes differ between
checkouts (an unchanged output is part of what a speed-up must show).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import run_timed  # noqa: E402

REPO_ROOT = HERE.parent


def package_links(checkout: Path, into: Path) -> Path:
    """A folder where the checkout's three folders appear under their package names."""
    into.mkdir(parents=True, exist_ok=True)
    for package, folder in (("sitegen", "sitegen"), ("sitegen_plugins", "plugins"),
                            ("sitegen_themes", "themes")):
        (into / package).symlink_to(checkout.resolve() / folder)
    return into


def output_digests(site_out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(site_out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(site_out.rglob("*")) if p.is_file()
    }


def clean(site: Path) -> None:
    for name in ("_site", ".sitegen-cache"):
        shutil.rmtree(site / name, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1, 100], help="corpus sizes")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per checkout and size")
    parser.add_argument("--checkout", action="append", default=[], metavar="LABEL=DIR",
                        help="a checkout to time (repeatable; default: this one)")
    args = parser.parse_args()
    checkouts = [c.split("=", 1) for c in args.checkout] or [["this", str(REPO_ROOT)]]

    with tempfile.TemporaryDirectory(prefix="sitegen-clean-") as tmp:
        root = Path(tmp)
        envs = {}
        for label, folder in checkouts:
            links = package_links(Path(folder), root / "links" / label)
            envs[label] = {**os.environ, "PYTHONPATH": str(links),
                           "PYTHONDONTWRITEBYTECODE": ""}
        print(f"load average {os.getloadavg()[0]:.2f}; medians of {args.runs} runs, "
              "wall seconds (CPU seconds)")
        print("| posts | " + " | ".join(label for label, _ in checkouts) + " |")
        print("| --- |" + " --- |" * len(checkouts))
        for n in args.n:
            corpus = root / f"corpus{n}"
            subprocess.run([sys.executable, str(HERE / "make_corpus.py"), "--n", str(n),
                            "--out", str(corpus), "--peers", "sitegen"],
                           check=True, stdout=subprocess.DEVNULL)
            site = corpus / "sitegen"
            cmd = [sys.executable, "-m", "sitegen", "build"]
            digests = {}
            for label, _ in checkouts:  # warm-up: file cache, .pyc files, the output digest
                clean(site)
                warm = run_timed(cmd, cwd=site, env=envs[label], log=root / "log")
                if warm.returncode:
                    print(f"{label} failed at N={n}:\n{warm.error}", file=sys.stderr)
                    return 1
                digests[label] = output_digests(site / "_site")
            walls: dict[str, list[float]] = {label: [] for label, _ in checkouts}
            cpus: dict[str, list[float]] = {label: [] for label, _ in checkouts}
            for _ in range(args.runs):
                for label, _ in checkouts:
                    clean(site)
                    sample = run_timed(cmd, cwd=site, env=envs[label])
                    walls[label].append(sample.wall)
                    cpus[label].append(sample.cpu)
            cells = [f"{statistics.median(walls[label]):.3f} ({statistics.median(cpus[label]):.3f})"
                     for label, _ in checkouts]
            print(f"| {n} | " + " | ".join(cells) + " |")
            first, *others = checkouts
            for label, _ in others:
                a, b = digests[first[0]], digests[label]
                differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
                if differ:
                    print(f"  N={n}: {label} differs from {first[0]} in {len(differ)} files: "
                          + ", ".join(differ[:8]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
