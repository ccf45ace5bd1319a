"""What a student cell sees in the student's process: its printing, `get_ipython()`, the numpy
error state and warning filter of the test that calls it, and how its errors read.

Everything here runs beside hostile code: it bounds what it keeps, and whatever an exception's
__str__ or traceback does, describing it cannot fail.
"""

from __future__ import annotations

import ast
import contextlib
import io
import linecache
import sys
import traceback
import warnings

OUTPUT_LIMIT = 20_000  # characters of printed text kept per request
NUMPY_ERR_KINDS, NUMPY_ERR_MODES = ("divide", "over", "under", "invalid"), ("ignore", "warn", "raise", "print", "log")


class Capture(io.TextIOBase):
    """Bounded text stream for what student code prints."""

    def __init__(self):
        self.parts, self.size, self.dropped = [], 0, 0

    def write(self, text):
        text = str(text)
        room = OUTPUT_LIMIT - self.size
        self.parts.append(text[: max(room, 0)])
        self.size += min(len(text), max(room, 0))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def writable(self):
        return True

    def text(self):
        return "".join(self.parts) + (f"\n... {self.dropped} more characters dropped ...\n" if self.dropped else "")


class Shell:
    """What `get_ipython()` returns in a graded notebook: magics and shell commands do nothing."""

    def run_line_magic(self, *args, **kwargs):
        return None

    run_cell_magic = system = getoutput = run_line_magic


def run_cell(namespace: dict, source: str, name: str = "<cell>") -> list:
    """Execute one cell; its outputs in notebook form (the last expression's value included)."""
    outputs, capture = [], sys.stdout
    # its lines for tracebacks (and for the line an error of a test call quotes)
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    try:
        tree = ast.parse(source, name)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, name, "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), name, "eval"), namespace)
            if value is not None:
                outputs.append({"output_type": "execute_result", "text": repr(value)[:10000]})
    except BaseException as error:  # noqa: BLE001
        name, message, _ = describe(error)[:3]
        lines = student_traceback(error)
        outputs.append({"output_type": "error", "ename": name, "evalue": message, "traceback": lines[-20:]})
    printed = capture.text() if isinstance(capture, Capture) else ""
    capture.parts, capture.size, capture.dropped = [], 0, 0
    if printed:
        outputs.insert(0, {"output_type": "stream", "text": printed})
    return outputs


@contextlib.contextmanager
def test_environment(env):
    """Run a call under the numpy error state and warning filter of the test that made it.

    A test that says "no overflow and no warning" (the helpers' _quietly) sets them in the judge;
    the student's code must run under the same rules for the test to mean what it says.
    """
    if not env:
        yield
        return
    import numpy

    errstate = {k: v for k, v in env.get("np", {}).items() if k in NUMPY_ERR_KINDS and v in NUMPY_ERR_MODES}
    with numpy.errstate(**errstate), warnings.catch_warnings():
        if env.get("warnings") == "error":
            warnings.simplefilter("error")
        yield


def describe(error: BaseException, where: bool = False) -> list:
    """[type name, message, is-an-Exception(, where)] of an exception, bounded, whatever its
    __str__ does. where: the innermost line of the student's own cells that the traceback passes
    ("in your function f (cell 3, line 7: `return x[i]`)"), plain text; "" if none."""
    try:
        message = str(error)[:2000]
    except BaseException:  # noqa: BLE001
        message = "(its message could not be shown)"
    described = [str(type(error).__name__)[:100], message, isinstance(error, Exception)]
    if where:
        try:
            described.append(where_in_cells(error.__traceback__))
        except BaseException:  # noqa: BLE001 - a traceback the student's code tampered with
            described.append("")
    return described


def student_traceback(error: BaseException) -> list:
    """The traceback of an error in a student cell, with only the student's own frames."""
    try:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<cell")]
        lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
        return lines + traceback.format_exception_only(type(error), error)
    except BaseException:  # noqa: BLE001 - an error whose traceback or message cannot be shown
        name, message = describe(error)[:2]
        return [f"{name}: {message}\n"]


def where_in_cells(tb) -> str:
    found = None
    for _ in range(1000):
        if tb is None:
            break
        code = tb.tb_frame.f_code
        if type(code.co_filename) is str and code.co_filename.startswith("<cell "):
            found = (code.co_name, code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    if found is None:
        return ""
    function, filename, line = found
    text = linecache.getline(filename, line).strip()[:200]
    place = f"{filename.strip('<>')}, line {line}" + (f": `{text}`" if text else "")
    if function in ("<module>", "<lambda>"):
        return f"in your code ({place})"
    return f"in your function {function} ({place})"
