"""The test environment: what a locked cell sees while it runs in the judge.

Its globals (`Namespace`: its own names, the builtins, then the student's current definitions
through the link), its time limit (`alarm`), where its printing goes (`Capture`), how its failure
reads (`describe`, `error_output`), and the numpy error state and warning filter that its calls
into the student's code carry along (`test_environment`). `bound_names` tells which names a
cell defines, so that the student never answers for a name of the tests.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import signal
import sys
import warnings

from judge_protocol import CellTimeout, StudentAbort, StudentError, StudentGone

BUILTIN_NAMES = frozenset(dir(builtins))


class Namespace(dict):
    """The judge's globals: its own names first, then the builtins, then the student's names.

    A name the locked cells never defined is looked up in the student's process when it is read
    (by a test cell, or by a function an earlier test cell defined), so it is always the
    student's current definition. CPython reads globals through __missing__ when they are a
    dict subclass; builtins are answered here without asking, so they cannot be shadowed.
    """

    def __init__(self, judge):
        super().__init__(__name__="__main__", __builtins__=builtins)
        self._judge = judge

    def __missing__(self, name):
        if name in BUILTIN_NAMES or name.startswith("__"):
            raise KeyError(name)
        return self._judge.student_value(name)


def bound_names(source: str) -> set[str]:
    """The global names a cell's source binds: assignments, defs and classes, imports, for and with
    targets, except-as, walrus, and every name a `global` statement names anywhere in it.
    A cell that does not parse binds nothing (it fails where it runs)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    found: set[str] = set()

    def visit(node, top: bool, in_comprehension: bool = False):
        if isinstance(node, ast.Global):
            found.update(node.names)
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if top:
                found.add(node.name)
            for part in [*node.decorator_list, *getattr(node, "bases", []), *getattr(node, "keywords", [])]:
                visit(part, top)
            if not isinstance(node, ast.ClassDef):
                for default in [*node.args.defaults, *node.args.kw_defaults]:
                    if default is not None:
                        visit(default, top)
            for child in node.body:
                visit(child, False)
            return
        if isinstance(node, ast.Lambda):
            visit(node.body, False)
            return
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            for child in ast.iter_child_nodes(node):
                visit(child, top, True)
            return
        if top:
            if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                found.add(node.target.id)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and not in_comprehension:
                found.add(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                found.update((alias.asname or alias.name).split(".")[0] for alias in node.names if alias.name != "*")
            elif isinstance(node, ast.ExceptHandler) and node.name:
                found.add(node.name)
            elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
                found.add(node.name)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                found.add(node.rest)
        for child in ast.iter_child_nodes(node):
            visit(child, top, in_comprehension)

    try:
        for statement in tree.body:
            visit(statement, True)
    except RecursionError:
        pass
    return found


class Capture:
    """sys.stdout of the judge while a locked cell runs: into the cell's output, bounded."""

    def __init__(self, judge):
        self.judge = judge

    def write(self, text):
        self.judge.add_output(str(text))
        return len(text)

    def flush(self):
        pass


def _on_alarm(signum, frame):
    raise CellTimeout()


@contextlib.contextmanager
def alarm(seconds: float):
    """Raise CellTimeout in whatever runs after `seconds` (a wait for the student included).

    Nested inside another alarm (replaying the student's cells during a test cell), the outer one
    is suspended and resumes afterwards with the time it had left: a restart costs the test
    cell nothing.
    """
    outer_left, _ = signal.setitimer(signal.ITIMER_REAL, 0)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left > 0:
            signal.setitimer(signal.ITIMER_REAL, outer_left)


def describe(error: BaseException, timeout: float) -> tuple[str, str]:
    """(ename, evalue) of a failed cell, as the feedback shows it."""
    if isinstance(error, CellTimeout):
        return "TimeoutError", f"this test ran longer than its limit of {timeout:g} s"
    if isinstance(error, (StudentError, StudentAbort)):
        return error.args[0], error.args[1]
    if isinstance(error, StudentGone):
        return ("TimeoutError" if "longer" in str(error) or "timed out" in str(error) else "ProcessEnded"), str(error)
    try:
        message = str(error)
    except Exception:  # noqa: BLE001
        message = ""
    return type(error).__name__, message[:2000]


def error_output(ename: str, evalue: str) -> dict:
    return {
        "output_type": "error",
        "ename": ename,
        "evalue": evalue,
        "traceback": [f"{ename}: {evalue}" if evalue else ename],
    }


def test_environment():
    """The numpy error state and warning filter under which the test makes this call (None: defaults)."""
    numpy = sys.modules.get("numpy")
    env = {}
    if numpy is not None:
        err = numpy.geterr()
        if err != _DEFAULT_NP_ERR:
            env["np"] = err
    if warnings.filters and warnings.filters[0][0] == "error" and warnings.filters[0][2] is Warning:
        env["warnings"] = "error"
    return env or None


_DEFAULT_NP_ERR = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}
