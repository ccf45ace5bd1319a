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
from pathlib import Path

from autograder.records.course import Course
from autograder.records.deadlines import Deadlines
from autograder.steps.lms_files import LMS_WRITERS
from autograder.steps.rows import Row, grade_rows, score_text

COLUMNS = [
    "assignment", "student", "name", "status", "reason", "score", "max_score", "late_penalty", "final_score",
    "submitted", "late_by", "notes",
]  # fmt: skip


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
                "score": score_text(r.score),
                "max_score": score_text(r.max_score),
                "late_penalty": score_text(r.late_penalty),
                "final_score": score_text(r.final_score),
                "submitted": r.submitted,
                "late_by": r.late_by,
                "notes": "; ".join(r.notes),
                **{name: score_text(r.tests.get(name)) for name in tests[r.assignment]},
            }
            for r in rows
        ],
    )
    for lms, (header, lines, kind) in written.items():
        _write(lms_files[lms], header, lines, kind=kind)
    return rows


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
