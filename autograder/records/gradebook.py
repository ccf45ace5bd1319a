"""What nbgrader's gradebook does not record, in tables of the gradebook's own database.

- status: each submission's grading status and its reason (graded, failed and why);
- submission: where each collected file came from and when it was submitted (the LMS's time);
- roster: the class as the LMS lists it (ids the LMS matches on, name, section);
- graded_with: a digest of the tests (locked and test cells of the source) that graded each
  submission, so that `grade`, `export` and `report` can tell a grade made with older tests;
- adjustment: an instructor's manual score for one test cell or a whole submission, with a
  comment. Kept apart from nbgrader's grade rows, which a regrade rewrites (and a failed regrade
  removes), so an adjustment survives every regrade.

Everything lives wherever the grades live (SQLite file or PostgreSQL), so a status, a grade and
an adjustment never disagree about which database they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from autograder.records.statuses import COLLECTED, FAILED, GRADED, MISSING, WHOLE

__all__ = ["COLLECTED", "FAILED", "GRADED", "MISSING", "WHOLE", "Adjustment", "RosterEntry", "StatusBook",
           "Status", "Submission", "tests_digest"]  # fmt: skip

_metadata = sa.MetaData()
status_table = sa.Table(
    "autograder_status",
    _metadata,
    sa.Column("assignment", sa.String(128), primary_key=True),
    sa.Column("student", sa.String(128), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("updated", sa.DateTime, nullable=False),
)
submission_table = sa.Table(
    "autograder_submission",
    _metadata,
    sa.Column("assignment", sa.String(128), primary_key=True),
    sa.Column("student", sa.String(128), primary_key=True),
    sa.Column("submitted_at", sa.String(40), nullable=False, default=""),  # ISO 8601 with offset, or ""
    sa.Column("time_source", sa.String(16), nullable=False, default=""),  # file name / archive / file
    sa.Column("layout", sa.String(16), nullable=False, default=""),  # canvas, moodle, blackboard, plain, pattern
    sa.Column("lms_name", sa.Text, nullable=False, default=""),  # the LMS's name for this student's files
    sa.Column("original", sa.Text, nullable=False, default=""),  # the path collected, inside the source
    sa.Column("lms_late", sa.Boolean, nullable=False, default=False),  # the LMS itself marked it late
)
roster_table = sa.Table(
    "autograder_roster",
    _metadata,
    sa.Column("student", sa.String(128), primary_key=True),
    sa.Column("name", sa.Text, nullable=False, default=""),
    sa.Column("email", sa.Text, nullable=False, default=""),
    sa.Column("lms_user_id", sa.String(128), nullable=False, default=""),  # Canvas "ID", Moodle participant
    sa.Column("sis_user_id", sa.String(128), nullable=False, default=""),
    sa.Column("sis_login_id", sa.String(128), nullable=False, default=""),
    sa.Column("section", sa.Text, nullable=False, default=""),
)
lms_column_table = sa.Table(  # a gradebook column of the LMS (Canvas: "01-chain-rule (777)")
    "autograder_lms_column",
    _metadata,
    sa.Column("assignment", sa.String(128), primary_key=True),
    sa.Column("header", sa.Text, nullable=False),
)
setting_table = sa.Table(  # small facts about the class: which LMS's export the roster came from
    "autograder_setting",
    _metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False, default=""),
)
graded_with_table = sa.Table(  # which version of an assignment's tests graded a submission
    "autograder_graded_with",
    _metadata,
    sa.Column("assignment", sa.String(128), primary_key=True),
    sa.Column("student", sa.String(128), primary_key=True),
    sa.Column("tests", sa.String(64), nullable=False),  # records.tests_digest of the source then
)
adjustment_table = sa.Table(
    "autograder_adjustment",
    _metadata,
    sa.Column("assignment", sa.String(128), primary_key=True),
    sa.Column("student", sa.String(128), primary_key=True),
    sa.Column("cell", sa.String(128), primary_key=True),  # a test cell's grade_id, or WHOLE
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, default=""),
    sa.Column("updated", sa.DateTime, nullable=False),
)


@dataclass(frozen=True)
class Status:
    status: str
    reason: str = ""


@dataclass(frozen=True)
class Submission:
    submitted_at: str = ""
    time_source: str = ""
    layout: str = ""
    lms_name: str = ""
    original: str = ""
    lms_late: bool = False

    @property
    def time(self) -> datetime | None:
        return datetime.fromisoformat(self.submitted_at) if self.submitted_at else None


@dataclass(frozen=True)
class RosterEntry:
    student: str
    name: str = ""
    email: str = ""
    lms_user_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


@dataclass(frozen=True)
class Adjustment:
    cell: str  # WHOLE for the submission's total
    score: float
    comment: str = ""


def tests_digest(notebooks) -> str:
    """A digest of what grades a submission: the source of every locked or test cell of the
    assignment's source notebooks (grading helpers, visible and hidden tests), with each test
    cell's points. Answers, instructions and solutions do not count: editing them changes no grade."""
    import hashlib
    import json

    digest = hashlib.sha256()
    for path in notebooks:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            graded = meta.get("locked") or meta.get("grade")
            if cell.get("cell_type") == "code" and graded and not meta.get("solution"):
                source = cell.get("source", "")
                source = "".join(source) if isinstance(source, list) else source
                digest.update(json.dumps([Path(path).name, meta.get("grade_id"), meta.get("points"), source]).encode())
    return digest.hexdigest()[:32]


