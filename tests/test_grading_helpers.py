"""The acceptance rule of the grading helpers (autograder/engine/grading_helpers.py), on plain values.

Every exercise's tests read student results through these helpers, so the rule is tested once
here: numbers, arrays, sequences and indices in any reasonable form are accepted; float32,
complex, ragged lists and objects that are not numbers are refused with one sentence; an
expected value that is inf or nan checks nothing and fails the cell.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def helpers() -> dict:
    namespace: dict = {}
    source = (REPO_ROOT / "autograder" / "engine" / "grading_helpers.py").read_text()
    exec(compile(source, "grading_helpers", "exec"), namespace)
    return namespace


class Remote:  # what a student object looks like to the judge (the helpers must not say this name)
    pass


@pytest.mark.parametrize(
    "number",
    [2, 2.0, True, np.int64(2), np.int32(2), np.uint8(2), np.float64(2.0), np.array(2.0), np.array(2), np.bool_(True)],
    ids=repr,
)
def test_floats_accepts_any_real_number(helpers, number):
    assert helpers["_floats"](number, "x") == [float(number)]


@pytest.mark.parametrize(
    "array",
    [
        np.array([[1.0, 2.0], [3.0, 4.0]]),
        [[1, 2], [3, 4]],
        ((1.0, 2.0), (3.0, 4.0)),
        [np.array([1.0, 2.0]), np.array([3.0, 4.0])],
        np.array([[1, 2], [3, 4]], dtype=object),
        np.frompyfunc(lambda v: v * 1.0, 1, 1)(np.array([[1, 2], [3, 4]])),
        np.array([[1, 2], [3, 4]], dtype=np.int8),
        [[np.float64(1), np.int64(2)], [3, True + 3]],
    ],
    ids=lambda a: type(a).__name__ + (f"-{a.dtype}" if isinstance(a, np.ndarray) else ""),
)
def test_floats_accepts_any_array_like_of_the_shape(helpers, array):
    assert helpers["_floats"](array, "x", shape=(2, 2)) == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize(
    "value, words",
    [
        (np.float32(1.0), "expected a float64"),
        (np.ones(3, dtype=np.float32), "has dtype float32, expected float64"),
        (np.ones(3, dtype=np.float16), "has dtype float16, expected float64"),
        (np.ones(3, dtype=complex), "real numbers"),
        ([1.0, [2.0, 3.0]], "ragged"),
        (np.array([1.0, "a"], dtype=object), "something other than numbers"),
        (Remote(), "an object of your code"),
        ("1.0", "got a str"),
        (None, "got a NoneType"),
        (np.ones(4), "has shape (4,), expected (3,)"),
        (np.array([2**62 + 1]), "too large to be exact"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) or len(v) < 4 else v[:12],
)
def test_floats_refuses_what_is_not_numbers_in_one_sentence(helpers, value, words):
    with pytest.raises(AssertionError) as refused:
        helpers["_floats"](value, "dx", shape=(3,) if not np.isscalar(value) else ())
    message = str(refused.value)
    assert words in message and message.startswith("dx") and "Remote" not in message


def test_a_number_where_an_array_is_wanted_is_refused_with_both_shapes(helpers):
    with pytest.raises(AssertionError, match=r"dx should be an array of shape \(3,\), got a float"):
        helpers["_floats"](1.0, "dx", shape=(3,))
    with pytest.raises(AssertionError, match=r"should be a number, got a list of shape \(1,\)"):
        helpers["_floats"]([1.0], "f")


@pytest.mark.parametrize("pair", [(1.0, "c"), [1.0, "c"], np.array([1.0, 2.0])], ids=lambda p: type(p).__name__)
def test_items_accepts_tuples_lists_and_arrays(helpers, pair):
    assert len(helpers["_items"](pair, "the result", 2)) == 2


def test_items_refuses_a_wrong_count_or_a_non_sequence(helpers):
    with pytest.raises(AssertionError, match="should be 2 values, got 3"):
        helpers["_items"]((1, 2, 3), "the result", 2)
    with pytest.raises(AssertionError, match=r"should be 2 values \(a tuple, a list or an array\), got a float"):
        helpers["_items"](1.0, "the result", 2)


@pytest.mark.parametrize("i", [3, np.int64(3), np.int32(3), np.uint16(3), np.array(3)], ids=repr)
def test_index_accepts_python_and_numpy_integers(helpers, i):
    assert helpers["_index"](i, "i") == 3 and type(helpers["_index"](i, "i")) is int


@pytest.mark.parametrize("i", [3.0, True, np.float64(3), "3", Remote()], ids=repr)
def test_index_refuses_what_is_not_an_integer(helpers, i):
    with pytest.raises(AssertionError, match="should be an integer index"):
        helpers["_index"](i, "i")


@pytest.mark.parametrize("expected", [float("inf"), [1.0, float("nan")], np.array([np.inf, 0.0])], ids=repr)
def test_an_expected_value_that_is_not_finite_fails_the_check(helpers, expected):
    actual = np.zeros(np.shape(expected))
    with pytest.raises(AssertionError, match="cannot be checked: the value it is compared with is inf or nan"):
        helpers["_close"](actual, expected, "dx", shape=np.shape(expected))


def test_close_names_the_quantity_and_shows_both_values(helpers):
    helpers["_close"]([1.0, 2.0], np.array([1.0, 2.0]), "dx", shape=(2,))
    with pytest.raises(AssertionError, match=r"dx is off \(expected \[1, 2\], got \[1, 3\]\)"):
        helpers["_close"]([1.0, 3.0], [1.0, 2.0], "dx", shape=(2,))
    with pytest.raises(AssertionError) as secret:
        helpers["_close_secret"]([1.0, 3.0], [1.0, 2.0], "dx", shape=(2,))
    assert str(secret.value) == "dx is off"


def test_call_names_the_function_and_the_case_when_the_student_code_raises(helpers):
    def student_function(x):
        return [1, 2][x]

    assert helpers["_call"](student_function, "pick", "an index of one", 1) == 2
    with pytest.raises(AssertionError, match=r"^pick raised IndexError on D = 1: list index out of range$"):
        helpers["_call"](student_function, "pick", "D = 1", 5)


def test_call_leaves_numeric_errors_to_quietly(helpers):
    def overflowing():
        return np.exp(np.array([1000.0]))

    with pytest.raises(AssertionError, match=r"sigmoid\(1000\) overflowed \[FloatingPointError"):
        helpers["_quietly"](lambda: helpers["_call"](overflowing, "sigmoid", "x = 1000"), "sigmoid(1000)", "overflowed")
