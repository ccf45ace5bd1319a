"""Exercise notebooks in tests: find cells by grade_id, swap answers, execute, score like nbgrader.

An nbgrader notebook's cells are named by `metadata.nbgrader.grade_id`: answer cells
(`solution: true`), test cells (`grade: true`, worth `points`) and locked read-only cells. The
exercise tests build notebooks from the source notebook (solutions/<id>/<id>.ipynb, hidden tests
included), execute them with a Jupyter kernel ("python3" of this environment, through nbclient)
and score each test cell as nbgrader does (`nbgrader.utils.determine_grade`: an error or any
stderr output costs the cell its points).

The sample submissions in tests/fixtures/<id>/submissions/ are derived from the release and the
source: `sample_submissions(<id>)` says what they must contain (tests/fixtures/refresh_samples.py
writes the same files).
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def source_notebook(assignment: str) -> Path:
    return REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb"


def release_notebook(assignment: str) -> Path:
    return REPO_ROOT / "exercises" / assignment / f"{assignment}.ipynb"


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def text(cell) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def graded_points(nb) -> dict[str, float]:
    """{grade_id: points} of every test cell, in notebook order."""
    return {meta(c)["grade_id"]: float(meta(c)["points"]) for c in nb["cells"] if meta(c).get("grade")}


def strip_markers(source: str) -> str:
    """An answer cell as a student would write it: the solution without nbgrader's marker lines."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in MARKERS)


def solution_answers(source_nb) -> dict[str, str]:
    """{grade_id: code} of every answer cell of a source notebook, markers removed."""
    return {meta(c)["grade_id"]: strip_markers(text(c)) for c in source_nb["cells"] if meta(c).get("solution")}


def with_answers(nb, answers: dict[str, str]):
    """A copy of `nb` whose answer cells named in `answers` hold the given code."""
    nb = copy.deepcopy(nb)
    unknown = set(answers) - {meta(c).get("grade_id") for c in nb["cells"] if meta(c).get("solution")}
    if unknown:
        raise KeyError(f"no answer cell named {sorted(unknown)}")
    for cell in nb["cells"]:
        if meta(cell).get("solution") and meta(cell)["grade_id"] in answers:
            cell["source"] = answers[meta(cell)["grade_id"]]
    return nb


def with_source_tests(student_nb, source_nb):
    """A copy of a student notebook whose locked cells hold the source notebook's text, hidden tests
    included: what nbgrader's OverwriteCells does before grading."""
    originals = {meta(c)["grade_id"]: text(c) for c in source_nb["cells"] if meta(c).get("locked")}
    nb = copy.deepcopy(student_nb)
    for cell in nb["cells"]:
        if meta(cell).get("grade_id") in originals:
            cell["source"] = originals[meta(cell)["grade_id"]]
    return nb


def execute(nb, *, timeout: int = 60, cwd: Path | None = None):
    """A copy of `nb` run top to bottom in a fresh python3 kernel; errors are kept as outputs."""
    from nbclient import NotebookClient

    nb = nbformat.from_dict(copy.deepcopy(nb))
    resources = {"metadata": {"path": str(cwd)}} if cwd else {}
    NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True, resources=resources).execute()
    return nb


def scores(executed_nb) -> dict[str, tuple[float, float]]:
    """{grade_id: (score, max_score)} of every test cell of an executed notebook, as nbgrader scores it."""
    from nbgrader.utils import determine_grade

    return {
        meta(c)["grade_id"]: tuple(float(v) for v in determine_grade(nbformat.from_dict(c)))
        for c in executed_nb["cells"]
        if meta(c).get("grade") and c["cell_type"] == "code"
    }


def failing_tests(executed_nb) -> set[str]:
    return {gid for gid, (score, points) in scores(executed_nb).items() if score < points}


def error_message(executed_nb, grade_id: str) -> str:
    """`Name: message` of the first error a cell raised ('' if none): what feedback shows a student."""
    for cell in executed_nb["cells"]:
        if meta(cell).get("grade_id") == grade_id:
            for output in cell.get("outputs", []):
                if output["output_type"] == "error":
                    return f"{output['ename']}: {output['evalue']}"
    return ""


def fixture_module(assignment: str, name: str):
    """tests/fixtures/<assignment>/<name>.py, imported (fixture folders are not packages)."""
    path = REPO_ROOT / "tests" / "fixtures" / assignment / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_{assignment.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fair_answers(assignment: str) -> dict[str, dict[str, str]]:
    """FAIR of tests/fixtures/<assignment>/fair_answers.py ({} while it has none)."""
    if not (REPO_ROOT / "tests" / "fixtures" / assignment / "fair_answers.py").is_file():
        return {}
    return fixture_module(assignment, "fair_answers").FAIR


def sample_submissions(assignment: str) -> dict[str, str]:
    """{file name: text} of the sample submissions, made from the current release and source.

    - correct.ipynb: the release with every answer cell holding the solution (full marks)
    - blank.ipynb: the untouched release (zero)
    - partial.ipynb: the release with the solution, except the answer cells of
      tests/fixtures/<assignment>/partial_answers.py (ANSWERS: {grade_id: code})
    - malformed.ipynb: the first half of correct.ipynb's text (not JSON)
    - fair/<idiom>.ipynb: for each entry of tests/fixtures/<assignment>/fair_answers.py (FAIR:
      {idiom: {grade_id: code}}), the release with that independently written correct solution
      (answer cells it does not name keep the reference's); each must get full marks
    """
    release = json.loads(release_notebook(assignment).read_text())
    solution = solution_answers(read(source_notebook(assignment)))
    partial = fixture_module(assignment, "partial_answers")
    notebooks = {
        "correct": with_answers(release, solution),
        "blank": release,
        "partial": with_answers(release, {**solution, **partial.ANSWERS}),
    }
    for idiom, answers in fair_answers(assignment).items():
        notebooks[f"fair/{idiom}"] = with_answers(release, {**solution, **answers})
    texts = {f"{name}.ipynb": json.dumps(nb, indent=1, ensure_ascii=False) + "\n" for name, nb in notebooks.items()}
    correct = json.dumps(notebooks["correct"], indent=1)
    texts["malformed.ipynb"] = correct[: len(correct) // 2]
    return texts
