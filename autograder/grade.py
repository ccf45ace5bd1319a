"""Step `grade`: autograde collected submissions with nbgrader and record each one's status.

nbgrader's autograde does the grading: CheckSubmission and OverwriteCells restore the test cells
(hidden tests included), SandboxExecute runs the code in a bubblewrap sandbox, SaveAutoGrades
stores the scores. Around it we add what a large class needs:

- workers: students are graded in parallel processes, each with its own nbgrader instance;
- resumable: a student whose status is already graded or failed is skipped unless regrade is
  asked for, and a status is written only after nbgrader has stored the grade, so a run killed
  at any point loses nothing and the next run finishes the rest;
- shards: `--shard i/n` takes a stable 1/n of the class, so n machines can share one database;
- a cluster: `--dask ADDRESS` runs one Dask task per student instead (autograder/cluster.py);
- a submission nbgrader cannot grade is recorded as failed with a reason, never as a zero.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import sys
import threading
import time
import zlib
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

from autograder.course import Course
from autograder.records import FAILED, GRADED
from autograder.release import release

# What nbgrader's log says -> the reason an instructor reads, for failures before execution
# (timeouts and dead processes arrive as SubmissionFailed from SandboxExecute). First match wins.
FAILURE_REASONS = [
    (
        (
            "NotJSONError",
            "does not appear to be JSON",
            "JSONDecodeError",
            "Unreadable Notebook",
            "ValidationError",
        ),
        "malformed notebook",
    ),
]


class NoSandbox(RuntimeError):
    pass


@dataclass(frozen=True)
class Outcome:
    student: str
    status: str
    reason: str = ""
    seconds: float = 0.0  # the whole autograde of this submission
    sandbox: dict = field(default_factory=dict)  # sandbox wall time, runner startup and execution


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
        from autograder.sandbox import bwrap_available

        ok, why = bwrap_available()
        if not ok:
            raise NoSandbox(
                f"{why}\nRefusing to run student code without a sandbox. To accept running untrusted "
                "code with your own rights, pass --unsafe-no-sandbox."
            )
    todo = select_students(course, assignment_id, students, regrade=regrade, shard=shard)
    progress = progress or Progress(len(todo))
    # Grade against the current source: register it in this gradebook through a private release
    # (exercises/ is left alone), which CheckSubmission also uses as the expected structure.
    release(course, [assignment_id], into=course.grading_release_dir)
    statuses = course.statuses()
    outcomes = []
    if dask:  # a Dask cluster (autograder/cluster.py): one task per student
        from autograder.cluster import grade_on_dask

        running = grade_on_dask(course, assignment_id, todo, dask, sandbox=sandbox) if todo else iter(())
    else:
        running = _run(course, assignment_id, todo, workers or os.cpu_count() or 1, sandbox)
    for outcome in running:
        statuses.set(assignment_id, outcome.student, outcome.status, outcome.reason)
        outcomes.append(outcome)
        progress.update(outcome)
    statuses.close()
    progress.close()
    return outcomes


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


def _run(course, assignment_id, students, workers, sandbox):
    """Yield Outcomes as students finish: in this process for one worker, else in a pool."""
    if workers <= 1 or len(students) <= 1:
        _start_worker(course, sandbox, 0)
        for student in students:
            with _NoteInterrupts() as interrupts:
                outcome = _grade_in_worker(assignment_id, student)
            if interrupts.seen:  # nbgrader reports Ctrl-C as a failed autograde: not the student's failure
                raise KeyboardInterrupt
            yield outcome
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


_api = None  # each worker process's own NbGraderAPI


def _start_worker(course: Course, sandbox: bool, index: int | None = None) -> None:
    global _api
    from autograder import sandbox as sandboxes

    if index is not None:
        sandboxes.use_cpu(index)
    _api = course.api(sandbox=sandbox)


def _start_pool_worker(course: Course, sandbox: bool, started) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C for the pool
    with started.get_lock():
        index = started.value
        started.value += 1
    _start_worker(course, sandbox, index)


class _NoteInterrupts:
    """Remember a Ctrl-C that arrives while nbgrader grades in this process (its capture_log
    catches every exception, KeyboardInterrupt included, and reports a failed autograde)."""

    seen = False

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.seen = True
        raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _grade_in_worker(assignment_id: str, student: str) -> Outcome:
    from autograder import sandbox

    start = time.monotonic()
    for _attempt in range(2):  # a failure of the grader's own processes (not the student's) is retried once
        sandbox.LAST_RUN.clear()
        result = _api.autograde(assignment_id, student, force=True, create=True)
        if result["success"] or sandbox.DIED not in result.get("log", "") + result.get("error", ""):
            break
    seconds = time.monotonic() - start
    run = sandbox.LAST_RUN[0] if sandbox.LAST_RUN else None
    timing = {"sandbox": run.seconds, **run.phases} if run else {}
    log = result.get("log", "") + result.get("error", "")
    if not result["success"]:
        return Outcome(student, FAILED, failure_reason(log), seconds, timing)
    return Outcome(student, GRADED, graded_note(log), seconds, timing)


def failure_reason(log: str) -> str:
    """The reason an instructor reads, from nbgrader's log of a failed autograde."""
    ours = re.search(r"SubmissionFailed: (.+)", log)
    if ours:
        return ours.group(1).strip()
    for needles, reason in FAILURE_REASONS:
        if any(needle in log for needle in needles):
            return reason
    errors = [m.group(0) for m in re.finditer(r"\b\w+(?:Error|Exception): .+", log) if "Please see" not in m.group(0)]
    return "grading error: " + (errors[-1][:200] if errors else "see the grader's log")


def graded_note(log: str) -> str:
    """What an instructor should know about a graded submission: cells that were put back."""
    notes = []
    restored = re.search(r"RESTORED deleted cells: (.+)", log)
    if restored:
        notes.append(f"deleted cells restored: {restored.group(1).strip()}")
    edited = re.search(r"RESTORED edited locked cells: (.+)", log)
    if edited:
        notes.append(f"edited locked cells restored: {edited.group(1).strip()}")
    return "; ".join(notes)


class Progress:
    """done / failed / ETA on one line (a terminal) or one line per student (a log file)."""

    def __init__(self, total: int, stream=sys.stderr):
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
