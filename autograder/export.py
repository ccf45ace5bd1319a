"""Step `export`: grades as CSV, one row per student and assignment, and an LMS import file.

Columns: assignment, student, name, status, reason, score (raw: the autograde with the manual
adjustments), max_score, late_penalty, final_score (what goes into the LMS), submitted (the LMS's
time), late_by, notes (adjustments with their comments, lateness, not on the roster), then one
column per test cell (its grade_id) with the points it earned. Scores are empty unless the
submission was graded (or an instructor set its total by `adjust`), so a failed or missing
submission can never be read as a real zero.

Who gets a row: with a roster (`roster import`), every rostered student, plus anyone who
submitted without being on it (noted); without one, every student of the gradebook. Which
assignments: those named, else those with collected work (`all_assignments` for every one the
gradebook knows).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import Course
from autograder.deadlines import Deadlines, late_penalty
from autograder.records import GRADED, MISSING, WHOLE, Adjustment, RosterEntry

COLUMNS = [
    "assignment", "student", "name", "status", "reason", "score", "max_score", "late_penalty", "final_score",
    "submitted", "late_by", "notes",
]  # fmt: skip
CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


@dataclass
class Row:
    assignment: str
    student: str
    status: str
    reason: str
    score: float | None  # raw: autograde + manual adjustments, before the late policy
    max_score: float | None
    tests: dict[str, float | None] = field(default_factory=dict)  # grade_id -> points (adjusted)
    name: str = ""
    late_penalty: float | None = None
    final_score: float | None = None
    submitted: str = ""
    late_by: str = ""
    notes: list[str] = field(default_factory=list)
    adjustments: dict[str, Adjustment] = field(default_factory=dict)  # cell (or WHOLE) -> adjustment
    auto_tests: dict[str, float | None] = field(default_factory=dict)  # grade_id -> points before adjustment
    roster: RosterEntry | None = None
    layout: str = ""  # the LMS layout the submission was collected from


def grade_rows(
    course: Course,
    assignment_ids: list[str] | None = None,
    *,
    all_assignments: bool = False,
    deadlines: Deadlines | None = None,
) -> tuple[list[Row], dict[str, dict[str, float]]]:
    """Every (assignment, student) row to export, and each assignment's test cells
    ({grade_id: max points}, in notebook order)."""
    for assignment_id in assignment_ids or []:
        course.source_notebooks(assignment_id)  # an unknown id fails by name
    book = course.statuses()
    records = _Records(book.all(), book.submissions(), book.roster(), book.adjustments())
    book.close()
    deadlines = deadlines or Deadlines(config=course.nbgrader_config())
    rows, tests = [], {}
    ROW_ERRORS.clear()
    with course.gradebook() as gradebook:
        known = {a.name: a for a in gradebook.assignments}
        names = {s.id: _full_name(s) for s in gradebook.students}
        chosen = {a for a, _ in records.statuses} | (set(known) if all_assignments else set())
        for assignment_id in list(dict.fromkeys(assignment_ids)) if assignment_ids else sorted(chosen):
            assignment = known.get(assignment_id)
            cells = [cell for nb in assignment.notebooks for cell in nb.grade_cells] if assignment else []
            tests[assignment_id] = {cell.name: float(cell.max_score) for cell in cells}
            max_score = float(assignment.max_score) if assignment else None
            submitted = {s for a, s in records.statuses if a == assignment_id}
            students = sorted(set(records.roster) | submitted) if records.roster else sorted(names)
            for student in students:
                try:  # one student's broken record is reported under their name; the others are exported
                    row = _row(gradebook, records, assignment_id, student, max_score, names.get(student, ""))
                    _apply_adjustments(row)
                    _apply_deadline(row, deadlines, records.submissions.get((assignment_id, student)))
                except Exception as error:  # noqa: BLE001
                    gradebook.db.rollback()
                    reason = f"export error: {type(error).__name__}: {str(error)[:200]}"
                    ROW_ERRORS[(assignment_id, student)] = reason
                    row = Row(assignment=assignment_id, student=student, status=ERROR, reason=reason, score=None,
                              max_score=max_score, name=names.get(student, ""))  # fmt: skip
                rows.append(row)
    return rows, tests


ERROR = "error"  # a row whose record could not be read (ROW_ERRORS says why); never a score
ROW_ERRORS: dict[tuple[str, str], str] = {}  # (assignment, student) -> why, of the last grade_rows()


@dataclass(frozen=True)
class _Records:
    statuses: dict
    submissions: dict
    roster: dict
    adjustments: dict


def _row(gradebook, records: _Records, assignment_id: str, student: str, max_score, name: str) -> Row:
    """The row before adjustments and deadlines: status, and nbgrader's scores if graded."""
    status = records.statuses.get((assignment_id, student))
    entry = records.roster.get(student)
    row = Row(
        assignment=assignment_id,
        student=student,
        status=status.status if status else MISSING,
        reason=status.reason if status else "no submission collected",
        score=None,
        max_score=max_score,
        name=entry.name if entry else name,
        roster=entry,
        adjustments=records.adjustments.get((assignment_id, student), {}),
    )
    if records.roster and not entry:
        row.notes.append("not on the roster")
    if status and status.status == GRADED:
        submission = gradebook.find_submission(assignment_id, student)
        # g.score is nbgrader's: its manual_score (formgrader) if set, else the autograde
        row.auto_tests = {g.name: g.score for nb in submission.notebooks for g in nb.grades}
        row.tests = dict(row.auto_tests)
        row.score = float(submission.score)
    return row


def _full_name(student) -> str:
    return " ".join(part for part in (student.first_name, student.last_name) if part)


