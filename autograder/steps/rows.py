"""The grade rows every report reads: one per student and assignment, from the gradebook and our records.

A row holds the status and its reason, the raw score (the autograde with the manual
adjustments), the late penalty and final score of the deadline policy, the points per test cell,
the notes an instructor reads (adjustments, lateness, not on the roster, graded with older
tests, an untouched release). `export` writes them; `feedback`, `report` and `explain` show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.records.course import Course
from autograder.records.deadlines import Deadlines, late_penalty
from autograder.records.gradebook import FAILED, GRADED, MISSING, WHOLE, Adjustment, RosterEntry


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
    stale: bool = False  # graded with other tests than the source's current ones
    unchanged: bool | None = None  # True: no answer cell differs from the release (a blank notebook)


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
    records = _Records(book.all(), book.submissions(), book.roster(), book.adjustments(), book.graded_with())
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
            digest = _current_tests(course, assignment_id)
            for student in students:
                try:  # one student's broken record is reported under their name; the others are exported
                    row = _row(gradebook, records, assignment_id, student, max_score, names.get(student, ""))
                    _mark_stale(row, records.graded_with.get((assignment_id, student)), digest)
                    _mark_unchanged(course, row)
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
    graded_with: dict


def _current_tests(course: Course, assignment_id: str) -> str | None:
    from autograder.records.gradebook import tests_digest

    folder = course.source_dir / assignment_id
    return tests_digest(sorted(folder.glob("*.ipynb"))) if folder.is_dir() else None


def _mark_stale(row: Row, graded_with: str | None, current: str | None) -> None:
    """A grade (or failure) recorded with tests other than the source's current ones."""
    if row.status in (GRADED, FAILED) and graded_with and current and graded_with != current:
        row.stale = True
        row.notes.append(f"graded with older tests: grade {row.assignment} --regrade")


def _mark_unchanged(course: Course, row: Row) -> None:
    """The untouched release handed in: its zero is not an attempt, and the row says so."""
    if row.status == MISSING:
        return
    from autograder.steps.collect import answers_unchanged

    row.unchanged = answers_unchanged(course, row.assignment, row.student)
    if row.unchanged:
        row.notes.append(NO_ANSWER)


NO_ANSWER = "no answer changed: the notebook is the release as handed out"


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
        row.notes.append(f"{cell} set to {score_text(adjustment.score)}: {adjustment.comment}")
    whole = row.adjustments.get(WHOLE)
    if whole:
        row.score = whole.score
        row.notes.append(f"total set to {score_text(whole.score)}: {whole.comment}")


def _apply_deadline(row: Row, deadlines: Deadlines, submission) -> None:
    due = deadlines.due_for(row.assignment, row.student)
    if submission:
        row.submitted, row.layout = submission.submitted_at, submission.layout
        if submission.lms_late:
            extended = deadlines.extension_for(row.assignment, row.student)
            when = submission.time
            if extended and due and when and when <= due:
                row.notes.append(f"the LMS marked it late, but the extension to {due:%Y-%m-%d %H:%M} applies: "
                                 "not late")  # fmt: skip
            else:
                row.notes.append("the LMS marked it late")
    if row.score is None:
        return
    lateness = late_penalty(deadlines, due, submission.time if submission else None, row.score, row.max_score or 0)
    row.late_penalty, row.final_score = lateness.penalty, row.score - lateness.penalty
    if lateness.late_by is not None:
        row.late_by = f"{lateness.late_by.total_seconds() / 3600:.2f}h"
        row.notes.append(lateness.note)


def score_text(value) -> str:
    """Scores as the shortest exact text: None -> '', 3.0 -> '3', 2.5 -> '2.5'."""
    if value is None:
        return ""
    value = round(float(value), 6)
    return str(int(value)) if value.is_integer() else f"{value:g}"
