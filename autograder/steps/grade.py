"""Step `grade`: autograde collected submissions and record each one's status.

engine/autograde.py grades one submission as nbgrader's autograde does (the locked cells and
hidden tests restored, the code run by SandboxExecute in two sandboxed processes, the scores in
nbgrader's gradebook). Around it we add what a large class needs:

- workers: students are graded in parallel processes, each with its own Autograder;
- resumable: a student whose status is already graded or failed is skipped unless regrade is
  asked for, and a status is written only after the grade is committed, so a run killed
  at any point loses nothing and the next run finishes the rest;
- shards: `--shard i/n` takes a stable 1/n of the class, so n machines can share one database;
- a cluster: `--dask ADDRESS` runs one Dask task per student instead (steps/cluster.py);
- a submission that cannot be graded is recorded as failed with a reason, never as a zero.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor, as_completed

from autograder.engine import Outcome, grade_notebook
from autograder.records.course import PACKAGE_DIR, Course
from autograder.records.statuses import FAILED, GRADED
from autograder.steps.release import release


class NoSandbox(RuntimeError):
    pass


def submitted_students(course: Course, assignment_id: str) -> list[str]:
    """Students with a collected submission for this assignment, sorted."""
    if not course.submitted_dir.is_dir():
        return []
    return sorted(p.name for p in course.submitted_dir.iterdir() if (p / assignment_id).is_dir())


def in_shard(student: str, shard: tuple[int, int] | None) -> bool:
    """Stable split of a class into n shards by a hash of the student id (shard is (i, n), 1-based)."""
    if shard is None:
        return True
    i, n = shard
    return zlib.crc32(student.encode()) % n == i - 1


def grade(
    course: Course,
    assignment_id: str,
    students: list[str] | None = None,
    *,
    workers: int | None = None,
    regrade: bool = False,
    shard: tuple[int, int] | None = None,
    sandbox: bool = True,
    dask: str | None = None,
    progress=None,
) -> list[Outcome]:
    """Autograde the submissions of `assignment_id`; returns one Outcome per student graded now."""
    course.source_notebooks(assignment_id)  # unknown assignment: fail by name, before any work
    if sandbox:
        from autograder.engine import bwrap_available

        ok, why = bwrap_available()
        if not ok:
            raise NoSandbox(
                f"{why}\nRefusing to run student code without a sandbox. To accept running untrusted "
                "code with your own rights, pass --unsafe-no-sandbox."
            )
    todo = select_students(course, assignment_id, students, regrade=regrade, shard=shard)
    progress = progress or Progress(len(todo))
    register(course, assignment_id)
    statuses = course.statuses()
    outcomes = []
    if dask:  # a Dask cluster (steps/cluster.py): one task per student
        from autograder.steps.cluster import grade_on_dask

        running = grade_on_dask(course, assignment_id, todo, dask, sandbox=sandbox) if todo else iter(())
    else:
        running = _run(course, assignment_id, todo, workers or os.cpu_count() or 1, sandbox)
    try:
        for outcome in running:
            statuses.set(assignment_id, outcome.student, outcome.status, outcome.reason)
            outcomes.append(outcome)
            progress.update(outcome)
    finally:
        # A Ctrl-C that lands here, between two outcomes, must still stop the workers: closing the
        # generator runs its clean-up (the command then leaves with os._exit, which collects nothing).
        getattr(running, "close", lambda: None)()
    statuses.close()
    progress.close()
    return outcomes


def register(course: Course, assignment_id: str) -> None:
    """Grade against the current source: register it in this gradebook through a private release
    (exercises/ is left alone), which CheckSubmission also uses as the expected structure.

    The release (1-2 s) is made again only when the source, the configuration or the gradebook's
    copy of the assignment (a new or reset gradebook) differ from the last one made here.
    """
    record = course.grading_release_dir / f"{assignment_id}.registered"
    current = f"{_source_digest(course, assignment_id)} {_gradebook_digest(course, assignment_id)}"
    if record.exists() and record.read_text() == current:
        return
    record.unlink(missing_ok=True)
    release(course, [assignment_id], into=course.grading_release_dir)
    record.write_text(f"{_source_digest(course, assignment_id)} {_gradebook_digest(course, assignment_id)}")


def _source_digest(course: Course, assignment_id: str) -> str:
    from nbgrader import __version__

    digest = hashlib.sha256(f"{__version__}\n{course.db_url}\n".encode())
    configs = [PACKAGE_DIR / "nbgrader_config.py", course.extra_config]
    files = sorted(p for p in (course.source_dir / assignment_id).rglob("*") if p.is_file())
    for path in [p for p in configs if p] + files:
        digest.update(f"{path}\n".encode() + path.read_bytes())
    return digest.hexdigest()


def _gradebook_digest(course: Course, assignment_id: str) -> str:
    """The assignment's notebooks and cells (names, checksums) as the gradebook holds them."""
    from nbgrader.api import MissingEntry

    digest = hashlib.sha256()
    try:
        with course.gradebook() as gradebook:
            for notebook in gradebook.find_assignment(assignment_id).notebooks:
                for cell in notebook.source_cells:
                    digest.update(f"{notebook.name}/{cell.name}/{cell.checksum}\n".encode())
    except MissingEntry:
        return "none"
    return digest.hexdigest()


