"""Step `feedback`: per-student HTML feedback with nbgrader's generate_feedback.

Hidden tests' source is removed from the feedback (ClearHiddenTests); only graded submissions
get feedback.
"""

from __future__ import annotations

from autograder.course import Course
from autograder.grade import submitted_students
from autograder.records import GRADED


def feedback(course: Course, assignment_id: str, students: list[str] | None = None, *, progress=print) -> dict:
    """Generate feedback for every graded student; returns {student: path or error}."""
    course.source_notebooks(assignment_id)
    statuses = course.statuses()
    api = course.api()
    results = {}
    for student in students or submitted_students(course, assignment_id):
        status = statuses.get(assignment_id, student)
        if not status or status.status != GRADED:
            progress(f"{student}: no feedback ({status.status if status else 'not collected'})")
            continue
        result = api.generate_feedback(assignment_id, student, force=True)
        target = course.feedback_dir / student / assignment_id
        results[student] = target if result["success"] else result.get("log", "") + result.get("error", "")
        progress(f"{student}: {'feedback in ' + str(target) if result['success'] else 'feedback FAILED'}")
    statuses.close()
    return results
