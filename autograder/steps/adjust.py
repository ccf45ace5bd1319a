"""`adjust ID STUDENT [--cell NAME] --score N --comment TEXT`: an instructor's manual grade.

With `--cell`, the test cell's points are replaced; without, the submission's total is (for
example a malformed notebook the instructor graded by hand). `--clear` removes an adjustment.
Adjustments live in their own table (records/gradebook.py), not in nbgrader's grade rows: a regrade
rewrites those and a failed regrade removes them, an adjustment stays until it is cleared.
Export (score, notes) and feedback (the comment, next to the cell) show them.

Why a command and not nbgrader's formgrader: formgrader is a Jupyter server extension (a
browser, a running server, its own login) and writes `manual_score` into the rows a regrade
replaces; a command works in a terminal, over SSH and in scripts, and records who-changed-what
with a comment the student will read. The gradebook is still nbgrader's: a `manual_score` set in
formgrader is respected by export (nbgrader's own score), an adjustment comes on top.
"""

from __future__ import annotations

import nbformat

from autograder.records.course import Course
from autograder.records.gradebook import WHOLE


def test_cells(course: Course, assignment_id: str) -> dict[str, float]:
    """{grade_id: points} of the assignment's test cells, from the source notebook."""
    points = {}
    for path in course.source_notebooks(assignment_id):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade"):
                points[meta["grade_id"]] = float(meta.get("points", 0))
    return points


def adjust(
    course: Course,
    assignment_id: str,
    student: str,
    *,
    cell: str | None,
    score: float | None,
    comment: str,
    clear: bool = False,
) -> str:
    """Store (or clear) an adjustment; returns a one-line summary."""
    cells = test_cells(course, assignment_id)
    book = course.statuses()
    try:
        known = {s for a, s in book.all() if a == assignment_id} | set(book.roster())
        if student not in known:
            raise LookupError(f"{student} has no submission of {assignment_id} and is not on the roster")
        if cell is not None and cell not in cells:
            raise LookupError(f"{assignment_id} has no test cell {cell!r}; its test cells: {', '.join(cells)}")
        target = cell or WHOLE
        what = f"{assignment_id} {student} {cell or 'total'}"
        if clear:
            removed = book.clear_adjustment(assignment_id, student, target)
            return f"cleared {what}" if removed else f"no adjustment for {what}"
        limit = cells[cell] if cell else sum(cells.values())
        if score is None or not 0 <= score <= limit:
            raise ValueError(f"--score must be between 0 and {limit:g} for {cell or 'the total'}")
        if not comment.strip():
            raise ValueError("--comment is required: the student reads it in the feedback")
        book.set_adjustment(assignment_id, student, target, float(score), comment.strip())
        return f"set {what} to {score:g} of {limit:g}: {comment.strip()}"
    finally:
        book.close()
