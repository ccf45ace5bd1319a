"""Grade on a Dask cluster: one task per student, statuses written here, grades by the workers.

    python -m autograder --db-url postgresql+psycopg2://... grade ID --dask tcp://scheduler:8786
    python -m autograder grade ID --dask local:4        # a LocalCluster of 4 worker processes

A worker grades a submission exactly as local grading does (nbgrader's autograde, the same two
sandboxes, the same limits) and writes the grades into the shared gradebook; this process, the
client, writes each submission's status when its task ends, so a status exists only for a
finished submission and exists once. Faults:

- a worker killed in the middle of a submission: the scheduler runs the task again on another
  worker (nbgrader's autograde with force=True overwrites what the first attempt wrote);
- a submission whose task has killed `allowed-failures` workers (3) runs once more on its own
  (Dask also blames tasks that only waited on the dying worker), then ends `failed` with that
  reason, not in an endless retry;
- the client or the scheduler stops: nothing is lost; running `grade` again grades the rest
  (students with a status are skipped, as in local grading).

What workers need: the course's Python environment (with bubblewrap), the course source at the
same path as here (solutions/ and this package), and the gradebook URL (given with the task).
Nothing else of the instructor's (no state directory, no submissions folder: each task carries
its submission's notebook files, see `_files_of`).
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from autograder.engine import Outcome, grade_notebook
from autograder.records.course import Course
from autograder.records.statuses import FAILED

ALLOWED_FAILURES = 3  # workers a submission may take down before it is failed


GRADER_FAULTS = ("grader error", "grading error")  # reasons that are ours, not the submission's


def grade_on_dask(course: Course, assignment_id: str, students: list[str], address: str, *, sandbox: bool = True):
    """Yield an Outcome per student as the cluster finishes them (in completion order)."""
    import dask
    from distributed import Client, as_completed

    remove_stale_worker_folders()  # of this host's workers killed in an earlier run
    settings = {"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                "distributed.scheduler.worker-saturation": 1.0}  # fmt: skip
    with dask.config.set(settings):
        cluster = _local_cluster(address) if address.startswith("local") else None
        with Client(cluster if cluster is not None else address) as client:
            # the release the grader made of the current source: CheckSubmission's template
            # (a task, not scattered data: if every worker that holds it dies, it is computed again)
            release = client.submit(_same, _files_in(course.grading_release_dir / assignment_id), pure=False)

            def submit(student: str):
                files = _files_of(course, assignment_id, student)
                key = f"grade-{assignment_id}-{student}-{time.monotonic_ns()}"
                return client.submit(grade_submission, course, assignment_id, student, files, release, sandbox,
                                     key=key, pure=False)  # fmt: skip

            yield from _outcomes(course, assignment_id, students, submit, as_completed)
        if cluster is not None:
            cluster.close()


def _outcomes(course: Course, assignment_id: str, students: list[str], submit, as_completed) -> Iterator[Outcome]:
    """Outcomes as tasks finish. A task that killed its workers is run once more, alone: Dask also
    blames the tasks that merely waited on a dying worker, and a classmate must not pay for that."""
    from distributed.scheduler import KilledWorker

    futures = {submit(student): student for student in students}
    completed, retried = as_completed(futures), set()

    def retry(student: str) -> bool:
        """Run a student's task once more (the grader's own failure, not the student's)."""
        if student in retried:
            return False
        retried.add(student)
        again = submit(student)
        futures[again] = student
        completed.add(again)
        return True

    for future in completed:
        student = futures.pop(future)
        try:
            outcome, autograded = future.result()
        except KilledWorker:
            if not retry(student):
                yield Outcome(student, FAILED, f"grader error: grading it ended {ALLOWED_FAILURES} worker processes")
            continue
        except Exception as error:  # noqa: BLE001 - the grader's own failure (e.g. a result lost with a worker)
            if not retry(student):
                yield Outcome(student, FAILED, f"grading error: {type(error).__name__}: {error}")
            continue
        if outcome.status == FAILED and outcome.reason.startswith(GRADER_FAULTS) and retry(student):
            continue  # e.g. a worker restarted after a crash whose sandbox could not start at once
        _write_files(course.autograded_dir / student / assignment_id, autograded)  # for feedback
        yield outcome


def _local_cluster(address: str):
    """`local` or `local:N`: N worker processes on this machine (default: the number of cores)."""
    from distributed import LocalCluster

    _, _, count = address.partition(":")
    workers = int(count) if count else os.cpu_count() or 1
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,  # the workers' start and shutdown chatter
    )


def _same(value):
    return value


