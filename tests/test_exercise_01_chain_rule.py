"""Exercise 01-chain-rule: the solution passes, the release fails, and each realistic bug costs
exactly the test cells of the property it breaks (hidden tests included).

Fast tests read the notebooks; slow ones execute them in a Jupyter kernel (tests/nbtools.py).
A mutant (tests/fixtures/01-chain-rule/mutants.py) is the solution with one realistic bug; it is
run with the source notebook's test cells, hidden tests included, as nbgrader grades a submission.
"""

from __future__ import annotations

import ast
import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests import nbtools
from tests.hostile import CHEAT_HELPERS

ASSIGNMENT = "01-chain-rule"
SOURCE = nbtools.source_notebook(ASSIGNMENT)
RELEASE = nbtools.release_notebook(ASSIGNMENT)
FIXTURES = nbtools.REPO_ROOT / "tests" / "fixtures" / ASSIGNMENT
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())

# The contract the book, the tests and the instructors rely on: answer cell -> signature.
SIGNATURES = {
    "numerical_derivative": "numerical_derivative(f, x, h=1e-05)",
    "numerical_gradient": "numerical_gradient(f, x, h=1e-05)",
    "sigmoid": "sigmoid(x)",
    "sigmoid_local_grad": "sigmoid_local_grad(x)",
    "staged_forward": "staged_forward(x, y)",
    "staged_backward": "staged_backward(cache, dout=1.0)",
    "neuron_forward_backward": "neuron_forward_backward(w, x)",
}
SHORT_NAMES = {"neuron_forward_backward": "neuron"}  # its test cells are neuron_<property>
MUTANTS = nbtools.fixture_module(ASSIGNMENT, "mutants").MUTANTS


@pytest.fixture(scope="module")
def source():
    return nbtools.read(SOURCE)


@pytest.fixture(scope="module")
def points(source) -> dict[str, float]:
    """{grade_id: points} of the test cells."""
    return nbtools.graded_points(source)


# ---------------------------------------------------------------- the notebook's structure


def test_answer_cells_define_exactly_the_contracted_functions(source):
    found = {}
    for cell in source.cells:
        if nbtools.meta(cell).get("solution"):
            body = ast.parse(nbtools.strip_markers(cell.source)).body
            assert [type(node) for node in body] == [ast.FunctionDef], nbtools.meta(cell)["grade_id"]
            found[nbtools.meta(cell)["grade_id"]] = f"{body[0].name}({ast.unparse(body[0].args)})"
    assert found == SIGNATURES


def test_answer_cells_show_signature_and_docstring_outside_the_solution(source):
    for cell in source.cells:
        if nbtools.meta(cell).get("solution"):
            visible = cell.source.split("### BEGIN SOLUTION")[0]
            assert re.match(r"def \w+\(.*\):\n    \"\"\"\n", visible), nbtools.meta(cell)["grade_id"]
            assert "Inputs:" in visible and "Returns" in visible, nbtools.meta(cell)["grade_id"]
            assert cell.source.rstrip().endswith("### END SOLUTION")


def test_test_cells_follow_their_function_and_are_named_function_property(source):
    function = None
    for cell in source.cells:
        m = nbtools.meta(cell)
        if m.get("solution"):
            function = SHORT_NAMES.get(m["grade_id"], m["grade_id"])
        elif m.get("grade"):
            assert re.fullmatch(rf"{function}_[a-z_]+", m["grade_id"]), m["grade_id"]
            assert cell.source.startswith("# Check that "), m["grade_id"]
            assert m["locked"] and not m["solution"] and m["points"] in (1, 2, 3), m["grade_id"]


def test_every_test_cell_calls_its_function_before_any_hidden_test(source):
    function = None
    for cell in source.cells:
        m = nbtools.meta(cell)
        function = m["grade_id"] if m.get("solution") else function
        if m.get("grade"):
            visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
            assert f"{function}(" in visible, f"{m['grade_id']} would pass on the untouched release"


