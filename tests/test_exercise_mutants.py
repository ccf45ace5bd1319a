"""The hidden tests catch real bugs: every exercise, graded through the real autograder, with
(1) its reference solution: full marks; (2) the untouched release: zero; (3) each realistic
wrong implementation of tests/fixtures/<id>/mutants.py: exactly the listed test cells fail.
"""

from __future__ import annotations

import copy
import importlib.util
import json

import pytest

from autograder.cli import main
from autograder.course import Course
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
FIXTURES = REPO_ROOT / "tests" / "fixtures"
ASSIGNMENTS = sorted(p.parent.name for p in FIXTURES.glob("*/mutants.py"))


def load_mutants(assignment: str) -> dict:
    spec = importlib.util.spec_from_file_location(f"mutants_{assignment}", FIXTURES / assignment / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MUTANTS


def test_every_assignment_has_mutants():
    assert ASSIGNMENTS == sorted(p.name for p in (REPO_ROOT / "solutions").iterdir() if p.is_dir())


def mutate(correct: dict, mutant: dict) -> dict:
    nb = copy.deepcopy(correct)
    (cell,) = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == mutant["cell"]]
    source = "".join(cell["source"])
    assert mutant["old"] in source, f"mutant does not apply: {mutant['old']!r} not in cell {mutant['cell']}"
    cell["source"] = source.replace(mutant["old"], mutant["new"], 1)
    return nb


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    """Grade correct, blank and every mutant of one assignment as one class."""
    assignment = request.param
    tmp = tmp_path_factory.mktemp(assignment)
    samples = FIXTURES / assignment / "submissions"
    correct = json.loads((samples / "correct.ipynb").read_text())
    mutants = load_mutants(assignment)
    folder = tmp / "class"
    folder.mkdir()
    (folder / "reference.ipynb").write_text(json.dumps(correct))
    (folder / "untouched-release.ipynb").write_text((samples / "blank.ipynb").read_text())
    for name, mutant in mutants.items():
        (folder / f"{name}.ipynb").write_text(json.dumps(mutate(correct, mutant)))
    course = Course.locate(root=REPO_ROOT, state=tmp / "state")
    args = ["--state", str(course.state)]
    assert main([*args, "collect", assignment, str(folder)]) == 0
    assert main([*args, "grade", assignment]) == 0
    with course.gradebook() as gradebook:
        results = {}
        for student in ["reference", "untouched-release", *mutants]:
            submission = gradebook.find_submission(assignment, student)
            results[student] = {g.name: (g.score, g.max_score) for nb in submission.notebooks for g in nb.grades}
    return assignment, mutants, results


def test_reference_solution_scores_full_marks(graded):
    _, _, results = graded
    assert all(score == points for score, points in results["reference"].values())


def test_untouched_release_scores_zero(graded):
    _, _, results = graded
    assert all(score == 0 for score, _ in results["untouched-release"].values())


def test_each_mutant_loses_exactly_the_points_it_should(graded):
    _, mutants, results = graded
    wrong = {}
    for name, mutant in mutants.items():
        failing = sorted(test for test, (score, points) in results[name].items() if score < points)
        if failing != sorted(mutant["fails"]):
            wrong[name] = {"expected": sorted(mutant["fails"]), "failing": failing}
        assert mutant["fails"], f"mutant {name} breaks nothing: it is not a mutant"
    assert wrong == {}, json.dumps(wrong, indent=1)
