"""A hang costs one limit (issue 23): a student function that ran past a cell's limit is not
waited for again in that submission; the other functions, and other submissions, are unaffected.

Through the real sandboxes (engine.sandbox.run_notebook, no gradebook), with a 2 s limit.
"""

from __future__ import annotations

import time

import pytest

from autograder.engine import sandbox

pytestmark = pytest.mark.slow
LIMIT = 2.0

STUDENT = """
state = {"calls": 0}


def hang(x):
    while True:
        pass


def fine(x):
    state["calls"] += 1
    return 2 * x


def slowish(x):
    return sum(range(2000)) * 0 + x
"""

FIXED = """
def hang(x):
    return x
"""

TESTS = [
    "print('first', hang(1))",  # 1: waits out the limit
    # 2: fails at once, with the message (the test's `finally` says how long it waited)
    "import time\n_start = time.monotonic()\ntry:\n    print('second', hang(2))\n"
    "finally:\n    print(f'waited {time.monotonic() - _start:.1f} s')",
    "print('fine', fine(3), state['calls'])",  # 3: another function: points as usual (state replayed)
    "try:\n    hang(4)\nexcept Exception:\n    print('caught')\nprint('not reached')",  # 4: a test cannot catch it
    # 5: a fast function that a long loop of the test happens to be calling when the limit falls
    "while True:\n    slowish(1)",
    "print('slowish', slowish(5))",  # 6: still called
]


def run(student: str) -> tuple[sandbox.NotebookRun, list[float]]:
    cells = [{"index": 0, "kind": "student", "source": student}]
    cells += [{"index": i, "kind": "locked", "source": source} for i, source in enumerate(TESTS, 1)]
    result = sandbox.run_notebook(cells, sandbox.Limits(cell_timeout=LIMIT, wall_time=120))
    assert result.status == sandbox.OK, result.detail
    return result


def shown(outputs: list) -> str:
    return "".join(o.get("text") or f"{o.get('ename')}: {o.get('evalue')}\n" for o in outputs)


@pytest.fixture(scope="module")
def graded():
    start = time.monotonic()
    hanging = run(STUDENT)
    seconds = time.monotonic() - start
    fixed = run(STUDENT.replace("def hang(x):\n    while True:\n        pass\n", FIXED))
    return hanging, seconds, fixed


def test_the_first_call_waits_out_the_limit_the_later_ones_fail_at_once(graded):
    hanging, seconds, _ = graded
    assert shown(hanging.outputs[1]).startswith("TimeoutError: your code ran longer than the limit of 2 s")
    assert shown(hanging.outputs[2]) == (
        "waited 0.0 s\n"
        "TimeoutError: your function hang timed out in an earlier test: see the first "
        "(it is not called again in this notebook)\n"
    )
    assert shown(hanging.outputs[4]).startswith("TimeoutError: your function hang timed out in an earlier test")
    # two limits in all (the hang's, the test's own loop's), not one per cell that calls hang
    assert seconds < 3 * LIMIT + 10, seconds


def test_the_other_functions_keep_their_points_and_the_replayed_state(graded):
    hanging, _, _ = graded
    assert shown(hanging.outputs[3]) == "fine 6 1\n"  # the student's cell ran again after the restart
    assert shown(hanging.outputs[5]).startswith("TimeoutError: ")  # the test's own loop, past the limit
    assert shown(hanging.outputs[6]) == "slowish 5\n"  # not taken for a hang: it ran only microseconds


def test_it_counts_only_in_that_submission(graded):
    _, _, fixed = graded
    assert shown(fixed.outputs[1]) == "first 1\n"
    assert shown(fixed.outputs[2]) == "second 2\nwaited 0.0 s\n"