def test_every_test_cell_has_hidden_tests_that_trust_no_replaceable_helper(source):
    forbidden = re.compile(r"allclose|isclose|np\.testing|assert_|math\.isfinite|\bassert\b|\bnumerical_gradient\(")
    for cell in source.cells:
        if nbtools.meta(cell).get("grade"):
            hidden = re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, flags=re.S)
            assert hidden, f"{nbtools.meta(cell)['grade_id']} has no hidden tests"
            if nbtools.meta(cell)["grade_id"].startswith("numerical_gradient"):
                continue  # those cells test numerical_gradient itself
            assert not forbidden.search("".join(hidden)), nbtools.meta(cell)["grade_id"]


def test_grading_helpers_cell_runs_first_is_locked_and_worth_nothing(source):
    first_code = next(cell for cell in source.cells if cell.cell_type == "code")
    m = nbtools.meta(first_code)
    assert (m["grade_id"], m["locked"], m["grade"], m["solution"]) == ("grading_helpers", True, False, False)
    assert "BEGIN" not in first_code.source  # nothing hidden: students see all of it


def test_intro_explains_grading_and_hidden_tests_with_the_right_total(source, points):
    intro = source.cells[0].source
    assert source.cells[0].cell_type == "markdown" and "The chain rule" in intro
    for words in ["hidden tests", "random inputs", "numerical gradient", "1000", "do not change their inputs"]:
        assert words in intro, words
    assert f"{sum(points.values()):g} in all" in intro


def test_points_total_about_twenty(points):
    assert 18 <= sum(points.values()) <= 24


def test_source_notebook_is_stripped_and_normalised(source):
    assert source.metadata.kernelspec.name == "python3"
    keys = {"grade", "grade_id", "locked", "schema_version", "solution", "task"}
    for cell in source.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        m = nbtools.meta(cell)
        assert m, "every cell of the exercise is an nbgrader cell"
        assert set(m) == keys | ({"points"} if m["grade"] else set()) and m["schema_version"] == 3


# ---------------------------------------------------------------- the sample submissions


def test_expected_outcomes_agree_with_the_notebook(points):
    assert EXPECTED["correct"]["score"] == sum(points.values())
    assert sorted(EXPECTED["correct"]["passed"]) == sorted(points)
    assert EXPECTED["blank"]["score"] == 0 and EXPECTED["blank"]["passed"] == []
    for scenario in ("correct", "blank", "partial"):
        assert EXPECTED[scenario]["score"] == sum(points[t] for t in EXPECTED[scenario]["passed"]), scenario


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["correct", "blank", "partial"])
def test_sample_submission_passes_the_expected_test_cells(source, scenario):
    submitted = nbtools.read(FIXTURES / "submissions" / f"{scenario}.ipynb")
    executed = nbtools.execute(nbtools.with_source_tests(submitted, source))
    passing = set(nbtools.scores(executed)) - nbtools.failing_tests(executed)
    assert sorted(passing) == sorted(EXPECTED[scenario]["passed"])


# ---------------------------------------------------------------- solution and release, as nbgrader validates


@pytest.mark.slow
def test_solution_passes_every_test_cell():
    from nbgrader.validator import Validator

    assert Validator().validate(str(SOURCE)) == {}


@pytest.mark.slow
def test_release_fails_every_test_cell(points):
    from nbgrader.validator import Validator

    assert nbtools.graded_points(nbtools.read(RELEASE)) == points
    assert Validator(invert=True).validate(str(RELEASE)) == {}  # no "passed" and no "changed" cell


# ---------------------------------------------------------------- mutants: realistic bugs


def mutated(solution: dict[str, str], mutant: dict) -> dict[str, str]:
    """The solution's answer cells with one mutant's edit applied."""
    code = solution[mutant["cell"]]
    assert mutant["old"] in code, f"the mutant no longer applies: {mutant['old']!r} is not in {mutant['cell']}"
    return {**solution, mutant["cell"]: code.replace(mutant["old"], mutant["new"])}