def _apply_adjustments(row: Row) -> None:
    """Cell adjustments replace that cell's points; a WHOLE adjustment replaces the total."""
    for cell, adjustment in sorted(row.adjustments.items()):
        if cell == WHOLE:
            continue
        if row.status == GRADED:
            row.score += adjustment.score - float(row.tests.get(cell) or 0.0)
            row.tests[cell] = adjustment.score
        row.notes.append(f"{cell} set to {_number(adjustment.score)}: {adjustment.comment}")
    whole = row.adjustments.get(WHOLE)
    if whole:
        row.score = whole.score
        row.notes.append(f"total set to {_number(whole.score)}: {whole.comment}")


def _apply_deadline(row: Row, deadlines: Deadlines, submission) -> None:
    if submission:
        row.submitted, row.layout = submission.submitted_at, submission.layout
        if submission.lms_late:
            row.notes.append("the LMS marked it late")
    if row.score is None:
        return
    due = deadlines.due_for(row.assignment, row.student)
    lateness = late_penalty(deadlines, due, submission.time if submission else None, row.score, row.max_score or 0)
    row.late_penalty, row.final_score = lateness.penalty, row.score - lateness.penalty
    if lateness.late_by is not None:
        row.late_by = f"{lateness.late_by.total_seconds() / 3600:.2f}h"
        row.notes.append(lateness.note)


def export(
    course: Course,
    out: Path,
    *,
    canvas: Path | None = None,
    assignment_ids: list[str] | None = None,
    all_assignments: bool = False,
    deadlines: Deadlines | None = None,
) -> list[Row]:
    """Write the grades CSV to `out` (and a Canvas gradebook import file to `canvas`)."""
    for path in (out, canvas):
        if path is not None:
            check_writable(path)
    rows, tests = grade_rows(course, assignment_ids, all_assignments=all_assignments, deadlines=deadlines)
    test_columns = list(dict.fromkeys(name for names in tests.values() for name in names))
    _write(
        out,
        COLUMNS + test_columns,
        [
            {
                "assignment": r.assignment,
                "student": r.student,
                "name": r.name,
                "status": r.status,
                "reason": r.reason,
                "score": _number(r.score),
                "max_score": _number(r.max_score),
                "late_penalty": _number(r.late_penalty),
                "final_score": _number(r.final_score),
                "submitted": r.submitted,
                "late_by": r.late_by,
                "notes": "; ".join(r.notes),
                **{name: _number(r.tests.get(name)) for name in tests[r.assignment]},
            }
            for r in rows
        ],
    )
    if canvas:
        book = course.statuses()
        columns = book.lms_columns()
        book.close()
        write_canvas(canvas, rows, list(tests), columns)
    return rows


def write_canvas(path: Path, rows: list[Row], assignments: list[str], columns: dict[str, str] | None = None) -> None:
    """Canvas's gradebook import layout: identity columns, a Points Possible row, one column per
    assignment with the final score. Canvas matches a row on `ID` (its user id), else `SIS User
    ID`, else `SIS Login ID`: the roster gives them; without one, a Canvas download's student id
    is the Canvas user id, and any other id is offered as the login. Ungraded cells stay empty,
    so Canvas leaves them ungraded rather than zero. An assignment's column is headed as in the
    imported Canvas gradebook (`columns`: `01-chain-rule (777)`, matched by its name) so Canvas
    fills that assignment; without one, Canvas offers to create a new column."""
    max_scores = {r.assignment: r.max_score for r in rows}
    columns = columns or {}

    def header(assignment: str) -> str:
        return columns.get(assignment, assignment)

    by_student: dict[str, dict[str, str]] = {}
    for r in rows:
        line = by_student.setdefault(r.student, _canvas_identity(r))
        if r.layout == "canvas" and not line["ID"]:
            line["ID"], line["SIS Login ID"] = r.student, ""
        line[header(r.assignment)] = _number(r.final_score)
    points = {"Student": "    Points Possible", **{header(a): _number(max_scores.get(a)) for a in assignments}}
    _write(path, CANVAS_IDENTITY + [header(a) for a in assignments], [points, *by_student.values()])


def _canvas_identity(row: Row) -> dict[str, str]:
    entry = row.roster
    if entry:
        return {
            "Student": entry.name or row.student,
            "ID": entry.lms_user_id,
            "SIS User ID": entry.sis_user_id,
            "SIS Login ID": entry.sis_login_id,
            "Section": entry.section,
        }
    return {"Student": row.name or row.student, "ID": "", "SIS User ID": "", "SIS Login ID": row.student, "Section": ""}


def check_writable(path: Path) -> None:
    """A one-line ValueError now, rather than a traceback after the work: `path` must be a file
    name in a folder that exists or can be made, and be writable."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder: give a file name, e.g. {path / 'grades.csv'}")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"cannot write {path}: {parent} is not a folder")
    if path.exists() and not os.access(path, os.W_OK) or not path.exists() and not os.access(parent, os.W_OK):
        raise ValueError(f"cannot write {path}: permission denied")


TEXT_COLUMNS = ("name", "reason", "notes", "Student")  # text that may come from a file name or an LMS


def _write(path: Path, columns: list[str], rows: list[dict]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows({k: _inert(v) if k in TEXT_COLUMNS else v for k, v in row.items()} for row in rows)


def _inert(text: str) -> str:
    """A spreadsheet runs a cell starting with = + - @ as a formula ('=HYPERLINK(...)' in a file
    name): such text gets a leading apostrophe, which spreadsheets show as plain text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _number(value) -> str:
    """Scores as the shortest exact text: None -> '', 3.0 -> '3', 2.5 -> '2.5'."""
    if value is None:
        return ""
    value = round(float(value), 6)
    return str(int(value)) if value.is_integer() else f"{value:g}"
