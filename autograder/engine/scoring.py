"""Steps 1 and 5 of autograde.py in the gradebook: the student's and the submission's rows, each
grade cell's auto score and each answer's comment (as nbgrader's SaveAutoGrades), the late penalty.

One `Scoring` per worker, on its Autograder's gradebook session; nothing here commits (the
Autograder commits once per submission, or rolls back).
"""

from __future__ import annotations

from pathlib import Path

from nbgrader import utils
from nbgrader.api import BaseCell, Comment, Grade


class UnreadableTimestamp(ValueError):
    """A submission's timestamp.txt that is not a time."""


class Scoring:
    """The gradebook rows one submission's grading writes."""

    def __init__(self, gradebook, late_plugin):
        self.gradebook, self.late_plugin = gradebook, late_plugin

    def record(self, assignment_id, student, submitted: Path):
        """Step 1: the student and the submission (with its time) exist in the gradebook."""
        self.gradebook.update_or_create_student(student)
        stamp = submitted / "timestamp.txt"
        text = stamp.read_text().strip() if stamp.exists() else ""
        if text:
            try:
                timestamp = utils.parse_utc(text)
            except ValueError as error:
                raise UnreadableTimestamp(f"unreadable timestamp.txt: {text[:60]!r}") from error
            return self.gradebook.update_or_create_submission(assignment_id, student, timestamp=timestamp)
        return self.gradebook.update_or_create_submission(assignment_id, student)

    def submitted_notebook(self, notebook, assignment_id, student):
        return self.gradebook.find_submission_notebook(notebook.name, assignment_id, student)

    def score(self, nb, notebook, assignment_id, student) -> None:
        """Step 5, as nbgrader's SaveAutoGrades: a manual score, if any, is kept and flagged for review."""
        submitted = self.submitted_notebook(notebook, assignment_id, student)
        grades = self.by_cell_name(Grade, submitted)
        comments = self.by_cell_name(Comment, submitted)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if utils.is_grade(cell) and grade_id in grades:
                grade = grades[grade_id]
                grade.auto_score, _ = utils.determine_grade(cell)
                grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
            if (utils.is_solution(cell) or utils.is_task(cell)) and grade_id in comments:
                untouched = cell.metadata.nbgrader.get("checksum") == utils.compute_checksum(cell)
                comments[grade_id].auto_comment = "No response." if untouched and not utils.is_task(cell) else None

    def by_cell_name(self, kind, submitted) -> dict:
        """A submitted notebook's Grade or Comment rows by cell name, in one query."""
        rows = (
            self.gradebook.db.query(kind, BaseCell.name)
            .join(BaseCell, BaseCell.id == kind.cell_id)
            .filter(kind.notebook_id == submitted.id)
        )
        return {name: row for row, name in rows}

    def score_missing(self, notebook, assignment_id, student) -> None:
        for grade in self.submitted_notebook(notebook, assignment_id, student).grades:
            grade.auto_score = 0
            grade.needs_manual_grade = False

    def late_penalties(self, notebooks, assignment_id, student, submission) -> None:
        """As nbgrader's AssignLatePenalties, for every notebook, with the configured plugin."""
        self.gradebook.db.flush()
        late = submission.total_seconds_late
        for notebook in notebooks:
            submitted = self.submitted_notebook(notebook, assignment_id, student)
            submitted.late_submission_penalty = None
            if late > 0:
                self.gradebook.db.refresh(submitted)  # its score is computed by the database
                penalty = self.late_plugin.late_submission_penalty(student, submitted.score, late)
                if penalty is not None:
                    submitted.late_submission_penalty = min(max(penalty, 0), submitted.score)
