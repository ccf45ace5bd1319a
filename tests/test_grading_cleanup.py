"""Clean-up after the dead (issue 23): a grading worker leaves no student's notebook and no folder.

A Dask worker grades in a state folder of its own under the temp folder
(`autograder-worker-<host>-<pid>-...`). Each task's submission is removed before the task
returns; the folder goes when the worker process ends (a multiprocessing child, as a Nanny's or a
LocalCluster's worker is, or a plain process such as `dask-worker`); a folder whose process was
killed is removed at the next run's start. Local grading writes nothing to the temp folder.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.records.course import Course
from autograder.records.statuses import GRADED
from autograder.steps import cluster
from tests.conftest import REPO_ROOT

ASSIGNMENT = "01-chain-rule"
SAMPLES = REPO_ROOT / "tests" / "fixtures" / ASSIGNMENT / "submissions"


def left_behind(folder: Path) -> list[str]:
    """Worker folders and notebooks anywhere under `folder`."""
    found = [p for p in folder.rglob("*") if p.name.startswith(cluster.WORKER_PREFIX) or p.suffix == ".ipynb"]
    return sorted(str(p.relative_to(folder)) for p in found)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_folders_of_killed_workers_go_at_the_next_start_and_no_other(tmp_path):
    host = cluster._host()
    dead = tmp_path / f"{cluster.WORKER_PREFIX}{host}-{dead_pid()}-abc"
    alive = tmp_path / f"{cluster.WORKER_PREFIX}{host}-{os.getpid()}-def"
    elsewhere = tmp_path / f"{cluster.WORKER_PREFIX}another_host-{dead_pid()}-ghi"  # a shared /tmp
    for folder in (dead, alive, elsewhere):
        (folder / "submitted" / "alice" / ASSIGNMENT).mkdir(parents=True)
        (folder / "submitted" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text("{}")
    (dead / "submitted" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").chmod(0o444)  # as autograded files are
    assert cluster.remove_stale_worker_folders(tmp_path) == [dead]
    assert not dead.exists() and alive.is_dir() and elsewhere.is_dir()


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """A course whose gradebook knows the assignment, as the client leaves it for its workers."""
    from autograder.steps.grade import register

    course = Course.locate(root=REPO_ROOT, state=tmp_path_factory.mktemp("client") / "state")
    course.api()  # (puts the environment's alembic on PATH, as every command does before the gradebook)
    register(course, ASSIGNMENT)
    release = cluster._files_in(course.grading_release_dir / ASSIGNMENT)
    files = {f"{ASSIGNMENT}.ipynb": (SAMPLES / "correct.ipynb").read_bytes()}
    return course, release, files


def _grade_as_a_worker(course, release, files, tmp, results) -> None:
    """In the worker process: two tasks, then what the temp folder holds between them."""
    import tempfile

    tempfile.tempdir = str(tmp)
    for student in ("alice", "bob"):
        outcome, autograded = cluster.grade_submission(course, ASSIGNMENT, student, files, release, True)
        results.put((outcome.status, sorted(autograded), left_behind(Path(tmp))))


def test_a_multiprocessing_worker_leaves_nothing_behind(registered, tmp_path):
    course, release, files = registered
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    worker = context.Process(target=_grade_as_a_worker, args=(course, release, files, tmp, results))
    worker.start()
    seen = [results.get(timeout=300) for _ in range(2)]
    worker.join(timeout=60)
    for status, autograded, during in seen:
        assert status == GRADED and autograded == [f"{ASSIGNMENT}.ipynb"]
        assert [p for p in during if p.endswith(".ipynb") and "/release/" not in p] == [], during
    assert worker.exitcode == 0
    assert left_behind(tmp) == []


def test_a_plain_worker_process_leaves_nothing_behind(registered, tmp_path):
    course, release, files = registered
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    script = (
        "import pickle, sys\n"
        "from autograder.steps import cluster\n"
        "course, release, files = pickle.loads(sys.stdin.buffer.read())\n"
        f"outcome, _ = cluster.grade_submission(course, {ASSIGNMENT!r}, 'alice', files, release, True)\n"
        "print(outcome.status)\n"
    )
    import pickle

    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", script], input=pickle.dumps((course, release, files)),
                          capture_output=True, env=env, cwd=REPO_ROOT, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0 and done.stdout.decode().strip() == GRADED, done.stderr.decode()[-2000:]
    assert left_behind(tmp) == []


def test_local_grading_writes_no_notebook_to_the_temp_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    state, folder = tmp_path / "state", tmp_path / "class"
    folder.mkdir()
    for name in ("correct", "partial"):
        (folder / f"{name}.ipynb").write_bytes((SAMPLES / f"{name}.ipynb").read_bytes())
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(REPO_ROOT)}
    base = [sys.executable, "-m", "autograder", "--state", str(state)]
    for args in (["collect", ASSIGNMENT, str(folder)], ["grade", ASSIGNMENT, "--workers", "2"]):
        done = subprocess.run([*base, *args], capture_output=True, env=env, cwd=REPO_ROOT, timeout=300, check=False)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert (state / "autograded").is_dir()
    assert left_behind(tmp) == []
