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
from datetime import datetime
from pathlib import Path

from autograder.course import Course
from autograder.deadlines import Deadlines, late_penalty
from autograder.records import FAILED, GRADED, MISSING, WHOLE, Adjustment, RosterEntry

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
    from autograder.records import tests_digest

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
    from autograder.collect import answers_unchanged

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
        row.notes.append(f"{cell} set to {_number(adjustment.score)}: {adjustment.comment}")
    whole = row.adjustments.get(WHOLE)
    if whole:
        row.score = whole.score
        row.notes.append(f"total set to {_number(whole.score)}: {whole.comment}")


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


def export(
    course: Course,
    out: Path,
    *,
    canvas: Path | None = None,
    moodle: Path | None = None,
    blackboard: Path | None = None,
    assignment_ids: list[str] | None = None,
    all_assignments: bool = False,
    deadlines: Deadlines | None = None,
) -> list[Row]:
    """Write the grades CSV to `out`, and each LMS's import file asked for (Canvas's gradebook
    import, Moodle's grading worksheet, Blackboard's Grade Center upload). An LMS file is checked
    before anything is written: a row that the LMS could not match to a student is an error
    naming the students (UnmatchedRows), never a silent row."""
    lms_files = {"canvas": canvas, "moodle": moodle, "blackboard": blackboard}
    for path in (out, *lms_files.values()):
        if path is not None:
            check_writable(path)
    rows, tests = grade_rows(course, assignment_ids, all_assignments=all_assignments, deadlines=deadlines)
    book = course.statuses()
    columns, roster_format = book.lms_columns(), book.setting("roster_format")
    book.close()
    if not roster_format and any(r.roster for r in rows):  # a roster imported before its format was kept
        roster_format = "canvas" if columns else "plain"
    lms_rows = [r for r in rows if not (r.roster is None and "not on the roster" in r.notes)]
    written = {}
    for lms, path in lms_files.items():
        if path is not None:
            written[lms] = LMS_WRITERS[lms](lms_rows, list(tests), columns, roster_format)  # may raise first
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
    for lms, (header, lines, kind) in written.items():
        _write(lms_files[lms], header, lines, kind=kind)
    return rows


class UnmatchedRows(ValueError):
    """Rows an LMS could not match to a student: named, with what to do."""

    def __init__(self, lms: str, students: list[str], needs: str):
        shown = ", ".join(students[:20]) + (f" and {len(students) - 20} more" if len(students) > 20 else "")
        super().__init__(
            f"{lms} could not match {len(students)} student(s) of the import file to its own: {shown} "
            f"(no {needs}); import the {lms} export as the roster (roster import FILE), or give those ids "
            "in your roster CSV, then export again. Nothing was written."
        )


def canvas_rows(rows: list[Row], assignments: list[str], columns: dict[str, str], roster_format: str = ""):
    """Canvas's gradebook import layout: identity columns, a Points Possible row, one column per
    assignment with the final score. Canvas matches a row on `ID` (its user id), else `SIS User
    ID`, else `SIS Login ID`: a roster gives them (Canvas's own export, or a CSV with those
    columns); a Canvas download's student id is the Canvas user id; without any roster, any
    other id is offered as the login. A rostered student with none of the three is an error.
    Ungraded cells stay empty, so Canvas leaves them ungraded rather than zero. An assignment's
    column is headed as in the imported Canvas gradebook (`01-chain-rule (777)`) so Canvas fills
    that assignment; without one, Canvas offers to create a new column."""
    max_scores = {r.assignment: r.max_score for r in rows}
    columns = columns if roster_format == "canvas" else {}

    def header(assignment: str) -> str:
        return columns.get(assignment, assignment)

    by_student: dict[str, dict[str, str]] = {}
    for r in rows:
        line = by_student.setdefault(r.student, _canvas_identity(r, roster_format))
        if r.layout == "canvas" and not line["ID"]:
            line["ID"] = r.student
        line[header(r.assignment)] = _number(r.final_score)
    unmatched = sorted(s for s, line in by_student.items() if not any(line[k] for k in CANVAS_IDENTITY[1:4]))
    if unmatched:
        raise UnmatchedRows("Canvas", unmatched, "Canvas ID, SIS User ID or SIS Login ID")
    points = {"Student": "    Points Possible", **{header(a): _number(max_scores.get(a)) for a in assignments}}
    return CANVAS_IDENTITY + [header(a) for a in assignments], [points, *by_student.values()], "csv"


def _canvas_identity(row: Row, roster_format: str) -> dict[str, str]:
    entry = row.roster
    if entry:
        return {
            "Student": entry.name or row.student,
            "ID": entry.lms_user_id if roster_format in ("canvas", "plain") else "",
            "SIS User ID": entry.sis_user_id if roster_format != "blackboard" else "",
            "SIS Login ID": entry.sis_login_id if roster_format != "blackboard" else "",
            "Section": entry.section,
        }
    login = row.student if row.layout != "canvas" else ""
    return {"Student": row.name or row.student, "ID": "", "SIS User ID": "", "SIS Login ID": login, "Section": ""}


# Moodle's assignment > "Download grading worksheet" / "Upload grading worksheet" (assignfeedback_offline):
# the upload finds its columns by these names and matches a row on "Identifier" (Participant N).
MOODLE_COLUMNS = [
    "Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade", "Grade can be changed",
    "Last modified (submission)", "Last modified (grade)", "Feedback comments",
]  # fmt: skip


