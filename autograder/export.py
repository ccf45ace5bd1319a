"""Step `export`: grades as CSV, one row per student and assignment, and an LMS import file.

Columns: assignment, student, status, reason, score, max_score, then one column per test cell
(its grade_id) with the points it earned. Scores are empty unless the status is `graded`, so a
failed or missing submission can never be read as a real zero.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import Course
from autograder.records import GRADED, MISSING

COLUMNS = ["assignment", "student", "status", "reason", "score", "max_score"]


@dataclass
class Row:
    assignment: str
    student: str
    status: str
    reason: str
    score: float | None
    max_score: float
    tests: dict[str, float | None] = field(default_factory=dict)  # grade_id -> points earned


def grade_rows(
    course: Course, assignment_ids: list[str] | None = None
) -> tuple[list[Row], dict[str, dict[str, float]]]:
    """Every (assignment, student) pair of the gradebook, and each assignment's test cells
    ({grade_id: max points}, in notebook order)."""
    statuses = course.statuses().all()
    rows, tests = [], {}
    with course.gradebook() as gradebook:
        students = sorted(s.id for s in gradebook.students)
        for assignment in sorted(gradebook.assignments, key=lambda a: a.name):
            if assignment_ids and assignment.name not in assignment_ids:
                continue
            tests[assignment.name] = {
                cell.name: float(cell.max_score) for nb in assignment.notebooks for cell in nb.grade_cells
            }
            for student in students:
                status = statuses.get((assignment.name, student))
                row = Row(
                    assignment=assignment.name,
                    student=student,
                    status=status.status if status else MISSING,
                    reason=status.reason if status else "no submission collected",
                    score=None,
                    max_score=float(assignment.max_score),
                )
                if status and status.status == GRADED:
                    submission = gradebook.find_submission(assignment.name, student)
                    row.score = float(submission.score)
                    row.tests = {g.name: g.score for nb in submission.notebooks for g in nb.grades}
                rows.append(row)
    return rows, tests


def export(course: Course, out: Path, *, canvas: Path | None = None, assignment_ids: list[str] | None = None) -> int:
    """Write the grades CSV to `out` (and a Canvas gradebook import file to `canvas`); all
    assignments of the gradebook unless `assignment_ids` names some."""
    rows, tests = grade_rows(course, assignment_ids)
    test_columns = list(dict.fromkeys(name for names in tests.values() for name in names))
    _write(
        out,
        COLUMNS + test_columns,
        [
            {
                "assignment": r.assignment,
                "student": r.student,
                "status": r.status,
                "reason": r.reason,
                "score": _number(r.score),
                "max_score": _number(r.max_score),
                **{name: _number(r.tests.get(name)) for name in tests[r.assignment]},
            }
            for r in rows
        ],
    )
    if canvas:
        write_canvas(canvas, rows, sorted(tests))
    return len(rows)


def write_canvas(path: Path, rows: list[Row], assignments: list[str]) -> None:
    """Canvas's gradebook import layout: identity columns, a Points Possible row, one column per
    assignment. Ungraded cells stay empty, so Canvas leaves them ungraded rather than zero."""
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *assignments]
    max_scores = {r.assignment: r.max_score for r in rows}
    by_student: dict[str, dict[str, str]] = {}
    for r in rows:
        line = by_student.setdefault(r.student, {"Student": r.student, "SIS Login ID": r.student})
        line[r.assignment] = _number(r.score)
    points = {"Student": "    Points Possible", **{a: _number(max_scores[a]) for a in assignments}}
    _write(path, header, [points, *by_student.values()])


def _write(path: Path, columns: list[str], rows: list[dict]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def _number(value) -> str:
    """Scores as the shortest exact text: None -> '', 3.0 -> '3', 2.5 -> '2.5'."""
    if value is None:
        return ""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"
