# Grading helpers: run this cell first. It is locked (restored before grading) and holds no answers.
#
# What the tests accept (the same rule in every exercise):
# - where a number is asked for: any real Python or numpy number (int, float, bool, np.int64,
#   np.float64, ...) or a 0-d array;
# - where an array is asked for: any array, list or tuple of numbers of the right shape, of any
#   integer, bool, float64 or object dtype (an object array of numbers is fine);
# - where several values are asked for (a pair, the gradients of several layers, a path of
#   values): a tuple, a list or a 1-D array of them;
# - where an index is asked for: any Python or numpy integer.
# float32 (and float16) results are refused in every exercise: they keep only about 7 digits, so
# a correct formula would look off. Keep numpy's default float64.
# A test cell that shows no error has passed. A failing one names the quantity and, in these
# visible tests, shows the expected and the actual values.
#
# The tests read your results only through the functions below (_floats, _close, _items, _index;
# _call reports an error your code raises with the case it raised on). They keep their own references
# to the Python and numpy functions they use, taken here before any of your code runs.
import math
import random
import warnings

import numpy as np


def _make_grading_helpers():
    type_, float_, int_, list_, tuple_, len_, zip_ = type, float, int, list, tuple, len, zip
    all_, any_, abs_, min_, max_, str_, issubclass_ = all, any, abs, min, max, str, issubclass
    isfinite, ndarray, tolist, ravel, errstate = math.isfinite, np.ndarray, np.ndarray.tolist, np.ravel, np.errstate
    astype, float64, np_integer, np_floating, np_bool = np.ndarray.astype, np.float64, np.integer, np.floating, np.bool_
    np_equal = np.array_equal
    catch_warnings, simplefilter = warnings.catch_warnings, warnings.simplefilter
    numeric_errors = (FloatingPointError, OverflowError, ZeroDivisionError, Warning)
    short = "a result computed in float32 keeps only about 7 digits, so a correct formula looks off: keep float64"

    def kind_of(value):
        """The type of a value in the student's words (one of their own objects, not our class names)."""
        name = type_(value).__name__  # the judge's proxy of a student object is "object of your code"
        return "an object of your code" if name in ("Remote", "object of your code") else f"a {name}"

    def scalar(value, what):
        """A number as a Python float, or None if `value` is not a number. Refuses float32."""
        t = type_(value)
        if t is float_ or t is int_ or t is bool:
            return float_(value)
        if issubclass_(t, np_floating):
            if value.dtype.itemsize < 8:
                raise AssertionError(f"{what} is a numpy {t.__name__}, expected a float64: {short}")
            return float_(value)
        if issubclass_(t, np_integer) or t is np_bool:
            return float_(value)
        return None

    def numbers(value, what, hint):
        """(shape, flat list of floats) of a number, or of an array, list or tuple of numbers."""
        found = scalar(value, what)
        if found is not None:
            return (), [found]
        t = type_(value)
        if t is ndarray:
            kind = value.dtype.kind
            if kind == "f" and value.dtype.itemsize < 8:
                raise AssertionError(f"{what} has dtype {value.dtype}, expected float64: {short}")
            if kind in "biuf":
                as_float = astype(value, float64)
                if kind in "iu" and not np_equal(astype(as_float, value.dtype), value):
                    raise AssertionError(f"{what} holds integers too large to be exact as floats")
                return value.shape, tolist(ravel(as_float))
            if kind == "O":
                items = [scalar(item, what) for item in tolist(ravel(value))]
                if any_(item is None for item in items):
                    raise AssertionError(f"{what} is an object array that holds something other than numbers")
                return value.shape, items
            raise AssertionError(f"{what} should hold real numbers, got an array of dtype {value.dtype}")
        if t is list_ or t is tuple_:
            parts = [numbers(item, what, hint) for item in value]
            shapes = {shape for shape, _ in parts}
            if len_(shapes) > 1:
                raise AssertionError(f"{what} is a ragged list: its items have different shapes")
            inner = parts[0][0] if parts else ()
            return (len_(parts), *inner), [x for _, flat in parts for x in flat]
        raise AssertionError(f"{what} should be numbers, got {kind_of(value)}")

    def floats(value, what, shape=(), hint=""):
        """`value` as a flat list of floats: a number (shape ()) or an array-like of exactly `shape`."""
        why = f": {hint}" if hint else ""
        try:
            found, items = numbers(value, what, hint)
        except RecursionError:
            raise AssertionError(f"{what} is nested too deeply to be numbers") from None
        if found != tuple_(shape):
            if shape == ():
                raise AssertionError(f"{what} should be a number, got {kind_of(value)} of shape {found}")
            if found == ():
                raise AssertionError(f"{what} should be an array of shape {tuple_(shape)}, got {kind_of(value)}{why}")
            raise AssertionError(f"{what} has shape {found}, expected {tuple_(shape)}{why}")
        return items

    def items(value, what, count=None):
        """The values of a tuple, list or 1-D array (or any array, along its first axis) as a list."""
        t = type_(value)
        if t is list_ or t is tuple_:
            found = list_(value)
        elif t is ndarray and value.ndim >= 1:
            found = list_(value)
        else:
            wanted = f"{count} values" if count is not None else "several values"
            raise AssertionError(f"{what} should be {wanted} (a tuple, a list or an array), got {kind_of(value)}")
        if count is not None and len_(found) != count:
            raise AssertionError(f"{what} should be {count} values, got {len_(found)}")
        return found

    def index(value, what):
        """An index as a Python int: any Python or numpy integer (not a bool, not a float)."""
        t = type_(value)
        if t is int_ or (issubclass_(t, np_integer) and t is not np_bool):
            return int_(value)
        if t is ndarray and value.ndim == 0 and value.dtype.kind in "iu":
            return int_(value)
        raise AssertionError(f"{what} should be an integer index, got {kind_of(value)}")

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

    def expected_floats(expected, what):
        """The expected values as floats; an expectation that is inf or nan checks nothing: refused."""
        if type_(expected) is ndarray:
            want = tolist(ravel(astype(expected, float64)))
        else:
            _, want = numbers(expected, f"the value {what} is compared with", "")
        if not all_(isfinite(w) for w in want):
            raise AssertionError(
                f"{what} cannot be checked: the value it is compared with is inf or nan, "
                "and it comes from your own earlier results: make those finite first"
            )
        return want

    def close(actual, expected, what, shape=(), rtol=1e-7, atol=1e-10, hint="", reveal=True):
        """Fail, saying what is wrong, unless `actual` matches `expected` entry by entry.

        The message shows the expected and the actual values (reveal=False leaves them out: hidden
        tests keep their inputs secret) and, when every entry is off by one factor, that factor.
        """
        why = f": {hint}" if hint else ""
        got, want = floats(actual, what, shape, hint), expected_floats(expected, what)
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

    def call(function, name, case, *args, **kwargs):
        """function(*args, **kwargs); an exception of the student's code fails the test saying which
        function raised, on which case (its public description: "a batch of one", "D = 1"), and why.

        Numeric problems pass through unchanged, so that quietly() still reports them as such.
        """
        try:
            return function(*args, **kwargs)
        except (AssertionError, *numeric_errors):
            raise
        except Exception as error:  # noqa: BLE001 - any error of the student's code is reported
            ename = type_(error).__name__
            if ename.startswith("Student") and error.args and type_(error.args[0]) is str_:
                ename = error.args[0]  # the student's own exception type, as the grader received it
            raise AssertionError(f"{name} raised {ename} on {case}: {error}") from None

    return floats, close, close_secret, quietly, items, index, call


_floats, _close, _close_secret, _quietly, _items, _index, _call = _make_grading_helpers()
_exp, _cos, _tolist, _default_rng = math.exp, math.cos, np.ndarray.tolist, np.random.default_rng  # for test inputs
_Random = random.Random
