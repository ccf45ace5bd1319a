"""Ctrl-C during `grade`: it stops within a second or two, prints one line and no traceback,
records no student as failed, and the re-run grades the rest (the resume of grade.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.records.course import Course
from tests.conftest import REPO_ROOT

ASSIGNMENT = "01-chain-rule"
CORRECT = REPO_ROOT / "tests" / "fixtures" / ASSIGNMENT / "submissions" / "correct.ipynb"
pytestmark = pytest.mark.slow


def _count(course, status) -> int:
    try:
        return sum(s.status == status for s in course.statuses().all().values())
    except Exception:  # the database is being created
        return 0


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_stops_grading_quickly_and_the_rerun_finishes(tmp_path, workers):
    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(5):
        shutil.copy(CORRECT, folder / f"s{i}.ipynb")
    course = Course.locate(root=REPO_ROOT, state=tmp_path / "state")
    command = [sys.executable, "-m", "autograder", "--state", str(course.state)]
    subprocess.run([*command, "collect", ASSIGNMENT, str(folder)], cwd=REPO_ROOT, check=True, capture_output=True)
    grader = subprocess.Popen(
        [*command, "grade", ASSIGNMENT, "--workers", workers],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, which gets the SIGINT as from a terminal
    )
    deadline = time.monotonic() + 180
    while _count(course, "graded") < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    sent = time.monotonic()
    os.killpg(grader.pid, signal.SIGINT)
    _, err = grader.communicate(timeout=30)
    stopped_after = time.monotonic() - sent
    assert grader.returncode == 130, err
    assert stopped_after < 3.0, f"stopped {stopped_after:.1f} s after Ctrl-C"
    assert "Traceback" not in err and "interrupted: grade stopped" in err
    graded_before = _count(course, "graded")
    assert graded_before < 5 and _count(course, "failed") == 0
    rerun = subprocess.run([*command, "grade", ASSIGNMENT], cwd=REPO_ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0 and f"graded {5 - graded_before}, failed 0" in rerun.stdout
    assert _count(course, "graded") == 5


def _live_children() -> set[int]:
    """This process's children that are running (not zombies)."""
    live = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            live.add(int(stat.parent.name))
    return live


def test_ctrl_c_between_two_outcomes_stops_the_workers(tmp_path):
    """The window the test above rarely hits: Ctrl-C while the main process records an outcome.
    The command then leaves with os._exit, so nothing but grade() itself can stop the workers
    (orphaned, they kept the terminal's pipes open and the command never ended)."""
    from autograder.steps import grade

    class InterruptedWhileRecording(grade.Progress):
        def update(self, outcome):
            raise KeyboardInterrupt

    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(4):
        shutil.copy(CORRECT, folder / f"s{i}.ipynb")
    course = Course.locate(root=REPO_ROOT, state=tmp_path / "state")
    subprocess.run(
        [sys.executable, "-m", "autograder", "--state", str(course.state), "collect", ASSIGNMENT, str(folder)],
        cwd=REPO_ROOT, check=True, capture_output=True,
    )  # fmt: skip
    before = _live_children()
    with pytest.raises(KeyboardInterrupt) as interrupted:  # kept: its traceback holds grade()'s frame
        grade.grade(course, ASSIGNMENT, workers=2, progress=InterruptedWhileRecording(4))
    deadline = time.monotonic() + 10
    while _live_children() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _live_children() - before, "grading workers outlived the interrupted grade()"
    assert interrupted.value is not None