# Correct implementations written differently from the solution: they must lose nothing.
ALTERNATIVES = {
    "numerical_gradient": """
def numerical_gradient(f, x, h=1e-5):
    x = x.astype(float)
    grad = np.zeros(x.shape)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad
""",
    "sigmoid": """
def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))
""",
    "sigmoid_local_grad": """
def sigmoid_local_grad(x):
    return sigmoid(x) * sigmoid(-np.asarray(x, dtype=float))
""",
    "staged_forward": """
def staged_forward(x, y):
    sigy, sigx = sigmoid(y), sigmoid(x)
    num, den = x + sigy, sigx + (x + y) ** 2
    return num / den, (x, y, sigx, sigy, num, den)
""",
    "staged_backward": """
def staged_backward(cache, dout=1.0):
    x, y, sigx, sigy, num, den = cache
    dnum = dout / den
    dden = -num / den**2 * dout
    dxpy = 2 * (x + y) * dden
    dx = dnum + sigmoid_local_grad(x) * dden + dxpy
    dy = sigmoid_local_grad(y) * dnum + dxpy
    return dx, dy
""",
    "neuron_forward_backward": """
def neuron_forward_backward(w, x):
    z = w[:-1] @ x + w[-1]
    dz = sigmoid_local_grad(z)
    return sigmoid(z), np.concatenate([x, [1.0]]) * dz, w[:-1] * dz
""",
}

# Return values that pretend to be right: subclasses of float and ndarray that equal anything.
LIARS = """
class Liar(float):
    __eq__ = lambda self, other: True
    __ne__ = lambda self, other: False
    __abs__ = lambda self: 0.0
    __sub__ = __rsub__ = lambda self, other: Liar(0.0)
    __hash__ = float.__hash__

class LyingArray(np.ndarray):
    __eq__ = lambda self, other: np.ones(self.shape, bool)
    tolist = lambda self: [0.0] * self.size

def lie(shape=()):
    return Liar(0.0) if shape == () else np.zeros(shape).view(LyingArray)
"""
LIAR_ANSWERS = {
    "numerical_derivative": "def numerical_derivative(f, x, h=1e-5):\n    return lie()",
    "numerical_gradient": "def numerical_gradient(f, x, h=1e-5):\n    return lie(np.shape(x))",
    "sigmoid": "def sigmoid(x):\n    return lie(np.shape(x))",
    "sigmoid_local_grad": "def sigmoid_local_grad(x):\n    return lie(np.shape(x))",
    "staged_forward": "def staged_forward(x, y):\n    return lie(), None",
    "staged_backward": "def staged_backward(cache, dout=1.0):\n    return lie(), lie()",
    "neuron_forward_backward": "def neuron_forward_backward(w, x):\n    return lie(), lie(w.shape), lie(x.shape)",
}
STUBS = {name: f"def {name}(*args, **kwargs):\n    return None" for name in SIGNATURES}
ZEROS = {  # right types and shapes, no work done: properties such as "x unchanged" must not pay
    "numerical_derivative": "def numerical_derivative(f, x, h=1e-5):\n    return 0.0",
    "numerical_gradient": "def numerical_gradient(f, x, h=1e-5):\n    return np.zeros(np.shape(x))",
    "sigmoid": "def sigmoid(x):\n    return np.zeros(np.shape(x)) if np.ndim(x) else 0.0",
    "sigmoid_local_grad": "def sigmoid_local_grad(x):\n    return np.zeros(np.shape(x)) if np.ndim(x) else 0.0",
    "staged_forward": "def staged_forward(x, y):\n    return 0.0, None",
    "staged_backward": "def staged_backward(cache, dout=1.0):\n    return 0.0, 0.0",
    "neuron_forward_backward": "def neuron_forward_backward(w, x):\n    return 0.0, 0.0 * w, 0.0 * x",
}


def run_with_answers(source, answers: dict[str, str], *, prelude: str = ""):
    """Execute the source notebook (hidden tests included) with these answer cells; `prelude` is
    student code put at the top of the first answer cell (after the grading helpers)."""
    nb = nbtools.with_answers(source, answers)
    if prelude:
        first = next(c for c in nb.cells if nbtools.meta(c).get("solution"))
        first.source = prelude + "\n\n" + first.source
    return nbtools.execute(nb)


