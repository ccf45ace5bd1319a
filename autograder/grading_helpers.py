# Grading helpers (a locked cell: run it, do not change it; it holds no answers).
# The tests below use only these helpers. They run before your code and keep their own
# references to what they use, so a test checks exactly the values your functions return.
import math
import random

import numpy as np

_type, _float, _int, _len, _abs, _max, _range, _zip = type, float, int, len, abs, max, range, zip
_list, _tuple, _str, _sum, _all = list, tuple, str, sum, all
_ndarray, _isfinite, _Random = np.ndarray, math.isfinite, random.Random
_SCALARS = (float, int, np.float64, np.float32, np.int64, np.int32)


class _Wrong(AssertionError):
    """A failed check; its message says what is wrong without giving the answer away."""


def _floats(value, name, shape=None):
    """`value` as a flat list of Python floats. Only real numbers and numpy arrays are accepted."""
    if _type(value) is _ndarray:
        if shape is not None and value.shape != _tuple(shape):
            hint = " (transposed?)" if value.shape == _tuple(shape)[::-1] else ""
            raise _Wrong(f"{name} has shape {value.shape}, expected {_tuple(shape)}{hint}")
        values = _ndarray.ravel(value).tolist()
    elif _type(value) in _SCALARS:
        if shape not in (None, ()):
            raise _Wrong(f"{name} should be a numpy array of shape {_tuple(shape)}, got a number")
        values = [value]
    else:
        raise _Wrong(f"{name} should be a number or a numpy array, got {_type(value).__name__}")
    if not _all(_type(v) in _SCALARS for v in values):
        raise _Wrong(f"{name} should hold real numbers")
    return [_float(v) for v in values]


def _check(actual, expected, name, *, shape=None, rtol=1e-6, atol=1e-9, hint=""):
    """Fail unless `actual` matches `expected` (a number or a flat list) within the tolerances."""
    got = _floats(actual, name, shape)
    want = [_float(expected)] if _type(expected) in _SCALARS else [_float(v) for v in expected]
    if _len(got) != _len(want):
        raise _Wrong(f"{name} has {_len(got)} entries, expected {_len(want)}")
    if not _all(_isfinite(g) for g in got):
        raise _Wrong(f"{name} contains inf or nan{': ' + hint if hint else ''}")
    worst = _max((_abs(g - w) - rtol * _abs(w) for g, w in _zip(got, want)), default=0.0)
    if worst > atol:
        if _all(_abs(g + w) <= atol + rtol * _abs(w) for g, w in _zip(got, want)):
            hint = "the sign is flipped" + (f"; {hint}" if hint else "")
        raise _Wrong(f"{name} is off{': ' + hint if hint else ''}")


print("grading helpers ready")
