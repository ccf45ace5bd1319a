"""Grade one student's submission with a worker's Autograder: an Outcome, never an exception.

The one function that local grading (steps/grade.py, a process pool) and the Dask path
(steps/cluster.py, one task per student) both call; neither reaches into the other.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from autograder.records.statuses import FAILED, GRADED


@dataclass(frozen=True)
class Outcome:
    student: str
    status: str
    reason: str = ""
    seconds: float = 0.0  # the whole autograde of this submission
    sandbox: dict = field(default_factory=dict)  # sandbox wall time, runner startup and execution


def grade_notebook(autograder, assignment_id: str, student: str) -> Outcome:
    """Autograde `student`'s submission of `assignment_id`: graded, or failed with the reason.

    A failure of the grader's own processes (not the student's) is retried once; a bug of ours
    fails this submission (`grading error: ...`) and never stops the class.
    """
    from autograder.engine.autograde import Ungradable
    from autograder.engine.sandbox import DIED

    start = time.monotonic()
    for attempt in range(2):
        try:
            graded = autograder.grade(assignment_id, student)
        except Ungradable as reason:
            if str(reason).startswith(DIED) and attempt == 0:
                continue
            return Outcome(student, FAILED, str(reason), time.monotonic() - start)
        except KeyboardInterrupt:
            raise
        except Exception as error:  # noqa: BLE001 - a bug of ours must not stop the class
            return Outcome(student, FAILED, f"grading error: {type(error).__name__}: {str(error)[:200]}",
                           time.monotonic() - start)  # fmt: skip
        return Outcome(student, GRADED, graded.note, time.monotonic() - start, graded.timing)
    raise AssertionError("unreachable")  # pragma: no cover
