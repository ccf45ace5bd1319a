"""Grade every fixture submission through the CLI and dump what grading decided, as JSON.

    .venv/bin/python tools/grade_snapshot.py OUT.json [ID ...]

For each assignment (default: every one with `tests/fixtures/ID/submissions/`), every notebook
under that folder (subfolders too, `fair/x.ipynb` becomes student `fair-x`) is collected and graded
with `python -m autograder` in a scratch state; the dump holds per student the status and its
reason, the score and max score of every graded cell, the outputs of every code cell of the
autograded notebook (text, errors: what the feedback shows), and the CSV of `export`.

Made to show that a change of the grader's code (issue 27: its layout) changes no grade: dump
before, dump after, and `diff` the two files. It reads the gradebook with nbgrader's own API and
calls the grader only through its command line, so it does not depend on the grader's modules.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def run(state: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "autograder", "--root", str(ROOT), "--state", str(state), *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def outputs_of(path: Path) -> dict[str, list]:
    nb = json.loads(path.read_text())
    found = {}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        name = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell-{i}"
        shown = []
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                shown.append({"stream": output["name"], "text": "".join(output["text"])})
            elif output["output_type"] == "error":
                shown.append({"error": output["ename"], "value": output["evalue"],
                              "traceback": output.get("traceback", [])})  # fmt: skip
            else:
                shown.append({output["output_type"]: output.get("data", {}).get("text/plain", "")})
        found[name] = shown
    return found


def snapshot(assignment: str) -> dict:
    samples = FIXTURES / assignment / "submissions"
    with tempfile.TemporaryDirectory(prefix="grade-snapshot-") as tmp:
        folder, state = Path(tmp) / "class", Path(tmp) / "state"
        folder.mkdir()
        for path in sorted(samples.rglob("*.ipynb")):
            student = "-".join(path.relative_to(samples).with_suffix("").parts)
            shutil.copyfile(path, folder / f"{student}.ipynb")
            os.utime(folder / f"{student}.ipynb", (1_700_000_000, 1_700_000_000))  # the submission time
        collected = run(state, "collect", assignment, str(folder), "--lms", "plain")
        graded = run(state, "grade", assignment)
        exported = run(state, "export", "--out", str(Path(tmp) / "grades.csv"), "--assignment", assignment)
        db = sqlite3.connect(state / "gradebook.db")
        statuses = {s: [status, reason] for s, status, reason in db.execute(
            "SELECT student, status, reason FROM autograder_status WHERE assignment = ?", (assignment,))}  # fmt: skip
        db.close()
        students = {}
        for student in sorted(p.stem for p in folder.glob("*.ipynb")):
            autograded = state / "autograded" / student / assignment
            students[student] = {
                "status": statuses.get(student),
                "scores": _scores(state, assignment, student),
                "outputs": {p.name: outputs_of(p) for p in sorted(autograded.glob("*.ipynb"))},
            }
        csv = (Path(tmp) / "grades.csv").read_text() if (Path(tmp) / "grades.csv").exists() else None
        return {
            "collect": [collected.returncode, collected.stdout],
            "grade": [graded.returncode, graded.stdout.splitlines()[-2:]],
            "export": [exported.returncode, csv],
            "students": students,
        }


def _scores(state: Path, assignment: str, student: str) -> dict:
    db = sqlite3.connect(state / "gradebook.db")
    rows = db.execute(
        """SELECT base_cell.name, grade.auto_score, grade.manual_score, grade_cells.max_score
           FROM grade JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id
           JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id
           JOIN assignment ON submitted_assignment.assignment_id = assignment.id
           JOIN base_cell ON grade.cell_id = base_cell.id
           JOIN grade_cells ON grade_cells.id = base_cell.id
           WHERE assignment.name = ? AND submitted_assignment.student_id = ? ORDER BY base_cell.name""",
        (assignment, student),
    ).fetchall()
    db.close()
    return {name: [auto, manual, top] for name, auto, manual, top in rows}


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    out, ids = Path(argv[0]), argv[1:]
    ids = ids or sorted(p.parent.name for p in FIXTURES.glob("*/submissions"))
    result = {}
    for assignment in ids:
        print(f"grading the fixtures of {assignment}", file=sys.stderr)
        result[assignment] = snapshot(assignment)
    out.write_text(json.dumps(result, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