class StatusBook:
    """Read and write the autograder's tables in the gradebook's database."""

    def __init__(self, db_url: str):
        self.engine = sa.create_engine(db_url)
        _metadata.create_all(self.engine)

    # statuses
    def set(self, assignment: str, student: str, status: str, reason: str = "") -> None:
        row = {"status": status, "reason": reason, "updated": datetime.now(UTC)}
        self._upsert(status_table, {"assignment": assignment, "student": student}, row)

    def get(self, assignment: str, student: str) -> Status | None:
        key = (status_table.c.assignment == assignment) & (status_table.c.student == student)
        with self.engine.connect() as db:
            row = db.execute(sa.select(status_table.c.status, status_table.c.reason).where(key)).first()
        return Status(*row) if row else None

    def all(self) -> dict[tuple[str, str], Status]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(status_table)).mappings().all()
        return {(r["assignment"], r["student"]): Status(r["status"], r["reason"]) for r in rows}

    # submissions
    def set_submission(self, assignment: str, student: str, submission: Submission) -> None:
        self._upsert(submission_table, {"assignment": assignment, "student": student}, vars(submission))

    def submissions(self) -> dict[tuple[str, str], Submission]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(submission_table)).mappings().all()
        return {
            (r["assignment"], r["student"]): Submission(**{k: r[k] for k in Submission.__dataclass_fields__})
            for r in rows
        }

    # roster
    def set_roster(self, entries: list[RosterEntry]) -> None:
        """Replace the roster by `entries` (an import is the whole class as the LMS lists it)."""
        with self.engine.begin() as db:
            db.execute(sa.delete(roster_table))
            if entries:
                db.execute(sa.insert(roster_table), [vars(e) for e in entries])

    def roster(self) -> dict[str, RosterEntry]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(roster_table)).mappings().all()
        return {r["student"]: RosterEntry(**r) for r in rows}

    def set_lms_columns(self, columns: dict[str, str]) -> None:
        """{assignment: the LMS's column header}, replacing what an earlier import stored."""
        with self.engine.begin() as db:
            db.execute(sa.delete(lms_column_table))
            if columns:
                db.execute(sa.insert(lms_column_table), [{"assignment": a, "header": h} for a, h in columns.items()])

    def lms_columns(self) -> dict[str, str]:
        with self.engine.connect() as db:
            return dict(db.execute(sa.select(lms_column_table.c.assignment, lms_column_table.c.header)).all())

    # settings
    def set_setting(self, key: str, value: str) -> None:
        self._upsert(setting_table, {"key": key}, {"value": value})

    def setting(self, key: str, default: str = "") -> str:
        with self.engine.connect() as db:
            row = db.execute(sa.select(setting_table.c.value).where(setting_table.c.key == key)).first()
        return row[0] if row else default

    # the tests that graded a submission
    def set_graded_with(self, assignment: str, students: list[str], digest: str) -> None:
        for student in students:
            self._upsert(graded_with_table, {"assignment": assignment, "student": student}, {"tests": digest})

    def graded_with(self) -> dict[tuple[str, str], str]:
        """{(assignment, student): digest of the tests that graded it}; absent: graded before
        this was recorded (unknown, never reported as stale)."""
        t = graded_with_table
        with self.engine.connect() as db:
            return {(a, s): d for a, s, d in db.execute(sa.select(t.c.assignment, t.c.student, t.c.tests)).all()}

    # adjustments
    def set_adjustment(self, assignment: str, student: str, cell: str, score: float, comment: str) -> None:
        key = {"assignment": assignment, "student": student, "cell": cell}
        self._upsert(adjustment_table, key, {"score": score, "comment": comment, "updated": datetime.now(UTC)})

    def clear_adjustment(self, assignment: str, student: str, cell: str) -> bool:
        t = adjustment_table
        with self.engine.begin() as db:
            where = (t.c.assignment == assignment) & (t.c.student == student) & (t.c.cell == cell)
            return db.execute(sa.delete(t).where(where)).rowcount > 0

    def adjustments(self) -> dict[tuple[str, str], dict[str, Adjustment]]:
        """{(assignment, student): {cell: Adjustment}}"""
        with self.engine.connect() as db:
            rows = db.execute(sa.select(adjustment_table)).mappings().all()
        found: dict[tuple[str, str], dict[str, Adjustment]] = {}
        for r in rows:
            found.setdefault((r["assignment"], r["student"]), {})[r["cell"]] = Adjustment(
                r["cell"], r["score"], r["comment"]
            )
        return found

    def _upsert(self, table: sa.Table, key: dict, values: dict) -> None:
        where = sa.and_(*(table.c[k] == v for k, v in key.items()))
        with self.engine.begin() as db:
            if db.execute(sa.update(table).where(where).values(**values)).rowcount == 0:
                db.execute(sa.insert(table).values(**key, **values))

    def close(self) -> None:
        self.engine.dispose()
