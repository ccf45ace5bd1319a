"""`roster import FILE.csv`: the class as the LMS lists it, from the LMS's own export.

- canvas, Grades > Export (`Student, ID, SIS User ID, SIS Login ID, Section, ...`): student `ID`
  (the Canvas user id);
- moodle, Assignment > Download grading worksheet (`Identifier, Full name, Email address, ...`):
  the participant number of `Participant 1234`;
- blackboard, Grade Center > Work Offline > Download (`Last Name, First Name, Username, ...`):
  `Username`;
- plain: `student_id` and any of `name, first_name, last_name, email, lms_user_id, sis_user_id,
  sis_login_id, section`.

The student id is the one `collect` derives from the same LMS's download, so a roster can be
imported before or after collecting. The rows go into nbgrader's students table (name, email,
`lms_user_id`: what formgrader shows) and into the autograder's roster table, which also keeps
what Canvas matches on (SIS ids) and marks who is on the roster. An import replaces the roster.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from autograder.records.course import Course
from autograder.records.gradebook import RosterEntry
from autograder.steps.collect import safe_id

FORMATS = ("canvas", "moodle", "blackboard", "plain")


def import_roster(course: Course, path: Path, *, fmt: str | None = None) -> tuple[str, list[RosterEntry]]:
    """Read the LMS export at `path` and store it as the roster; returns (format, entries)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such roster file: {path}")
    rows = _read_rows(path)
    if not rows:
        raise ValueError(f"{path} has no rows")
    fmt = fmt or _detect(rows[0].keys(), path)
    entries, seen = [], {}
    for line, row in enumerate(rows, start=2):
        entry = _ENTRY[fmt]({k.strip(): (v or "").strip() for k, v in row.items() if k})
        if entry is None:
            continue  # Canvas's "Points Possible" row and the like
        student, why = safe_id(entry.student)
        if why:
            raise ValueError(f"{path}:{line}: {why}")
        if student in seen:
            raise ValueError(f"{path}:{line}: student {student} is also on line {seen[student]}")
        seen[student] = line
        entries.append(RosterEntry(**{**vars(entry), "student": student}))
    if not entries:
        raise ValueError(f"{path} lists no students")
    book = course.statuses()
    book.set_roster(entries)
    book.set_setting("roster_format", fmt)  # whose ids lms_user_id holds (Canvas ID, Moodle participant)
    headers = [h.strip() for h in rows[0] if h]
    if fmt == "canvas":  # "01-chain-rule (777)": the header Canvas's import matches the column on
        matches = (re.fullmatch(r"(.+?) \((\d+)\)", h) for h in headers)
        book.set_lms_columns({m.group(1): m.group(0) for m in matches if m})
    elif fmt == "blackboard":  # "01-chain-rule [Total Pts: 22 Score] |1234567": the column id matches
        matches = (re.fullmatch(r"(.+?) \[Total Pts: [^\]]*\] \|(\d+)", h) for h in headers)
        book.set_lms_columns({m.group(1): m.group(0) for m in matches if m})
    else:
        book.set_lms_columns({})
    book.close()
    with course.gradebook() as gradebook:
        for e in entries:
            first, last = _split_name(e.name)
            gradebook.update_or_create_student(
                e.student, first_name=first, last_name=last, email=e.email or None, lms_user_id=e.lms_user_id or None
            )
    return fmt, entries


def _read_rows(path: Path) -> list[dict]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError(f"{path} is neither UTF-8 nor UTF-16 text")
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def _detect(columns, path: Path) -> str:
    columns = {c.strip() for c in columns if c}
    if {"Student", "ID"} <= columns:
        return "canvas"
    if {"Identifier", "Full name"} <= columns:
        return "moodle"
    if "Username" in columns and ("Last Name" in columns or "First Name" in columns):
        return "blackboard"
    if "student_id" in columns:
        return "plain"
    raise ValueError(
        f"{path}: not a roster format I know (columns: {', '.join(sorted(columns))}); "
        "give a CSV with a student_id column, or pass --format"
    )


def _canvas(row: dict) -> RosterEntry | None:
    if not row.get("ID", "").isdigit():
        return None  # "Points Possible", "Manual Posting" and other non-student rows
    return RosterEntry(
        student=row["ID"],
        name=row.get("Student", ""),
        lms_user_id=row["ID"],
        sis_user_id=row.get("SIS User ID", ""),
        sis_login_id=row.get("SIS Login ID", ""),
        section=row.get("Section", ""),
    )


def _moodle(row: dict) -> RosterEntry | None:
    match = re.fullmatch(r"\D*(\d+)", row.get("Identifier", ""))  # "Participant 1234"
    if not match:
        return None
    return RosterEntry(
        student=match.group(1), name=row.get("Full name", ""), email=row.get("Email address", ""),
        lms_user_id=match.group(1),
    )  # fmt: skip


def _blackboard(row: dict) -> RosterEntry | None:
    if not row.get("Username"):
        return None
    name = ", ".join(p for p in (row.get("Last Name", ""), row.get("First Name", "")) if p)
    return RosterEntry(student=row["Username"], name=name, sis_user_id=row.get("Student ID", ""),
                       sis_login_id=row["Username"])  # fmt: skip


def _plain(row: dict) -> RosterEntry | None:
    if not row.get("student_id"):
        return None
    name = row.get("name") or ", ".join(p for p in (row.get("last_name", ""), row.get("first_name", "")) if p)
    fields = ("email", "lms_user_id", "sis_user_id", "sis_login_id", "section")
    return RosterEntry(student=row["student_id"], name=name, **{f: row.get(f, "") for f in fields})


_ENTRY = {"canvas": _canvas, "moodle": _moodle, "blackboard": _blackboard, "plain": _plain}


def _split_name(name: str) -> tuple[str | None, str | None]:
    """'Müller, Anna' -> ('Anna', 'Müller'); 'Anna Müller' -> (None, 'Anna Müller')."""
    if ", " in name:
        last, first = name.split(", ", 1)
        return first, last
    return None, name or None