def _files_of(course: Course, assignment_id: str, student: str, *, kind: str = "submitted") -> dict[str, bytes]:
    """A submission's files (relative path -> bytes): they travel with the task and its result."""
    return _files_in((course.submitted_dir if kind == "submitted" else course.autograded_dir) / student / assignment_id)


def _files_in(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        target = (folder / name).resolve()
        if folder.resolve() not in target.parents:
            continue  # a path that would leave the folder
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


# ---------------------------------------------------------------------------------------------
# On the worker


_workers: dict[tuple, object] = {}  # (course, sandbox) -> this worker process's course and Autograder
_releases: dict[tuple, int] = {}  # (course, sandbox, assignment) -> the release its Autograder read
WORKER_PREFIX = "autograder-worker-"  # + host-pid-random: a worker process's state in the temp folder


def grade_submission(course: Course, assignment_id: str, student: str, files: dict, release: dict, sandbox: bool):
    """Grade one submission on this worker; (its Outcome, its autograded files).

    The submission's files go into a state directory of this worker process's own, beside the
    release the client made (the gradebook already knows the assignment: the client registered it).
    They are removed again before the task returns: no student's notebook stays in the worker's
    temp folder, and the folder itself goes when the worker process ends (`worker_state`).
    """
    from autograder.engine import Autograder

    key = (course, sandbox)
    if key not in _workers:
        local = Course(root=course.root, state=worker_state(), db_url=course.db_url, extra_config=course.extra_config)
        _workers[key] = (local, Autograder(local, sandbox=sandbox))
    local, autograder = _workers[key]
    if _releases.get((key, assignment_id)) != hash(tuple(sorted(release.items()))):
        autograder.forget(assignment_id)  # another run registered another version of the assignment
        _releases[(key, assignment_id)] = hash(tuple(sorted(release.items())))
    _write_files(local.grading_release_dir / assignment_id, release)
    try:
        _write_files(local.submitted_dir / student / assignment_id, files)
        outcome = grade_notebook(autograder, assignment_id, student)
        return outcome, _files_of(local, assignment_id, student, kind="autograded")
    finally:
        for folder in (local.submitted_dir / student, local.autograded_dir / student):
            shutil.rmtree(folder, ignore_errors=True)


def worker_state() -> Path:
    """A new state folder for this worker process, removed when the process ends; first, the
    folders of this host's worker processes that were killed (their process is gone) are removed."""
    import atexit
    from multiprocessing import util

    remove_stale_worker_folders()
    state = Path(tempfile.mkdtemp(prefix=f"{WORKER_PREFIX}{_host()}-{os.getpid()}-"))
    # atexit for a plain process (dask-worker); a multiprocessing child (a Nanny's worker, a
    # LocalCluster's) leaves with os._exit and runs only multiprocessing's own finalizers
    atexit.register(shutil.rmtree, state, ignore_errors=True)
    util.Finalize(None, shutil.rmtree, args=(state,), kwargs={"ignore_errors": True}, exitpriority=0)
    return state


def remove_stale_worker_folders(folder: Path | None = None) -> list[Path]:
    """Remove the worker folders in the temp folder whose process on this host has ended (killed:
    no clean-up ran); those of live processes and of other hosts (a shared /tmp) stay."""
    folder = Path(folder or tempfile.gettempdir())
    removed = []
    for path in folder.glob(f"{WORKER_PREFIX}{_host()}-*"):
        pid = path.name[len(f"{WORKER_PREFIX}{_host()}-") :].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _host() -> str:
    return "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:40] or "host"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def shard_from_environment(count: int | None = None) -> tuple[int, int]:
    """(i, n) of this job-array task: SLURM array jobs, or Kubernetes indexed Jobs (with n given).

    SLURM sets SLURM_ARRAY_TASK_ID, _MIN and _COUNT; a Kubernetes indexed Job sets
    JOB_COMPLETION_INDEX (from 0) and the Job's completions must be given as `auto/N`.
    """
    env = os.environ
    if "SLURM_ARRAY_TASK_ID" in env:
        first = int(env.get("SLURM_ARRAY_TASK_MIN", "0"))
        total = count or int(env["SLURM_ARRAY_TASK_COUNT"])
        return int(env["SLURM_ARRAY_TASK_ID"]) - first + 1, total
    if "JOB_COMPLETION_INDEX" in env:
        if not count:
            raise ValueError("--shard auto in a Kubernetes indexed Job needs the count: --shard auto/N")
        return int(env["JOB_COMPLETION_INDEX"]) + 1, count
    raise ValueError("--shard auto: no SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX in the environment")
