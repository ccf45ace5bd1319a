"""Grading a class on a Dask cluster, with the real PostgreSQL gradebook, survives a killed worker.

A LocalCluster of two worker processes (started here, as an instructor's cluster would be)
grades a class of 60 mixed submissions through `grade --dask ADDRESS`; one worker process is
killed with SIGKILL in the middle. Every student ends with exactly one status, and statuses and
scores equal those of local grading of the same class.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from distributed.diagnostics.plugin import WorkerPlugin

from autograder.records.course import Course
from autograder.records.gradebook import FAILED, GRADED
from tests.conftest import REPO_ROOT
from tests.hostile import _stub_everything, _with_answers

pytestmark = pytest.mark.slow
ASSIGNMENT = "01-chain-rule"
SAMPLES = REPO_ROOT / "tests" / "fixtures" / ASSIGNMENT / "submissions"
KINDS = ["correct", "partial", "blank", "malformed", "stubs"]


def write_class(folder, size: int = 60) -> None:
    folder.mkdir()
    stubs = _with_answers(_stub_everything)(json.loads((SAMPLES / "correct.ipynb").read_text()))
    for i in range(size):
        kind = KINDS[i % len(KINDS)]
        target = folder / f"student{i:03d}-{kind}.ipynb"
        if kind == "stubs":
            target.write_text(json.dumps(stubs))
        else:
            shutil.copy(SAMPLES / f"{kind}.ipynb", target)


def cli(course: Course, *args, **kwargs):
    base = [sys.executable, "-m", "autograder", "--state", str(course.state), "--db-url", course.db_url]
    return subprocess.Popen([*base, *args], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def exported(course: Course, path) -> dict[str, tuple]:
    process = cli(course, "export", "--out", str(path))
    assert process.wait(timeout=300) == 0, process.stderr.read()
    with open(path, newline="") as f:
        return {r["student"]: (r["status"], r["score"]) for r in csv.DictReader(f) if r["assignment"] == ASSIGNMENT}


def test_a_class_graded_on_dask_survives_a_killed_worker(tmp_path, monkeypatch):
    from distributed import Client, LocalCluster

    from tests.pgserver import postgres_server

    tmp = tmp_path / "tmp"  # the temp folder of the client and the workers (they inherit TMPDIR)
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    write_class(tmp_path / "class")
    local = Course.locate(root=REPO_ROOT, state=tmp_path / "local")
    assert cli(local, "collect", ASSIGNMENT, str(tmp_path / "class")).wait(timeout=300) == 0
    assert cli(local, "grade", ASSIGNMENT, "--workers", "2").wait(timeout=900) == 0
    expected = exported(local, tmp_path / "local.csv")

    with (
        postgres_server() as url,
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        course = Course.locate(root=REPO_ROOT, state=tmp_path / "cluster", db_url=url)
        assert cli(course, "collect", ASSIGNMENT, str(tmp_path / "class")).wait(timeout=300) == 0
        grading = cli(course, "grade", ASSIGNMENT, "--dask", cluster.scheduler_address)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and _graded(course) < 10:
            time.sleep(0.1)
        assert _graded(course) < 60, "the kill should land mid-run"
        victim = sorted(client.run(os.getpid).values())[0]
        os.kill(victim, signal.SIGKILL)
        assert grading.wait(timeout=900) == 0, grading.stderr.read()
        book = course.statuses()
        statuses = book.all()
        book.close()
        rows = exported(course, tmp_path / "cluster.csv")

    assert len([key for key in statuses if key[0] == ASSIGNMENT]) == 60  # one status per student
    assert {s.status for s in statuses.values()} == {GRADED, FAILED}
    differing = {
        student: (s.status, s.reason)
        for (_, student), s in statuses.items()
        if rows.get(student) != expected.get(student)
    }
    assert rows == expected, differing
    # no student's notebook and no worker folder is left: the killed worker's folder was removed
    # by its replacement's first task, the others when their processes ended
    left = [str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.suffix == ".ipynb" or "autograder-worker-" in p.name]
    assert left == []


def _graded(course) -> int:
    try:
        statuses = course.statuses()
    except Exception:  # noqa: BLE001 - the table is being created
        return 0
    try:
        return sum(s.status in (GRADED, FAILED) for s in statuses.all().values())
    finally:
        statuses.close()


def _crash_on_poison():
    """Run on every worker: grading the student `poison` ends the worker process."""
    import autograder.steps.cluster as cluster

    original = cluster.grade_submission

    def grade_submission(course, assignment_id, student, *args):
        if student == "poison":
            os._exit(1)
        return original(course, assignment_id, student, *args)

    if not getattr(cluster.grade_submission, "patched", False):
        grade_submission.patched = True
        cluster.grade_submission = grade_submission


def test_a_submission_that_keeps_killing_workers_ends_failed_not_retried_forever(tmp_path):
    from distributed import Client, LocalCluster

    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("poison", "alice", "bob"):
        shutil.copy(SAMPLES / "correct.ipynb", folder / f"{name}.ipynb")
    course = Course.locate(root=REPO_ROOT, state=tmp_path / "state")
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.register_plugin(_PoisonPlugin())  # also on the workers the nanny restarts
        assert cli(course, "collect", ASSIGNMENT, str(folder)).wait(timeout=300) == 0
        grading = cli(course, "grade", ASSIGNMENT, "--dask", cluster.scheduler_address)
        assert grading.wait(timeout=900) == 0, grading.stderr.read()
    statuses = course.statuses().all()
    assert statuses[(ASSIGNMENT, "poison")].status == FAILED
    assert "worker processes" in statuses[(ASSIGNMENT, "poison")].reason
    assert statuses[(ASSIGNMENT, "alice")].status == statuses[(ASSIGNMENT, "bob")].status == GRADED


class _PoisonPlugin(WorkerPlugin):
    """Installs the crash on every worker, the ones the nanny restarts included."""

    name = "poison"

    def setup(self, worker):
        _crash_on_poison()


def test_a_task_that_fails_for_the_graders_reasons_runs_once_more(tmp_path):
    """A result lost with a worker, or a sandbox that could not start on a restarted worker, is the
    grader's failure: the task runs once more. A student's own failure is not retried."""
    from autograder.steps import cluster
    from autograder.steps.grade import Outcome

    first_time = {
        "flaky": Outcome("flaky", FAILED, "grader error: the judge's process ended early"),
        "lost": OSError("the result was lost with its worker"),
        "broken": Outcome("broken", FAILED, "malformed notebook"),
        "fine": Outcome("fine", GRADED),
    }
    submitted = []

    class Future:
        def __init__(self, student, attempt):
            self.student, self.attempt = student, attempt

        def result(self):
            result = first_time[self.student] if self.attempt == 1 else Outcome(self.student, GRADED)
            if isinstance(result, Exception):
                raise result
            return result, {}

    def submit(student):
        submitted.append(student)
        return Future(student, submitted.count(student))

    class Completed(list):  # as Dask's as_completed: iterates, and takes futures added meanwhile
        def add(self, future):
            self.append(future)

    course = Course.locate(root=REPO_ROOT, state=tmp_path / "state")
    outcomes = {o.student: o for o in cluster._outcomes(course, ASSIGNMENT, list(first_time), submit, Completed)}
    assert {s: o.status for s, o in outcomes.items()} == {"flaky": GRADED, "lost": GRADED, "broken": FAILED,
                                                          "fine": GRADED}  # fmt: skip
    assert sorted(submitted) == ["broken", "fine", "flaky", "flaky", "lost", "lost"]
