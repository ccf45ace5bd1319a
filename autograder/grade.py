"""Step `grade`: autograde collected submissions with nbgrader and record each one's status.

nbgrader's autograde restores the locked and test cells from solutions/ (hidden tests
included), executes the notebook and stores the scores in the gradebook. A submission that
nbgrader cannot grade is recorded as failed with a reason, never as a silent zero, and the
batch goes on with the next student.
"""

from __future__ import annotations

from dataclasses import dataclass

from autograder.course import Course
from autograder.records import FAILED, GRADED, StatusBook

# What nbgrader's log says -> the reason an instructor reads. First match wins.
FAILURE_REASONS = [
    (
        (
            "NotJSONError",
            "Notebook does not appear to be JSON",
            "JSONDecodeError",
            "Unreadable Notebook",
            "is not a valid notebook",
            "ValidationError",
        ),
        "malformed notebook",
    ),
    (("CellTimeoutError", "Timeout waiting", "timed out"), "timeout"),
    (("DeadKernelError", "Kernel died", "kernel died"), "kernel died"),
    (("MemoryError",), "out of memory"),
]


@dataclass(frozen=True)
class Outcome:
    student: str
    status: str
    reason: str = ""


def submitted_students(course: Course, assignment_id: str) -> list[str]:
    """Students with a collected submission for this assignment, sorted."""
    if not course.submitted_dir.is_dir():
        return []
    return sorted(p.name for p in course.submitted_dir.iterdir() if (p / assignment_id).is_dir())


def grade(
    course: Course, assignment_id: str, students: list[str] | None = None, *, progress=print
) -> list[Outcome]:
    """Autograde each student's submission; returns one Outcome per student."""
    course.source_notebooks(assignment_id)  # unknown assignment: fail by name, before any work
    known = submitted_students(course, assignment_id)
    if students:
        unknown = sorted(set(students) - set(known))
        if unknown:
            raise LookupError(f"no collected submission of {assignment_id} for: {', '.join(unknown)}")
        known = [s for s in known if s in students]
    api = course.api()
    statuses = StatusBook(course.db_url)
    outcomes = []
    for done, student in enumerate(known, start=1):
        outcome = grade_one(api, assignment_id, student)
        statuses.set(assignment_id, student, outcome.status, outcome.reason)
        outcomes.append(outcome)
        progress(
            f"[{done}/{len(known)}] {student}: {outcome.status}"
            + (f" ({outcome.reason})" if outcome.reason else "")
        )
    statuses.close()
    return outcomes


def grade_one(api, assignment_id: str, student: str) -> Outcome:
    """Autograde one submission in-process with nbgrader and classify the result."""
    result = api.autograde(assignment_id, student, force=True, create=True)
    if result["success"]:
        return Outcome(student, GRADED)
    return Outcome(student, FAILED, failure_reason(result.get("log", "") + result.get("error", "")))


def failure_reason(log: str) -> str:
    for needles, reason in FAILURE_REASONS:
        if any(needle in log for needle in needles):
            return reason
    last = [line for line in log.strip().splitlines() if line.strip()]
    return "grading error: " + (last[-1].strip()[:200] if last else "no log")