def test_every_function_has_mutants_naming_real_test_cells(points):
    assert {mutant["cell"] for mutant in MUTANTS.values()} == set(SIGNATURES)
    for name, mutant in MUTANTS.items():
        assert mutant["fails"] and set(mutant["fails"]) <= set(points), name


@pytest.fixture(scope="module")
def mutant_runs(source):
    """{mutant name: executed notebook}, two kernels at a time."""
    solution = nbtools.solution_answers(source)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(run_with_answers, source, mutated(solution, m)) for name, m in MUTANTS.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_fails_exactly_the_test_cells_of_the_broken_property(mutant_runs, name):
    executed = mutant_runs[name]
    failing = nbtools.failing_tests(executed)
    assert MUTANTS[name]["fails"], "a mutant must break something"
    assert failing == set(MUTANTS[name]["fails"]), {test: nbtools.error_message(executed, test) for test in failing}


@pytest.mark.slow
def test_failure_messages_diagnose_without_giving_the_answer(mutant_runs):
    messages = {
        ("derivative-forward-difference", "numerical_derivative_central"): "step h to both sides of x",
        ("gradient-nudges-the-callers-array-for-good", "numerical_gradient_no_mutation"): "changed its input x",
        ("gradient-restores-the-callers-array-by-arithmetic", "numerical_gradient_no_mutation"): "rounding error",
        ("gradient-leaves-entries-nudged", "numerical_gradient_central"): "put it back before the next",
        ("sigmoid-overflows", "sigmoid_stable"): "overflowed: never compute exp of a large positive number",
        ("local-grad-is-sigma", "sigmoid_local_grad_values"): "(expected 0.25, got 0.5): it is the slope",
        ("x-fork-overwritten", "staged_backward_dx"): "dx at (3, -4) is off (expected 2.05957, got 0.476383): x feeds",
        ("y-fork-overwritten", "staged_backward_dy"): "add both paths into dy with +=",
        ("upstream-gradient-ignored", "staged_backward_dout"): "start the backward pass from dout",
        ("backward-accumulates-into-the-cache", "staged_backward_repeatable"): "changed its cache",
        ("bias-gradient-forgotten", "neuron_dw"): "dw has shape (2,), expected (3,): dw has one entry per weight",
        ("dx-includes-the-bias", "neuron_dx"): "dx has shape (3,), expected (2,)",
        ("neuron-scales-w-in-place", "neuron_forward"): "changed its input w or x",
    }
    for (name, test), words in messages.items():
        message = nbtools.error_message(mutant_runs[name], test)
        assert message.startswith("AssertionError: ") and words in message, (name, test, message)


@pytest.mark.slow
def test_flipped_sign_is_reported_as_such(source):
    answers = nbtools.solution_answers(source)
    answers["staged_backward"] = answers["staged_backward"].replace("    return dx, dy", "    return -dx, -dy")
    executed = run_with_answers(source, answers)
    assert "the sign is flipped" in nbtools.error_message(executed, "staged_backward_dx")


@pytest.mark.slow
def test_correct_alternative_implementations_lose_nothing(source):
    executed = run_with_answers(source, {**nbtools.solution_answers(source), **ALTERNATIVES})
    assert nbtools.failing_tests(executed) == set(), {
        test: nbtools.error_message(executed, test) for test in nbtools.failing_tests(executed)
    }


@pytest.mark.slow
@pytest.mark.parametrize("cheat", ["lying-return-values", "stubs-with-patched-numpy-and-builtins", "zeros"])
def test_cheats_that_need_no_sandbox_fail_every_test_cell(source, points, cheat):
    answers, prelude = {
        "lying-return-values": (LIAR_ANSWERS, LIARS),
        "stubs-with-patched-numpy-and-builtins": (STUBS, CHEAT_HELPERS),
        "zeros": (ZEROS, ""),
    }[cheat]
    assert nbtools.failing_tests(run_with_answers(source, answers, prelude=prelude)) == set(points)
