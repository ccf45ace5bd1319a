"""The import files of the LMSs, from the grade rows: Canvas's gradebook import, Moodle's grading
worksheet, Blackboard's Grade Center upload. Each is checked before anything is written: a row
that the LMS could not match to a student is an error naming the students (`UnmatchedRows`).
"""

from __future__ import annotations

from datetime import datetime

from autograder.records.statuses import MISSING
from autograder.steps.rows import Row, score_text

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


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
        line[header(r.assignment)] = score_text(r.final_score)
    unmatched = sorted(s for s, line in by_student.items() if not any(line[k] for k in CANVAS_IDENTITY[1:4]))
    if unmatched:
        raise UnmatchedRows("Canvas", unmatched, "Canvas ID, SIS User ID or SIS Login ID")
    points = {"Student": "    Points Possible", **{header(a): score_text(max_scores.get(a)) for a in assignments}}
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
            "Grade": score_text(r.final_score),
            "Maximum Grade": score_text(r.max_score),
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
    parts = [f"Autograded: {score_text(r.score)} of {score_text(r.max_score)}"]
    if r.late_penalty:
        parts.append(f"late penalty {score_text(r.late_penalty)}, final {score_text(r.final_score)}")
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
        return columns.get(assignment) or f"{assignment} [Total Pts: {score_text(max_scores.get(assignment))} Score]"

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
        line[header(r.assignment)] = score_text(r.final_score)
    if unmatched:
        raise UnmatchedRows("Blackboard", sorted(unmatched), "Blackboard username")
    return BLACKBOARD_IDENTITY + [header(a) for a in assignments], list(by_student.values()), "blackboard"


LMS_WRITERS = {"canvas": canvas_rows, "moodle": moodle_rows, "blackboard": blackboard_rows}