def select_students(course, assignment_id, students=None, *, regrade=False, shard=None) -> list[str]:
    """Who to grade now: the named students (always), or everyone not yet graded or failed."""
    collected = submitted_students(course, assignment_id)
    if students:
        unknown = sorted(set(students) - set(collected))
        if unknown:
            raise LookupError(f"no collected submission of {assignment_id} for: {', '.join(unknown)}")
        return [s for s in collected if s in students]
    done = set()
    if not regrade:
        done = {
            student
            for (assignment, student), status in course.statuses().all().items()
            if assignment == assignment_id and status.status in (GRADED, FAILED)
        }
    return [s for s in collected if s not in done and in_shard(s, shard)]


def stale_students(book, assignment_id: str, digest: str) -> list[str]:
    """Students whose recorded grade (graded or failed) came from other tests than `digest`."""
    graded_with = book.graded_with()
    return sorted(
        student
        for (assignment, student), status in book.all().items()
        if assignment == assignment_id and status.status in (GRADED, FAILED)
        and graded_with.get((assignment, student), digest) != digest
    )  # fmt: skip


def _run(course, assignment_id, students, workers, sandbox):
    """Yield Outcomes as students finish: in this process for one worker, else in a pool."""
    if workers <= 1 or len(students) <= 1:
        _start_worker(course, sandbox, 0)
        for student in students:
            yield _grade_in_worker(assignment_id, student)
        return
    started = multiprocessing.Value("i", 0)  # numbers the workers, one CPU each for their sandboxes
    pool = ProcessPoolExecutor(workers, initializer=_start_pool_worker, initargs=(course, sandbox, started))
    try:
        futures = {pool.submit(_grade_in_worker, assignment_id, s): s for s in students}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as error:  # a crash of the grader itself, not of the student's code
                yield Outcome(futures[future], FAILED, f"grading error: {type(error).__name__}: {error}")
    except (KeyboardInterrupt, GeneratorExit):  # GeneratorExit: interrupted while the caller held an outcome
        # Ctrl-C: stop now. Workers ignore SIGINT (no tracebacks from them); killing a worker kills
        # its sandbox (bwrap --die-with-parent); unfinished students keep their status for the re-run.
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


_autograder = None  # each worker process's own Autograder (it holds a gradebook session)


def _start_worker(course: Course, sandbox: bool, index: int | None = None) -> None:
    global _autograder
    from autograder.engine import Autograder, use_cpu

    if index is not None:
        use_cpu(index)
    if _autograder is not None:
        _autograder.close()  # the previous run's, in this process (one worker grades in-process)
    _autograder = Autograder(course, sandbox=sandbox)


def _start_pool_worker(course: Course, sandbox: bool, started) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C for the pool
    with started.get_lock():
        index = started.value
        started.value += 1
    _start_worker(course, sandbox, index)


def _grade_in_worker(assignment_id: str, student: str) -> Outcome:
    return grade_notebook(_autograder, assignment_id, student)


class Progress:
    """done / failed / ETA on one line (a terminal) or one line per student (a log file)."""

    def __init__(self, total: int, stream=None):
        stream = stream or sys.stderr  # looked up now: a default bound at import outlives a redirected stderr
        self.total, self.stream, self.start = total, stream, time.monotonic()
        self.done = self.failed = 0
        self.tty = stream.isatty()

    def update(self, outcome: Outcome) -> None:
        self.done += 1
        self.failed += outcome.status == FAILED
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        line = (
            f"[{self.done}/{self.total}] failed {self.failed}  "
            f"{self.done / elapsed * 60 if elapsed else 0:.0f}/min  ETA {eta:.0f} s"
        )
        if self.tty:
            self.stream.write("\r" + line.ljust(60))
        else:
            detail = outcome.status + (f" ({outcome.reason})" if outcome.reason else "")
            self.stream.write(f"{line}  {outcome.student}: {detail}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.done:
            self.stream.write("\n")