def moodle_rows(rows: list[Row], assignments: list[str], columns=None, roster_format: str = ""):
    """Moodle's grading worksheet of one assignment, as its download gives it: `Participant N`
    (the participant number of Moodle's own worksheet or of its submission folders), the grade
    (final score; empty when ungraded, which Moodle leaves ungraded), the time of this grade (so
    Moodle takes it over an older one) and a one-line comment with the score's parts."""
    if len(assignments) != 1:
        raise ValueError(
            f"a Moodle grading worksheet holds one assignment and this export has {len(assignments)}: "
            "pass --assignment ID"
        )
    now = _moodle_time(datetime.now().astimezone())
    lines, unmatched = [], []
    for r in rows:
        entry = r.roster
        participant = ""
        if entry and roster_format in ("moodle", "plain") and entry.lms_user_id.isdigit():
            participant = entry.lms_user_id
        elif r.layout == "moodle" and r.student.isdigit():
            participant = r.student
        if not participant:
            unmatched.append(r.student)
            continue
        graded = r.final_score is not None
        lines.append({
            "Identifier": f"Participant {participant}",
            "Full name": (entry.name if entry else r.name) or r.student,
            "Email address": entry.email if entry else "",
            "Status": "Submitted for grading - Graded" if graded else (
                "No submission" if r.status == MISSING else "Submitted for grading - Not graded"),
            "Grade": _number(r.final_score),
            "Maximum Grade": _number(r.max_score),
            "Grade can be changed": "Yes",
            "Last modified (submission)": _moodle_time(datetime.fromisoformat(r.submitted)) if r.submitted else "-",
            "Last modified (grade)": now if graded else "-",
            "Feedback comments": _comment(r),
        })  # fmt: skip
    if unmatched:
        raise UnmatchedRows("Moodle", sorted(unmatched), "Moodle participant number")
    return MOODLE_COLUMNS, lines, "csv"


def _moodle_time(when: datetime) -> str:
    """Moodle's own way of writing a time in the worksheet ('Monday, 2 March 2026, 11:59 PM'),
    which its upload reads back (PHP strtotime)."""
    return f"{when:%A}, {when.day} {when:%B %Y}, {when:%I:%M %p}"


def _comment(r: Row) -> str:
    if r.final_score is None:
        return ""
    parts = [f"Autograded: {_number(r.score)} of {_number(r.max_score)}"]
    if r.late_penalty:
        parts.append(f"late penalty {_number(r.late_penalty)}, final {_number(r.final_score)}")
    return "; ".join(parts)


BLACKBOARD_IDENTITY = ["Last Name", "First Name", "Username", "Student ID"]


def blackboard_rows(rows: list[Row], assignments: list[str], columns: dict[str, str], roster_format: str = ""):
    """Blackboard Grade Center's Work Offline > Upload: a row per student matched on `Username`,
    and a column per assignment headed as in Grade Center's own download
    (`01-chain-rule [Total Pts: 22 Score] |1234567`: the column id after `|` is what Blackboard
    matches; without one, Blackboard adds a new column). Ungraded cells stay empty."""
    columns = columns if roster_format == "blackboard" else {}
    max_scores = {r.assignment: r.max_score for r in rows}

    def header(assignment: str) -> str:
        return columns.get(assignment) or f"{assignment} [Total Pts: {_number(max_scores.get(assignment))} Score]"

    by_student: dict[str, dict[str, str]] = {}
    unmatched = set()
    for r in rows:
        entry = r.roster
        username = ""
        if entry and roster_format in ("blackboard", "plain"):
            username = entry.sis_login_id
        elif r.layout == "blackboard":
            username = r.student
        if not username:
            unmatched.add(r.student)
            continue
        last, _, first = (entry.name if entry else r.name).partition(", ")
        line = by_student.setdefault(r.student, {
            "Last Name": last, "First Name": first, "Username": username,
            "Student ID": entry.sis_user_id if entry else "",
        })  # fmt: skip
        line[header(r.assignment)] = _number(r.final_score)
    if unmatched:
        raise UnmatchedRows("Blackboard", sorted(unmatched), "Blackboard username")
    return BLACKBOARD_IDENTITY + [header(a) for a in assignments], list(by_student.values()), "blackboard"


LMS_WRITERS = {"canvas": canvas_rows, "moodle": moodle_rows, "blackboard": blackboard_rows}


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


# text that may come from a file name or an LMS
TEXT_COLUMNS = ("name", "reason", "notes", "Student", "Full name", "Feedback comments", "Last Name", "First Name")


def _write(path: Path, columns: list[str], rows: list[dict], *, kind: str = "csv") -> None:
    """kind "csv": UTF-8, comma-separated. "blackboard": as Grade Center's own download and upload
    read it: a .csv with every value quoted (UTF-8), else tab-separated UTF-16 (its .xls)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options, encoding = {}, "utf-8"
    if kind == "blackboard":
        options = {"quoting": csv.QUOTE_ALL}
        if path.suffix.lower() != ".csv":
            options["delimiter"], encoding = "\t", "utf-16"
    with path.open("w", newline="", encoding=encoding) as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="", **options)
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
