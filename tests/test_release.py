"""exercises/ is nbgrader's release of solutions/: regenerated, never edited, nothing secret in it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autograder.course import Course
from autograder.release import release
from tests.conftest import REPO_ROOT
from tests.secret_text import leaks, notebook_text, secret_lines

SOURCE_NOTEBOOKS = sorted((REPO_ROOT / "solutions").glob("*/*.ipynb"))
ASSIGNMENTS = sorted({nb.parent.name for nb in SOURCE_NOTEBOOKS})


def test_every_chapter_has_an_assignment_and_back():
    chapters = {p.name for p in (REPO_ROOT / "book").iterdir() if p.is_dir() and p.name[:2].isdigit()}
    assert ASSIGNMENTS, "no source notebooks under solutions/"
    assert set(ASSIGNMENTS) == chapters


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory) -> Path:
    """A release generated now from a copy of solutions/, next to the committed one."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(REPO_ROOT / "solutions", root / "solutions")
    release(Course.locate(root=root, state=root / "state"), ASSIGNMENTS)
    return root / "exercises"


@pytest.mark.slow
def test_committed_release_equals_a_fresh_release(fresh_release):
    committed = sorted(
        p.relative_to(REPO_ROOT / "exercises") for p in (REPO_ROOT / "exercises").rglob("*") if p.is_file()
    )
    fresh = sorted(p.relative_to(fresh_release) for p in fresh_release.rglob("*") if p.is_file())
    assert committed == fresh, "exercises/ has files a release would not make (or lacks some): run `make release`"
    for rel in fresh:
        assert (REPO_ROOT / "exercises" / rel).read_bytes() == (fresh_release / rel).read_bytes(), (
            f"exercises/{rel} differs from a fresh release: edit solutions/, then run `make release`"
        )


@pytest.mark.parametrize("source", SOURCE_NOTEBOOKS, ids=lambda p: p.parent.name)
def test_release_holds_no_solution_or_hidden_test(source):
    secrets = secret_lines(source)
    assert secrets, f"{source} has no solution or hidden-test lines: is it marked up for nbgrader?"
    released = REPO_ROOT / "exercises" / source.parent.name / source.name
    assert released.is_file(), f"{released} is missing: run `make release`"
    assert leaks(secrets, notebook_text(released)) == []
