# Grading helpers: run this cell first. It is locked (restored before grading) and holds no answers.
# The tests compare your results only through _floats, _close, _close_secret and _quietly. These keep
# their own references to the Python and numpy functions they use, taken here before any of your
# code runs, and accept only real numbers and plain numpy arrays: a test checks exactly what you return.
import math
import random
import warnings

import numpy as np


def _make_grading_helpers():
    type_, float_, list_, len_, zip_, all_, any_, abs_ = type, float, list, len, zip, all, any, abs
    isfinite, ndarray, tolist, errstate = math.isfinite, np.ndarray, np.ndarray.tolist, np.errstate
    catch_warnings, simplefilter, str_, min_, max_ = warnings.catch_warnings, warnings.simplefilter, str, min, max
    numbers = (float, int, np.float64, np.int64, np.int32)  # exact types, no subclasses
    short_floats = (np.float32, np.float16)
    numeric_errors = (FloatingPointError, OverflowError, ZeroDivisionError, Warning)

    def is_number(value):
        return any_(type_(value) is t for t in numbers)

    def flat(items):
        return [x for item in items for x in flat(item)] if type_(items) is list_ else [items]

    def floats(value, what, shape=(), hint=""):
        """`value` as a list of floats, if it is a number (shape ()) or a numpy array of exactly `shape`.

        A float32 (or float16) number or array fails with its dtype named: it keeps only about 7
        digits, so its values would look "off" for a reason that has nothing to do with the maths.
        """
        why = f": {hint}" if hint else ""
        short = "computed in float32 keeps about 7 digits: keep numpy's default float64"
        if type_(value) is ndarray:
            if value.shape != shape:
                raise AssertionError(f"{what} has shape {value.shape}, expected {shape}{why}")
            if value.dtype.kind == "f" and value.dtype.itemsize < 8:
                raise AssertionError(f"{what} has dtype {value.dtype}, expected float64: a result {short}")
            items = flat(tolist(value))
        elif shape == () and is_number(value):
            items = [value]
        elif shape == () and any_(type_(value) is t for t in short_floats):
            raise AssertionError(f"{what} is a numpy {type_(value).__name__}, expected a float64: a result {short}")
        else:
            wanted = "a number" if shape == () else f"a numpy array of shape {shape}"
            raise AssertionError(f"{what} should be {wanted}, got {type_(value).__name__}")
        if not all_(is_number(item) for item in items):
            raise AssertionError(f"{what} should hold real numbers only")
        return [float_(item) for item in items]

    def show(values, shape, digits=6):
        """Numbers as a short nested list of the given shape (at most 12 entries, then '...')."""
        text = [f"{v:.{digits}g}" for v in values]
        if len_(text) > 12 or len_(shape) > 2:
            return "[" + ", ".join(text[:8]) + (", ...]" if len_(text) > 8 else "]")
        if len_(shape) == 2:
            rows = [text[r * shape[1] : (r + 1) * shape[1]] for r in range(shape[0])]
            return "[" + ", ".join("[" + ", ".join(row) + "]" for row in rows) + "]"
        return "[" + ", ".join(text) + "]" if shape else text[0]

    def ratio(got, want):
        """The factor c if every entry of got is c times its expected value (c != 1), else None."""
        if any_((w == 0.0) != (g == 0.0) for g, w in zip_(got, want)):
            return None
        factors = [g / w for g, w in zip_(got, want) if w != 0.0]
        if not factors:
            return None
        low, high = min_(factors), max_(factors)
        if abs_(high - low) > 1e-6 * max_(abs_(high), 1.0) or abs_(high - 1.0) < 1e-6 or abs_(high + 1.0) < 1e-6:
            return None
        return high

    def close(actual, expected, what, shape=(), rtol=1e-7, atol=1e-10, hint="", reveal=True):
        """Fail, saying what is wrong, unless `actual` matches `expected` entry by entry.

        The message shows the expected and the actual values (reveal=False leaves them out: hidden
        tests keep their inputs secret) and, when every entry is off by one factor, that factor.
        """
        why = f": {hint}" if hint else ""
        got, want = floats(actual, what, shape, hint), [float_(w) for w in flat(expected)]
        assert len_(got) == len_(want), f"test error: {what} compared with {len_(want)} values"
        if not all_(isfinite(g) for g in got):
            raise AssertionError(f"{what} contains inf or nan{why}")
        if all_(abs_(g - w) <= atol + rtol * abs_(w) for g, w in zip_(got, want)):
            return
        digits = 6 if show(want, shape) != show(got, shape) else 12
        values = f" (expected {show(want, shape, digits)}, got {show(got, shape, digits)})" if reveal else ""
        if all_(abs_(g + w) <= atol + rtol * abs_(w) for g, w in zip_(got, want)):
            raise AssertionError(f"{what}: the sign is flipped{values}{why}")
        if all_(abs_(g - w) <= 1e-5 * abs_(w) + atol for g, w in zip_(got, want)):
            raise AssertionError(f"{what} agrees to about 6 digits only{values}: was something computed in float32?")
        factor = ratio(got, want) if len_(want) > 1 else None
        scaled = f", every entry {factor:.6g} times the expected one" if factor is not None else ""
        raise AssertionError(f"{what} is off{values}{scaled}{why}")

    def close_secret(actual, expected, what, shape=(), rtol=1e-7, atol=1e-10, hint=""):
        """close() for hidden tests: names the quantity and the kind of mistake, not the values."""
        close(actual, expected, what, shape, rtol, atol, hint, reveal=False)

    def quietly(call, what, hint):
        """call(), with numpy overflow, invalid values, division by zero and any warning as failures."""
        with catch_warnings():
            simplefilter("error")
            with errstate(over="raise", invalid="raise", divide="raise"):
                try:
                    return call()
                except numeric_errors as problem:
                    raise AssertionError(f"{what} {hint} [{type_(problem).__name__}: {str_(problem)}]") from None

    return floats, close, close_secret, quietly


_floats, _close, _close_secret, _quietly = _make_grading_helpers()
_exp, _cos, _tolist, _default_rng = math.exp, math.cos, np.ndarray.tolist, np.random.default_rng  # for test inputs
_Random = random.Random
