"""The hidden tests catch real bugs: every exercise, graded through the real autograder, with
(1) its reference solution: full marks; (2) the untouched release: zero; (3) each realistic
wrong implementation of tests/fixtures/<id>/mutants.py (MUTANTS): exactly the listed test cells
fail, and a mutant's "message" (test cell, words) is what the student's feedback says for that
cell; (4) answers of the right types and shapes that do no work (CONSTANT_ANSWERS, every
function returning 0.123): zero on every cell, no point for properties such as "does not change
its input" or "gives the same result twice" (issue 14).
"""

from __future__ import annotations

import copy
import importlib.util
import json

import pytest

from autograder.cli import main
from autograder.records.course import Course
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
FIXTURES = REPO_ROOT / "tests" / "fixtures"
ASSIGNMENTS = sorted(p.parent.name for p in FIXTURES.glob("*/mutants.py"))


def load_mutants(assignment: str):
    spec = importlib.util.spec_from_file_location(f"mutants_{assignment}", FIXTURES / assignment / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_assignment_has_mutants():
    assert ASSIGNMENTS == sorted(p.name for p in (REPO_ROOT / "solutions").iterdir() if p.is_dir())


def mutate(correct: dict, mutant: dict) -> dict:
    nb = copy.deepcopy(correct)
    (cell,) = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == mutant["cell"]]
    source = "".join(cell["source"])
    assert mutant["old"] in source, f"mutant does not apply: {mutant['old']!r} not in cell {mutant['cell']}"
    cell["source"] = source.replace(mutant["old"], mutant["new"], 1)
    return nb


def with_answers(correct: dict, answers: dict[str, str]) -> dict:
    """The correct notebook with whole answer cells replaced ({grade_id: code})."""
    nb = copy.deepcopy(correct)
    cells = {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in nb["cells"]}
    for grade_id, code in answers.items():
        assert cells[grade_id]["metadata"]["nbgrader"].get("solution"), f"{grade_id} is not an answer cell"
        cells[grade_id]["source"] = code
    return nb


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    """Grade correct, blank and every mutant of one assignment as one class."""
    assignment = request.param
    tmp = tmp_path_factory.mktemp(assignment)
    samples = FIXTURES / assignment / "submissions"
    correct = json.loads((samples / "correct.ipynb").read_text())
    module = load_mutants(assignment)
    mutants = module.MUTANTS
    folder = tmp / "class"
    folder.mkdir()
    (folder / "reference.ipynb").write_text(json.dumps(correct))
    (folder / "untouched-release.ipynb").write_text((samples / "blank.ipynb").read_text())
    (folder / "constant-answers.ipynb").write_text(json.dumps(with_answers(correct, module.CONSTANT_ANSWERS)))
    for name, mutant in mutants.items():
        (folder / f"{name}.ipynb").write_text(json.dumps(mutate(correct, mutant)))
    course = Course.locate(root=REPO_ROOT, state=tmp / "state")
    args = ["--state", str(course.state)]
    assert main([*args, "collect", assignment, str(folder)]) == 0
    assert main([*args, "grade", assignment]) == 0
    students = ["reference", "untouched-release", "constant-answers", *mutants]
    with course.gradebook() as gradebook:
        results = {}
        for student in students:
            submission = gradebook.find_submission(assignment, student)
            results[student] = {g.name: (g.score, g.max_score) for nb in submission.notebooks for g in nb.grades}
    messages = {student: feedback_messages(course, assignment, student) for student in students}
    return assignment, mutants, results, messages


def feedback_messages(course: Course, assignment: str, student: str) -> dict[str, str]:
    """{grade_id: "Name: message"} of the errors the autograded notebook records for its test cells."""
    (path,) = (course.autograded_dir / student / assignment).glob("*.ipynb")
    found = {}
    for cell in json.loads(path.read_text())["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        if grade_id and errors:
            found[grade_id] = f"{errors[0]['ename']}: {errors[0]['evalue']}"
    return found


def test_reference_solution_scores_full_marks(graded):
    _, _, results, _ = graded
    assert all(score == points for score, points in results["reference"].values())


def test_untouched_release_scores_zero(graded):
    _, _, results, _ = graded
    assert all(score == 0 for score, _ in results["untouched-release"].values())


def test_answers_that_do_no_work_score_zero_on_every_cell(graded):
    _, _, results, messages = graded
    scores, said = results["constant-answers"], messages["constant-answers"]
    earning = {test: said.get(test) for test, (score, _) in scores.items() if score > 0}
    assert earning == {}, "a constant answer of the right shape earns these cells"


def test_each_mutant_loses_exactly_the_points_it_should(graded):
    _, mutants, results, _ = graded
    wrong = {}
    for name, mutant in mutants.items():
        failing = sorted(test for test, (score, points) in results[name].items() if score < points)
        if failing != sorted(mutant["fails"]):
            wrong[name] = {"expected": sorted(mutant["fails"]), "failing": failing}
        assert mutant["fails"], f"mutant {name} breaks nothing: it is not a mutant"
    assert wrong == {}, json.dumps(wrong, indent=1)


def test_each_mutant_is_told_what_is_wrong(graded):
    """The feedback of a failing cell names the quantity and the likely bug (the mutant's "message")."""
    _, mutants, _, messages = graded
    missing = [name for name, mutant in mutants.items() if "message" not in mutant]
    assert missing == [], f'mutants without a "message" (test cell, words of the expected feedback): {missing}'
    wrong = {}
    for name, mutant in mutants.items():
        test, words = mutant["message"]
        assert test in mutant["fails"], f"{name}: its message is about {test}, a cell it does not fail"
        said = messages[name].get(test, "")
        if words not in said:
            wrong[name] = {"cell": test, "expected words": words, "feedback": said}
    assert wrong == {}, json.dumps(wrong, indent=1)
