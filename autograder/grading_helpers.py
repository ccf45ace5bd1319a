# Grading helpers: run this cell first. It is locked (restored before grading) and holds no answers.
# The tests compare your results only through _floats, _close and _quietly. These keep their own
# references to the Python and numpy functions they use, taken here before any of your code runs,
# and accept only real numbers and plain numpy arrays: a test checks exactly what you return.
import math
import random
import warnings

import numpy as np


def _make_grading_helpers():
    type_, float_, list_, len_, zip_, all_, any_, abs_ = type, float, list, len, zip, all, any, abs
    isfinite, ndarray, tolist, errstate = math.isfinite, np.ndarray, np.ndarray.tolist, np.errstate
    catch_warnings, simplefilter = warnings.catch_warnings, warnings.simplefilter
    numbers = (float, int, np.float64, np.float32, np.int64, np.int32)  # exact types, no subclasses
    numeric_errors = (FloatingPointError, OverflowError, ZeroDivisionError, Warning)

    def is_number(value):
        return any_(type_(value) is t for t in numbers)

    def flat(items):
        return [x for item in items for x in flat(item)] if type_(items) is list_ else [items]

    def floats(value, what, shape=(), hint=""):
        """`value` as a list of floats, if it is a number (shape ()) or a numpy array of exactly `shape`."""
        why = f": {hint}" if hint else ""
        if type_(value) is ndarray:
            if value.shape != shape:
                raise AssertionError(f"{what} has shape {value.shape}, expected {shape}{why}")
            items = flat(tolist(value))
        elif shape == () and is_number(value):
            items = [value]
        else:
            wanted = "a number" if shape == () else f"a numpy array of shape {shape}"
            raise AssertionError(f"{what} should be {wanted}, got {type_(value).__name__}")
        if not all_(is_number(item) for item in items):
            raise AssertionError(f"{what} should hold real numbers only")
        return [float_(item) for item in items]

    def close(actual, expected, what, shape=(), rtol=1e-7, atol=1e-10, hint=""):
        """Fail, saying what is wrong, unless `actual` matches `expected` entry by entry."""
        why = f": {hint}" if hint else ""
        got, want = floats(actual, what, shape, hint), [float_(w) for w in flat(expected)]
        assert len_(got) == len_(want), f"test error: {what} compared with {len_(want)} values"
        if not all_(isfinite(g) for g in got):
            raise AssertionError(f"{what} contains inf or nan{why}")
        if not all_(abs_(g - w) <= atol + rtol * abs_(w) for g, w in zip_(got, want)):
            if all_(abs_(g + w) <= atol + rtol * abs_(w) for g, w in zip_(got, want)):
                raise AssertionError(f"{what}: the sign is flipped{why}")
            raise AssertionError(f"{what} is off{why}")

    def quietly(call, what, hint):
        """call(), with numpy overflow, invalid values, division by zero and any warning as failures."""
        with catch_warnings():
            simplefilter("error")
            with errstate(over="raise", invalid="raise", divide="raise"):
                try:
                    return call()
                except numeric_errors as problem:
                    raise AssertionError(f"{what} {hint} [{type_(problem).__name__}: {problem}]") from None

    return floats, close, quietly


_floats, _close, _quietly = _make_grading_helpers()
_exp, _tolist, _default_rng = math.exp, np.ndarray.tolist, np.random.default_rng  # for the tests' inputs
_Random = random.Random
