from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
REPO = TESTS.parent
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture
def site_copy(tmp_path):
    """Copy a fixture site from tests/sites/ into a temporary folder and return its root."""

    def copy(name: str) -> Path:
        root = tmp_path / name
        shutil.copytree(TESTS / "sites" / name, root)
        return root

    return copy
