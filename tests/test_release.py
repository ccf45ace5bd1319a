"""exercises/ is nbgrader's release of solutions/: regenerated, never edited, nothing secret in it.

`make test` runs `make release` before pytest, so the exercises/ of the working tree is always
fresh there; what a commit holds is checked against git's own copy (HEAD): a commit that changes
solutions/ and forgets to commit the regenerated exercises/ fails, on a fresh clone too.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from autograder.records.course import Course
from autograder.steps.release import release
from tests.conftest import REPO_ROOT
from tests.secret_text import leaks, notebook_text, secret_lines

SOURCE_NOTEBOOKS = sorted((REPO_ROOT / "solutions").glob("*/*.ipynb"))
ASSIGNMENTS = sorted({nb.parent.name for nb in SOURCE_NOTEBOOKS})


def test_every_chapter_has_an_assignment_and_back():
    chapters = {p.name for p in (REPO_ROOT / "book").iterdir() if p.is_dir() and p.name[:2].isdigit()}
    assert ASSIGNMENTS, "no source notebooks under solutions/"
    assert set(ASSIGNMENTS) == chapters


def fresh_release_of(root: Path) -> Path:
    """nbgrader's release of root/solutions/, made now in root/exercises/."""
    release(Course.locate(root=root, state=root / "state"), ASSIGNMENTS)
    return root / "exercises"


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory) -> Path:
    """A release generated now from a copy of the working tree's solutions/."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(REPO_ROOT / "solutions", root / "solutions")
    return fresh_release_of(root)


def git(*args: str) -> bytes:
    # safe.directory: CI runs as root in a clone it may not own
    command = ["git", "-c", f"safe.directory={REPO_ROOT}", "-C", str(REPO_ROOT), *args]
    return subprocess.run(command, capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def committed(tmp_path_factory) -> Path:
    """solutions/ and exercises/ as the last commit (HEAD) holds them, in a scratch folder."""
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout: no commit to check")
    root = tmp_path_factory.mktemp("committed")
    with tarfile.open(fileobj=io.BytesIO(git("archive", "--format=tar", "HEAD", "solutions", "exercises"))) as tar:
        tar.extractall(root, filter="data")
    return root


def files(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_same_release(release_files: dict, fresh_files: dict, where: str, fix: str) -> None:
    assert sorted(release_files) == sorted(fresh_files), (
        f"{where} has files a release would not make (or lacks some): {fix}"
    )
    stale = [str(rel) for rel, content in fresh_files.items() if release_files[rel] != content]
    assert stale == [], f"{where}: these files differ from a fresh release: {fix}"


@pytest.mark.slow
def test_working_tree_release_equals_a_fresh_release(fresh_release):
    assert_same_release(
        files(REPO_ROOT / "exercises"), files(fresh_release), "exercises", "edit solutions/, then run `make release`"
    )


@pytest.mark.slow
def test_committed_release_equals_a_fresh_release_of_the_committed_solutions(committed, fresh_release, tmp_path):
    """What HEAD holds in exercises/ is the release of what HEAD holds in solutions/."""
    if files(committed / "solutions") == files(REPO_ROOT / "solutions"):
        fresh = files(fresh_release)
    else:  # solutions/ has uncommitted changes: release HEAD's own solutions
        shutil.copytree(committed / "solutions", tmp_path / "solutions")
        fresh = files(fresh_release_of(tmp_path))
    assert_same_release(
        files(committed / "exercises"),
        fresh,
        "exercises (as committed in HEAD)",
        "run `make release` and commit exercises/ together with solutions/",
    )


@pytest.mark.parametrize("source", SOURCE_NOTEBOOKS, ids=lambda p: p.parent.name)
def test_release_holds_no_solution_or_hidden_test(source):
    secrets = secret_lines(source)
    assert secrets, f"{source} has no solution or hidden-test lines: is it marked up for nbgrader?"
    released = REPO_ROOT / "exercises" / source.parent.name / source.name
    assert released.is_file(), f"{released} is missing: run `make release`"
    assert leaks(secrets, notebook_text(released)) == []
