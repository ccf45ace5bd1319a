"""Shared fixtures: where the repository, the built site and a scratch course state are."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SITE = REPO_ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def site() -> Path:
    """The built site; `make test` builds it first (jupyter-book build . -W -n --keep-going)."""
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: run `make build` (or `make test`, which builds first)")
    return SITE


@pytest.fixture
def course(tmp_path):
    """The real course (solutions/, exercises/) with a fresh, empty instructor state."""
    from autograder.records.course import Course

    return Course.locate(root=REPO_ROOT, state=tmp_path / "state", db_url=None)


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", help="rewrite the expected-outcome files from this run")
