"""The judge's link to the student's process, one small notebook through the real sandboxes
(sandbox.run_notebook, no gradebook): what a test may receive from student code, and what it
may not (issue 20's engine holes, issue 19's messages)."""

from __future__ import annotations

import pytest

from autograder.engine import sandbox

pytestmark = pytest.mark.slow

STUDENT = '''
import numpy as np


class Thing:
    pass


def put_new_object(d):
    d["a"] = Thing()
    return 1.0


def move_objects(items):
    items.reverse()


def call_with_object(f):
    try:
        f(Thing())
    except TypeError as error:
        print("refused:", error)
    return f(np.ones(3))


def keep(f):
    global kept
    kept = f
    return 0.0


def make():
    return Thing()


def index_it(x):
    return x[10]


def stop():
    raise SystemExit(0)


def frompyfunc_array():
    return np.frompyfunc(lambda t: t * 2.0, 1, 1)(np.arange(3.0))


_secret = "the student's"
helper = "the student's"
print("lone \\ud800 and nul \\x00")
'''

LOCKED = [
    # 2: a new object into the test's dict: refused, the dict unchanged
    'd = {"a": 1.0}\ntry:\n    put_new_object(d)\nexcept TypeError as e:\n    print("E:", e)\nprint(d)',
    # 3: objects the test put in may be moved
    "a, b = make(), make()\nitems = [a, b, 1.0]\nmove_objects(items)\n"
    "print(items[0] == 1.0, items[1] is b, items[2] is a)",
    # 4: a test's function never receives an object of the student's
    "print(call_with_object(lambda z: float(z.sum())))",
    # 5: a kept test function expired (called from the next, student, cell)
    "print(keep(lambda z: 1.0))",
    None,  # 6: the student cell calling it
    # 7: the student's line, and the student's exception's name
    "index_it([1, 2])",
    # 8: SystemExit is an Exception to the test
    'try:\n    stop()\nexcept Exception as e:\n    print("caught", type(e).__name__)\n    _bound = 1',
    # 9: names starting with _ and names a locked cell binds are never the student's
    "try:\n    print(_secret)\nexcept NameError:\n    print('no _secret')",
    "try:\n    helper\nexcept NameError:\n    print('no helper')\nhelper = 'the test'",
    # 11: an object array of numbers is data; a proxy is named in the student's words
    "x = frompyfunc_array()\nprint(type(x).__name__, x.dtype, x.tolist(), type(make()).__name__)",
]


@pytest.fixture(scope="module")
def outputs():
    cells = [{"index": 0, "kind": "locked", "source": "import numpy as np"}]
    cells.append({"index": 1, "kind": "student", "source": STUDENT})
    for i, source in enumerate(LOCKED, start=2):
        if source is None:
            cells.append({"index": i, "kind": "student", "source": "kept(np.ones(3))"})
        else:
            cells.append({"index": i, "kind": "locked", "source": source})
    result = sandbox.run_notebook(cells, sandbox.Limits(cell_timeout=10, wall_time=60), preamble="import numpy as np")
    assert result.status == sandbox.OK, result.detail
    return result.outputs


def text(outputs, index) -> str:
    parts = []
    for output in outputs[index]:
        parts.append(output.get("text") or f"{output.get('ename')}: {output.get('evalue')}")
    return "".join(parts)


def test_only_data_flows_into_a_tests_containers(outputs):
    assert text(outputs, 2) == (
        "E: your function put one of its own objects into the test's dict argument: put numbers or arrays there\n"
        "{'a': 1.0}\n"
    )
    assert text(outputs, 3) == "True True True\n"


def test_a_tests_function_gets_data_only_and_expires_with_its_cell(outputs):
    assert text(outputs, 4).startswith("refused: the test's function was given an object of your code")
    assert text(outputs, 4).endswith("3.0\n")
    assert "cannot be called any more" in text(outputs, 6)


def test_an_error_says_where_the_students_code_raised_it(outputs):
    (error,) = outputs[7]
    assert error["ename"] == "IndexError"
    line = STUDENT.splitlines().index("    return x[10]") + 1
    where = f"[raised in your function index_it (cell 2, line {line}: `return x[10]`)]"
    assert error["evalue"] == f"list index out of range {where}"


def test_every_student_exception_is_an_exception_under_its_own_name(outputs):
    assert text(outputs, 8) == "caught SystemExit\n"


def test_test_names_stay_the_judges(outputs):
    assert text(outputs, 9) == "no _secret\n"
    assert text(outputs, 10) == "no helper\n"


def test_object_arrays_cross_and_proxies_have_a_plain_name(outputs):
    assert text(outputs, 11) == "ndarray object [0.0, 2.0, 4.0] object of your code\n"


def test_student_text_is_escaped(outputs):
    assert text(outputs, 1) == "lone \\ud800 and nul \\x00\n"
