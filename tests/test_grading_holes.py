"""The judge's holes of issue 20, each attacked afresh through the real CLI.

Every class holds the exercise's blank release (0) and its reference (full marks) beside the
attacks, graded together with `python -m autograder collect/grade/export/feedback`:

- 05: `ssr_gradients` writes objects of its own into the test's `params` dict (every operation on
  them answers itself, float() is 0.0, == is True), so that expectations computed from that dict
  are the student's. The write-back is refused: the blank's score.
- 08: `relative_error` raises SystemExit inside a test's `except Exception`, so that the test's
  `_form` stays unbound and the student's `_form` (zeros) would be read instead. The test's
  handler sees the error, `_form` is the judge's: the blank's score.
- 08: a `grad_check` that keeps the test's function and calls it from a later cell with 31 MB
  arrays: the call is refused (the function expired with its test), the judge stays small.
- 01: a 64 MB frame `[{},{},...]` written straight to the judge's socket: refused before parsing.
- 01: `print("\\ud800")`, NUL and a 100,000-character line in the output: `graded`, shown escaped.
- 01: answers holding nbgrader's markers as text (an unmatched `### BEGIN HIDDEN TESTS`,
  `### BEGIN SOLUTION`, `### END HIDDEN TESTS`): full marks, and a feedback page for everyone.
"""

from __future__ import annotations

import copy
import csv
import json
import shutil
import time

import pytest

from autograder.cli import main
from autograder.records.course import Course
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow

LIMITS = """
c = get_config()
c.SandboxExecute.cell_timeout = 10
c.SandboxExecute.wall_time = 60
c.SandboxExecute.cpu_time = 60
"""
JUDGE_LIMIT = 1536 * 1024**2  # Limits.judge_memory_bytes, the judge's address space


def run(course: Course, *args) -> int:
    base = ["--root", str(course.root), "--state", str(course.state), "--db-url", course.db_url]
    if course.extra_config:
        base += ["--config", str(course.extra_config)]
    return main([*base, *args])


def samples(assignment: str) -> dict:
    folder = REPO_ROOT / "tests" / "fixtures" / assignment / "submissions"
    return {name: json.loads((folder / f"{name}.ipynb").read_text()) for name in ("blank", "correct")}


def answers(nb) -> list:
    return [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]


def source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def with_last_answer(nb, code: str):
    """`code` appended to the last answer cell (it replaces what the student defined before)."""
    nb = copy.deepcopy(nb)
    cell = answers(nb)[-1]
    cell["source"] = source(cell) + "\n\n" + code + "\n"
    return nb


def with_answer_of(nb, name: str, code: str):
    """`code` appended to the answer cell that defines `name` (the tests of `name` follow that cell)."""
    nb = copy.deepcopy(nb)
    (cell,) = [c for c in answers(nb) if f"def {name}(" in source(c)]
    cell["source"] = source(cell) + "\n\n" + code + "\n"
    return nb


def with_cell_at_end(nb, code: str):
    nb = copy.deepcopy(nb)
    nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": code})
    return nb


def grade_class(tmp_path, assignment: str, notebooks: dict) -> tuple[Course, dict, dict]:
    """Collect, grade (with --timings) and export one class; (course, rows by student, timings)."""
    (tmp_path / "limits.py").write_text(LIMITS)
    course = Course.locate(root=REPO_ROOT, state=tmp_path / "state", config=tmp_path / "limits.py")
    folder = tmp_path / "class"
    folder.mkdir()
    for name, nb in notebooks.items():
        (folder / f"{name}.ipynb").write_text(json.dumps(nb, indent=1))
    assert run(course, "collect", assignment, str(folder)) == 0
    timings = tmp_path / "timings.json"
    assert run(course, "grade", assignment, "--workers", "2", "--timings", str(timings)) == 0
    out = tmp_path / f"grades-{time.monotonic_ns()}.csv"
    assert run(course, "export", "--out", str(out)) == 0
    with open(out, newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f) if r["assignment"] == assignment}
    return course, rows, json.loads(timings.read_text())


def graded_notebook(course: Course, student: str, assignment: str) -> dict:
    return json.loads(next((course.autograded_dir / student / assignment).glob("*.ipynb")).read_text())


