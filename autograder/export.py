"""Step `export`: one CSV row per student and assignment.

Columns: assignment, student, status, reason, score, max_score. The score is empty unless the
status is `graded`, so a failed or missing submission can never be read as a real zero.
"""

from __future__ import annotations

import csv
from pathlib import Path

from autograder.course import Course
from autograder.records import GRADED, MISSING

COLUMNS = ["assignment", "student", "status", "reason", "score", "max_score"]


def export_rows(course: Course) -> list[dict]:
    statuses = course.statuses().all()
    rows = []
    with course.gradebook() as gradebook:
        students = sorted(s.id for s in gradebook.students)
        for assignment in sorted(gradebook.assignments, key=lambda a: a.name):
            for student in students:
                status = statuses.get((assignment.name, student))
                row = {
                    "assignment": assignment.name,
                    "student": student,
                    "status": status.status if status else MISSING,
                    "reason": status.reason if status else "no submission collected",
                    "score": "",
                    "max_score": _number(assignment.max_score),
                }
                if status and status.status == GRADED:
                    submission = gradebook.find_submission(assignment.name, student)
                    row["score"] = _number(submission.score)
                rows.append(row)
    return rows


def export(course: Course, out: Path) -> int:
    """Write the CSV to `out`; returns the number of rows written."""
    rows = export_rows(course)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def _number(value) -> str:
    """Scores as the shortest exact text: 3.0 -> '3', 2.5 -> '2.5'."""
    value = float(value or 0)
    return str(int(value)) if value.is_integer() else f"{value:g}"
