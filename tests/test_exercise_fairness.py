"""Grades measure the mathematics in both directions, for every exercise, through the real CLI:

- **correct code in any reasonable idiom earns everything**: the independently written solutions of
  tests/fixtures/<id>/fair_answers.py (loops against vectorized code, lists against arrays,
  classes against closures, ...), and the reference solution with its every return value
  handed back in another form (IDIOMS below: a list for a tuple, numpy scalars for Python
  ones, 0-d arrays, object arrays of floats), each get full marks;
- **worthless code earns nothing**: the answers of WORTHLESS in tests/fixtures/<id>/mutants.py
  ({attack: {grade_id: code}}, put into the untouched release: answer cells they do not name
  keep raising NotImplementedError) score 0 on every cell, like the blank release. They are
  the attacks of issue 20 written afresh: infinite or all-zero values fed back where a test
  compares a result with another of the student's own, gates that return zeros chained
  through each other, a backward pass that echoes its cache.
"""

from __future__ import annotations

import ast
import json

import pytest

from autograder.cli import main
from autograder.records.course import Course
from tests import nbtools
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
FIXTURES = REPO_ROOT / "tests" / "fixtures"
ASSIGNMENTS = sorted(p.name for p in (REPO_ROOT / "solutions").iterdir() if p.is_dir())

# How the reference's return values are handed back, per idiom: a function of (value, np) applied
# to the value a public function returns and to the items of a returned tuple, list or dict (not
# deeper: a cache stays as the reference built it). Only the outermost call converts, so the
# reference's own calls between its functions see what they always saw.
IDIOMS = {
    "tuple-list-swapped": (
        "lambda v, np, top: list(v) if type(v) is tuple else tuple(v) if type(v) is list and top else v"
    ),
    "numpy-scalars": (
        "lambda v, np, top: np.float64(v) if type(v) is float else np.int64(v) if type(v) is int "
        "else float(v) if type(v) is np.float64 else v"
    ),
    "zero-d-arrays": "lambda v, np, top: np.array(v) if type(v) in (float, np.float64) else v",
    "object-arrays": ("lambda v, np, top: v.astype(object) if type(v) is np.ndarray and v.dtype.kind == 'f' else v"),
}

WRAPPER = """import functools as _idiom_functools
import numpy as _idiom_np

_idiom_depth = 0


def _idiom_convert(value, _change={change}):
    value = _change(value, _idiom_np, True)
    if type(value) in (tuple, list):
        return type(value)(_change(item, _idiom_np, False) for item in value)
    if type(value) is dict:
        return {{key: _change(item, _idiom_np, False) for key, item in value.items()}}
    return value


def _idiom_wrap(function):
    @_idiom_functools.wraps(function)
    def wrapped(*args, **kwargs):
        global _idiom_depth
        _idiom_depth += 1
        try:
            result = function(*args, **kwargs)
        finally:
            _idiom_depth -= 1
        return _idiom_convert(result) if _idiom_depth == 0 else result

    return wrapped
"""


def functions_defined(code: str) -> list[str]:
    """The top-level functions of an answer cell (classes are left as they are)."""
    return [node.name for node in ast.parse(code).body if isinstance(node, ast.FunctionDef)]


def in_idiom(correct: dict, change: str) -> dict:
    """The correct notebook with a student cell after each answer cell that wraps its functions."""
    nb = json.loads(json.dumps(correct))
    cells = []
    for cell in nb["cells"]:
        cells.append(cell)
        meta = nbtools.meta(cell)
        if meta.get("solution") and cell["cell_type"] == "code":
            names = functions_defined(nbtools.text(cell))
            if names:
                wrap = "".join(f"{name} = _idiom_wrap({name})\n" for name in names)
                source = WRAPPER.format(change=change) + "\n\n" + wrap
                cells.append({"cell_type": "code", "execution_count": None, "id": f"idiom-{meta['grade_id']}",
                              "metadata": {}, "outputs": [], "source": source})  # fmt: skip
    nb["cells"] = cells
    return nb


def worthless_answers(assignment: str) -> dict[str, dict[str, str]]:
    return getattr(nbtools.fixture_module(assignment, "mutants"), "WORTHLESS", {})


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    """Grade the reference, the blank, the fair solutions, the idioms and the worthless answers as one class."""
    assignment = request.param
    tmp = tmp_path_factory.mktemp(assignment)
    samples = FIXTURES / assignment / "submissions"
    correct = json.loads((samples / "correct.ipynb").read_text())
    blank = json.loads((samples / "blank.ipynb").read_text())
    folder = tmp / "class"
    folder.mkdir()
    students = {"reference": correct, "untouched-release": blank}
    for path in sorted(samples.glob("fair/*.ipynb")):
        students[f"fair-{path.stem}"] = json.loads(path.read_text())
    for idiom, change in IDIOMS.items():
        students[f"idiom-{idiom}"] = in_idiom(correct, change)
    for attack, answers in worthless_answers(assignment).items():
        students[f"worthless-{attack}"] = nbtools.with_answers(blank, answers)
    for student, nb in students.items():
        (folder / f"{student}.ipynb").write_text(json.dumps(nb))
    course = Course.locate(root=REPO_ROOT, state=tmp / "state")
    args = ["--state", str(course.state)]
    assert main([*args, "collect", assignment, str(folder)]) == 0
    main([*args, "grade", assignment])
    results, messages = {}, {}
    with course.gradebook() as gradebook:
        for student in students:
            submission = gradebook.find_submission(assignment, student)
            results[student] = {g.name: (g.score, g.max_score) for nb in submission.notebooks for g in nb.grades}
    for student in students:
        messages[student] = _messages(course, assignment, student)
    return assignment, results, messages


def _messages(course: Course, assignment: str, student: str) -> dict[str, str]:
    found = {}
    for path in (course.autograded_dir / student / assignment).glob("*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
            if nbtools.meta(cell).get("grade_id") and errors:
                found[nbtools.meta(cell)["grade_id"]] = f"{errors[0]['ename']}: {errors[0]['evalue']}"
    return found


def _lost(results, messages, student) -> dict[str, str]:
    return {t: messages[student].get(t, "") for t, (score, points) in results[student].items() if score < points}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_has_three_independent_correct_solutions(assignment):
    assert len(nbtools.fair_answers(assignment)) >= 3, f"tests/fixtures/{assignment}/fair_answers.py needs 3 idioms"


def test_independent_correct_solutions_score_full_marks(graded):
    _, results, messages = graded
    lost = {s: _lost(results, messages, s) for s in results if s.startswith("fair-")}
    assert {s: v for s, v in lost.items() if v} == {}


@pytest.mark.parametrize("idiom", IDIOMS)
def test_the_reference_in_another_idiom_scores_full_marks(graded, idiom):
    _, results, messages = graded
    assert _lost(results, messages, f"idiom-{idiom}") == {}


def test_worthless_answers_score_zero_on_every_cell(graded):
    assignment, results, messages = graded
    assert all(score == 0 for score, _ in results["untouched-release"].values())
    earning = {
        s: {t: messages[s].get(t, "(passed)") for t, (score, _) in scores.items() if score > 0}
        for s, scores in results.items()
        if s.startswith("worthless-")
    }
    assert {s: e for s, e in earning.items() if e} == {}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_has_worthless_attacks(assignment):
    assert worthless_answers(assignment), f"tests/fixtures/{assignment}/mutants.py needs WORTHLESS attacks"