def assert_reference_and_blank(rows: dict) -> None:
    assert rows["blank"]["status"] == rows["correct"]["status"] == "graded"
    assert float(rows["blank"]["score"]) == 0
    assert float(rows["correct"]["score"]) == float(rows["correct"]["max_score"]) > 0


# ---------------------------------------------------------------------------------------------
# 05: student objects written into the test's own dict

ECHO = '''
class _Echo:
    """Every operation answers itself; float() is 0.0; == is True."""
    def _same(self, *args, **kwargs):
        return self
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _same
    __pow__ = __rpow__ = __neg__ = __pos__ = __abs__ = __matmul__ = __rmatmul__ = __call__ = _same
    __getattr__ = __getitem__ = _same
    def __float__(self):
        return 0.0
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    __hash__ = object.__hash__
    def __bool__(self):
        return True


def ssr_gradients(x, observed, params):
    for _name in list(params):
        params[_name] = _Echo()
    return {_name: 0.0 for _name in params}
'''


@pytest.fixture(scope="module")
def class_05(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("holes-05")
    nbs = samples("05-gradient-descent-b3")
    nbs["writes-objects-into-params"] = with_answer_of(nbs["blank"], "ssr_gradients", ECHO)
    return grade_class(tmp, "05-gradient-descent-b3", nbs)


def test_objects_written_into_a_tests_dict_earn_nothing(class_05):
    course, rows, _ = class_05
    assert_reference_and_blank(rows)
    attack = rows["writes-objects-into-params"]
    assert attack["status"] == "graded", attack
    assert attack["score"] == rows["blank"]["score"], attack
    cells = graded_notebook(course, "writes-objects-into-params", "05-gradient-descent-b3")["cells"]
    test = next(c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == "ssr_gradients_values")
    errors = [o for o in test["outputs"] if o["output_type"] == "error"]
    assert errors and "put one of its own objects into the test's dict argument" in errors[0]["evalue"]


# ---------------------------------------------------------------------------------------------
# 08: a test's own name answered by the student, after a BaseException; a retained callback flood

FORM_RELATIVE = '''
import numpy as np


def relative_error(a, n, tiny=1e-12):
    raise SystemExit(0)


_form = lambda a, n: np.zeros(np.shape(a))
'''
FORM_CHECK = '''
def grad_check(f, x, analytic, h=None):
    return np.zeros(np.shape(x))
'''

KEEP = '''
import numpy as np
_kept = []


def grad_check(f, x, analytic, h=None):
    _kept.append(f)
    return np.zeros(np.shape(x))
'''

FLOOD = '''
_big = np.ones(8 * 1024**2 // 8)  # 8 MB a call (31 MB in the issue; refused, the size only costs time)
_refused = 0
for _ in range(1):
    for _f in _kept:
        try:
            _f(_big)
        except Exception as _error:
            _refused += 1
print("refused calls:", _refused, "of", len(_kept))
'''


@pytest.fixture(scope="module")
def class_08(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("holes-08")
    nbs = samples("08-gradient-checking")
    form = with_answer_of(nbs["blank"], "relative_error", FORM_RELATIVE)
    nbs["system-exit-and-own-form"] = with_answer_of(form, "grad_check", FORM_CHECK)
    nbs["keeps-the-tests-function"] = with_cell_at_end(with_answer_of(nbs["blank"], "grad_check", KEEP), FLOOD)
    return grade_class(tmp, "08-gradient-checking", nbs)


def test_a_tests_name_is_never_the_students_even_after_a_base_exception(class_08):
    _, rows, _ = class_08
    assert_reference_and_blank(rows)
    attack = rows["system-exit-and-own-form"]
    assert attack["status"] == "graded", attack
    assert attack["score"] == rows["blank"]["score"], attack


def test_a_kept_test_function_expires_and_the_judge_stays_small(class_08):
    course, rows, timings = class_08
    attack = rows["keeps-the-tests-function"]
    assert attack["status"] == "graded", attack
    assert attack["score"] == rows["blank"]["score"], attack
    cells = graded_notebook(course, "keeps-the-tests-function", "08-gradient-checking")["cells"]
    printed = "".join(o.get("text", "") for o in cells[-1]["outputs"])
    kept = int(printed.split(" of ")[1])
    assert kept > 0 and f"refused calls: {kept} of {kept}" in printed, printed
    # without expiry, every call kept its 31 MB array in the judge: gigabytes
    assert timings["keeps-the-tests-function"]["judge_peak_bytes"] < 400 * 1024**2, timings
    assert timings["keeps-the-tests-function"]["judge_peak_bytes"] < JUDGE_LIMIT


# ---------------------------------------------------------------------------------------------
# 01: a 64 MB frame; text that is not text; nbgrader's markers in an answer

FRAME = '''
def _flood_the_socket():
    import os, struct, time
    body = b"[" + b"{}," * ((64 * 1024**2 - 8) // 3) + b"{}]"
    for fd in range(3, 64):
        try:
            os.write(fd, struct.pack(">I", len(body)) + body)
        except OSError:
            pass
    time.sleep(1000)


def sigmoid(x):
    _flood_the_socket()
'''

TEXT = 'print("lone \\ud800 surrogate, nul \\x00 byte, escape \\x1b[31m")\nprint("x" * 100_000)\n'

MARKERS = '''
def _markers():
    """### BEGIN SOLUTION"""
    return "### BEGIN HIDDEN TESTS" in "a note"  # ### END SOLUTION
# ### END HIDDEN TESTS
# ### BEGIN HIDDEN TESTS
'''


@pytest.fixture(scope="module")
def class_01(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("holes-01")
    nbs = samples("01-chain-rule")
    nbs["frame-of-64-mb"] = with_answer_of(nbs["blank"], "sigmoid", FRAME)
    nbs["prints-a-lone-surrogate"] = with_cell_at_end(nbs["correct"], TEXT)
    nbs["markers-in-an-answer"] = with_last_answer(nbs["correct"], MARKERS)
    nbs["markers-in-a-blank-answer"] = with_last_answer(nbs["blank"], MARKERS)
    return (*grade_class(tmp, "01-chain-rule", nbs), tmp)


def test_a_64_mb_frame_is_refused_before_it_is_parsed(class_01):
    _, rows, timings, _ = class_01
    assert_reference_and_blank(rows)
    attack = rows["frame-of-64-mb"]
    assert attack["status"] == "graded", attack
    assert attack["score"] == rows["blank"]["score"], attack
    # parsed, that frame took 1.6 GB; refused, the judge holds its bytes at most (twice)
    assert timings["frame-of-64-mb"]["judge_peak_bytes"] < 400 * 1024**2, timings


def test_any_output_grades_and_is_shown_escaped(class_01):
    course, rows, _, _ = class_01
    row = rows["prints-a-lone-surrogate"]
    assert row["status"] == "graded", row
    assert row["score"] == rows["correct"]["score"]
    cells = graded_notebook(course, "prints-a-lone-surrogate", "01-chain-rule")["cells"]
    text = "".join(o.get("text", "") for o in cells[-1]["outputs"])
    assert "lone \\ud800 surrogate, nul \\x00 byte, escape \\x1b[31m" in text
    assert "more characters" in text and len(text) < 20_000


def test_marker_text_in_answers_changes_nothing_and_everyone_gets_feedback(class_01):
    course, rows, _, _ = class_01
    assert rows["markers-in-an-answer"]["score"] == rows["correct"]["score"]
    assert rows["markers-in-a-blank-answer"]["score"] == rows["blank"]["score"]
    assert run(course, "feedback", "01-chain-rule") == 0
    pages = {p.parts[-3] for p in course.feedback_dir.rglob("*.html")}
    assert pages == set(rows), set(rows) - pages
    page = next((course.feedback_dir / "markers-in-an-answer").rglob("*.html")).read_text()
    assert "### BEGIN HIDDEN TESTS" in page  # the student's own text, shown as it is


def test_one_students_broken_page_does_not_stop_the_class(class_01, tmp_path):
    course, rows, _, tmp = class_01
    victim = next((course.autograded_dir / "markers-in-an-answer").rglob("*.ipynb"))
    saved = tmp_path / "saved.ipynb"
    shutil.copy(victim, saved)
    victim.chmod(0o644)
    victim.write_text("not a notebook")
    try:
        assert run(course, "feedback", "01-chain-rule") == 1  # said, by name, on stderr
        pages = {p.parts[-3] for p in course.feedback_dir.rglob("*.html")}
        assert set(rows) <= pages  # everyone else's pages were written (the victim keeps its old one)
    finally:
        shutil.copy(saved, victim)
