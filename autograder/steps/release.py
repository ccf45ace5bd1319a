"""Step `release`: regenerate exercises/<id>/ from solutions/<id>/ with nbgrader."""

from __future__ import annotations

from pathlib import Path

from autograder.records.course import Course


class ReleaseFailed(RuntimeError):
    pass


def release(course: Course, assignment_ids: list[str] | None = None, *, into: Path | None = None) -> list[str]:
    """Run nbgrader generate_assignment for each assignment (all when none are given).

    Writes exercises/<id>/ (or `into`/<id>/) and registers the assignment, its notebooks and
    its source cells in the gradebook, which grading needs. Returns the ids released; raises
    ReleaseFailed with nbgrader's log if one fails.
    """
    ids = assignment_ids or course.assignment_ids()
    for assignment_id in ids:
        course.source_notebooks(assignment_id)  # unknown ids fail here, by name
    api = course.api(release_dir=into)
    for assignment_id in ids:
        result = api.generate_assignment(assignment_id, force=True, create=True)
        if not result["success"]:
            raise ReleaseFailed(
                f"release of {assignment_id} failed:\n{result.get('log', '')}\n{result.get('error', '')}"
            )
    return ids
