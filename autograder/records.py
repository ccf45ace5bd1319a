"""What nbgrader's gradebook does not record: each submission's grading status and its reason.

One row per (assignment, student) in a table of the gradebook's own database, so a status lives
wherever the grades live (SQLite file or PostgreSQL) and a status and a grade never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

COLLECTED, GRADED, FAILED = "collected", "graded", "failed"
MISSING = "missing"  # never stored: a student with no submission for an assignment

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


@dataclass(frozen=True)
class Status:
    status: str
    reason: str = ""


class StatusBook:
    """Read and write submission statuses in the gradebook's database."""

    def __init__(self, db_url: str):
        self.engine = sa.create_engine(db_url)
        _metadata.create_all(self.engine)

    def set(self, assignment: str, student: str, status: str, reason: str = "") -> None:
        row = {"status": status, "reason": reason, "updated": datetime.now(UTC)}
        key = (status_table.c.assignment == assignment) & (status_table.c.student == student)
        with self.engine.begin() as db:
            if db.execute(sa.update(status_table).where(key).values(**row)).rowcount == 0:
                db.execute(sa.insert(status_table).values(assignment=assignment, student=student, **row))

    def get(self, assignment: str, student: str) -> Status | None:
        key = (status_table.c.assignment == assignment) & (status_table.c.student == student)
        with self.engine.connect() as db:
            row = db.execute(sa.select(status_table.c.status, status_table.c.reason).where(key)).first()
        return Status(*row) if row else None

    def all(self) -> dict[tuple[str, str], Status]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(status_table)).mappings().all()
        return {(r["assignment"], r["student"]): Status(r["status"], r["reason"]) for r in rows}

    def close(self) -> None:
        self.engine.dispose()
