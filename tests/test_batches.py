"""Posts are parsed and rendered in batches (their tokens are dropped once each batch is
rendered): a build in small batches writes the same bytes as one in a single batch, also
with verify blocks (verification runs per batch) and in parallel processes."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from test_differential import FixtureSite, _numpy, _outputs

import sitegen.bodies
from sitegen.build import build_site
from sitegen.model import BuildOptions


def _build(root: Path, jobs: int) -> dict[str, bytes]:
    shutil.rmtree(root / "_site", ignore_errors=True)
    shutil.rmtree(root / ".sitegen-cache", ignore_errors=True)
    result = build_site(root, BuildOptions(quiet=True, jobs=jobs))
    assert not result.failed_sources
    return _outputs(root / "_site")


@pytest.mark.parametrize("seed", range(3))
def test_small_batches_write_what_one_batch_writes(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    site = FixtureSite(tmp_path / "site", rng, verify=_numpy() and seed == 0)
    for _ in range(rng.randint(60, 80)):  # enough for two processes to share them
        site.add_post()
    monkeypatch.setattr(sitegen.bodies, "BATCH_POSTS", 10_000)
    whole = _build(site.root, jobs=1)
    # (one post a batch with verify blocks would start a numpy process for each post)
    for batch, jobs in ((7, 1), (7, 2)) if site.verify else ((1, 1), (7, 1), (7, 2)):
        monkeypatch.setattr(sitegen.bodies, "BATCH_POSTS", batch)
        assert _build(site.root, jobs) == whole, (batch, jobs)
