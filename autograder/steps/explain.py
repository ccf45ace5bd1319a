"""Step `explain ID STUDENT`: a regrade request answered in a minute.

For each test cell of the student's graded submission: the points (with an instructor's
adjustment and its comment), the message the student saw (the same one-line message as the
feedback page, after the hidden-test scrubbing), and what the test checks, in public words.

The public description of a test cell is its grade id and its first comment line ("Check that
..."), read from the *release* (exercises/), which never holds a hidden test; from the source we
take only whether the cell also has hidden tests, never their code or their inputs.
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.records.course import Course
from autograder.records.gradebook import FAILED, GRADED, MISSING, WHOLE
from autograder.steps.rows import grade_rows, score_text

HIDDEN_MARK = "BEGIN HIDDEN TESTS"


def descriptions(course: Course, assignment_id: str) -> dict[str, tuple[str, bool]]:
    """{grade_id: (public description, has hidden tests)} of every test cell, in notebook order."""
    found = {}
    for source in course.source_notebooks(assignment_id):
        hidden = {gid: HIDDEN_MARK in text for gid, text in _test_cells(source)}
        release = course.release_dir / assignment_id / source.name
        public = dict(_test_cells(release)) if release.is_file() else {}
        for gid in hidden:
            found[gid] = (_first_comment(public.get(gid, "")), hidden[gid])
    return found


def _test_cells(path: Path):
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            yield meta.get("grade_id"), "".join(source) if isinstance(source, list) else source


def _first_comment(source: str) -> str:
    for line in source.splitlines():
        if line.strip().startswith("#") and HIDDEN_MARK not in line:
            return line.strip().lstrip("#").strip()
    return ""


def explain(course: Course, assignment_id: str, student: str) -> str:
    notebooks = course.source_notebooks(assignment_id)
    rows, tests = grade_rows(course, [assignment_id])
    row = next((r for r in rows if r.student == student), None)
    if row is None or row.status == MISSING:
        known = sorted(r.student for r in rows if r.status != MISSING)
        raise LookupError(
            f"no submission of {assignment_id} for {student!r}"
            + (f"; students with one: {', '.join(known[:10])}{' ...' if len(known) > 10 else ''}" if known else "")
        )
    head = f"{assignment_id}, {row.name + ' (' + student + ')' if row.name else student}: {row.status}"
    lines = [head]
    if row.score is not None:
        lines[0] += f", score {score_text(row.score)} of {score_text(row.max_score)}"
        if row.late_penalty:
            lines[0] += f", late penalty {score_text(row.late_penalty)}, final {score_text(row.final_score)}"
    if row.status == FAILED:
        lines.append(f"  could not be graded: {row.reason}")
    lines += [f"  note: {note}" for note in row.notes]
    whole = row.adjustments.get(WHOLE)
    if whole:
        lines.append(f"  total set by hand to {score_text(whole.score)}: {whole.comment}")
    if row.status != GRADED:
        return "\n".join(lines)
    messages = _messages(course.autograded_dir / student / assignment_id / notebooks[0].name, tests[assignment_id])
    about = descriptions(course, assignment_id)
    width = max(len(gid) for gid in tests[assignment_id])
    for gid, points in tests[assignment_id].items():
        got = row.tests.get(gid) or 0
        mark = "pass" if got == points else "FAIL"
        description, hidden = about.get(gid, ("", False))
        kind = "visible and hidden tests" if hidden else "visible tests only"
        lines.append(f"  {mark} {gid:<{width}}  {score_text(got)}/{score_text(points)}  ({kind})")
        lines.append(f"       checks: {description or '(no description)'}")
        adjustment = row.adjustments.get(gid)
        if adjustment:
            auto = score_text(row.auto_tests.get(gid) or 0)
            lines.append(f"       set by hand (autograde gave {auto}): {adjustment.comment}")
        if messages.get(gid):
            lines.append(f"       message: {messages[gid]}")
    return "\n".join(lines)


def _messages(notebook: Path, cells: dict[str, float]) -> dict[str, str]:
    """The one-line message of each failing test cell, as the feedback page shows it."""
    from autograder.steps.feedback import nbgrader_meta, student_view

    if not notebook.is_file():
        return {}
    found = {}
    for cell in student_view(notebook).cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in cells:
            found[gid] = "; ".join(
                o.get("traceback", [""])[0] for o in cell.get("outputs", []) if o.get("output_type") == "error"
            )
    return found
