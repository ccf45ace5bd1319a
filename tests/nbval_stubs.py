"""A pytest plugin for nbval runs of release notebooks: a cell tagged `raises-exception` may fail
only because of a stub the student has not written yet: with NotImplementedError, with a NameError
for a stub that never got defined (a class whose body raised), or with a visible test's verdict
(an AssertionError: the tests report an unwritten function in their own words, naming it and the
case), nothing else: a TypeError or ValueError from a locked cell is a broken release.

nbval itself lets a tagged cell raise anything; loaded with `-p tests.nbval_stubs`, this plugin
fails such a cell whose error is another one (a locked cell broken by the release, a test that
fails for another reason). tests/test_notebooks_nbval.py loads it, and tags the cells (on its
copy of each release notebook) with `tag_stub_cells` below.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import nbformat
import pytest

RAISES = "raises-exception"  # nbval's cell tag for a cell that may raise


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell defines, names it reads) for a code cell; empty if it does not parse."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(), set()
    defined = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return defined, used


def _raises_when_run(source: str) -> bool:
    """Whether a cell has a `raise` that runs when the cell runs (at top level or in a class body),
    not only when one of its functions is called: a released class whose body is a stub."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False

    def visit(node) -> bool:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return False
        return isinstance(node, ast.Raise) or any(visit(child) for child in ast.iter_child_nodes(node))

    return visit(tree)


def _is_solution(cell) -> bool:
    return cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution", False)


def stub_names(nb) -> set[str]:
    """The names defined in the notebook's solution cells: the stubs of a release."""
    return {name for cell in nb.cells if _is_solution(cell) for name in _names(cell.source)[0]}


def stub_cells(nb) -> list[int]:
    """Indices of the code cells that may raise because of a stub.

    A stub is a name defined in a solution cell. A solution cell that raises when it runs (a class
    whose body the release replaced), and a non-solution cell that reads a stub or a name that such
    a cell defines, may raise NotImplementedError (or NameError for a stub that was never defined).
    """
    tainted: set[str] = set()
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        defined, used = _names(cell.source)
        if _is_solution(cell):
            tainted |= defined
            if _raises_when_run(cell.source):
                found.append(index)
        elif used & tainted:
            found.append(index)
            tainted |= defined
    return found


def tag_stub_cells(path: Path) -> int:
    """Add nbval's `raises-exception` tag to the cells of a release notebook that use a stub;
    returns how many cells carry it."""
    nb = nbformat.read(path, as_version=4)
    cells = stub_cells(nb)
    for index in cells:
        tags = nb.cells[index].metadata.setdefault("tags", [])
        if RAISES not in tags:
            tags.append(RAISES)
    nbformat.write(nb, path)
    return len(cells)


ALLOWED = "NotImplementedError"


@cache
def _stubs(path: str) -> frozenset[str]:
    return frozenset(stub_names(nbformat.read(path, as_version=4)))


def _allowed(out, stubs) -> bool:
    if out.get("ename") in (ALLOWED, "AssertionError"):
        return True
    missing = re.fullmatch(r"name '(\w+)' is not defined", str(out.get("evalue", "")))
    return out.get("ename") == "NameError" and missing is not None and missing[1] in stubs


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    outputs = getattr(item, "test_outputs", None) or []
    errors = [out for out in outputs if out.get("output_type") == "error" or "ename" in out]
    stubs = _stubs(str(item.path)) if errors else frozenset()
    wrong = [f"{out.get('ename')}: {out.get('evalue')}" for out in errors if not _allowed(out, stubs)]
    if wrong:
        allowed = f"{ALLOWED} (or a test's AssertionError)"
        pytest.fail(f"a stub cell may raise only {allowed}, but raised {'; '.join(wrong)}", pytrace=False)
    return result
