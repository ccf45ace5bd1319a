"""Notebooks validated the way nbval users expect (`pytest --nbval-lax`), on every notebook found.

- every solution notebook (solutions/*/*.ipynb) runs top to bottom, visible and hidden tests
  included, without an error;
- every release notebook (exercises/*/*.ipynb) runs its locked cells without an error, and its
  cells that use a stub (tagged `raises-exception`, nbval's tag, on the copy) fail with
  NotImplementedError or a test's AssertionError and nothing else (the plugin and the tagging: tests/nbval_stubs.py).

Each notebook runs in a pytest subprocess on a copy of its folder (so nothing it writes lands in
the repository) with an empty pytest configuration (so the repository's own options do not apply).
The scoring tests that need grade ids stay on nbclient (tests/test_exercise_*.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.conftest import REPO_ROOT
from tests.nbval_stubs import stub_cells, tag_stub_cells

SOLUTIONS = sorted(REPO_ROOT.glob("solutions/*/*.ipynb"))
RELEASES = sorted(REPO_ROOT.glob("exercises/*/*.ipynb"))
TIMEOUT = 900  # seconds for one notebook, all its cells


def run_nbval(notebook: Path, tmp_path: Path, *, tag_stubs: bool = False) -> subprocess.CompletedProcess:
    """pytest --nbval-lax on a copy of the notebook's folder, with the stub plugin loaded (and, with
    tag_stubs, the copy's stub cells tagged raises-exception first)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    folder = tmp_path / notebook.parent.name
    shutil.copytree(notebook.parent, folder)
    if tag_stubs:
        assert tag_stub_cells(folder / notebook.name) > 0, f"{notebook.name}: no cell uses a stub"
    ini = tmp_path / "pytest.ini"
    ini.write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "tests.nbval_stubs", "-p", "no:cacheprovider",
               "-c", str(ini), "--rootdir", str(tmp_path), "-q", "--nbval-cell-timeout", "600",
               str(folder / notebook.name)]  # fmt: skip
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def assert_passes(result: subprocess.CompletedProcess, notebook: Path) -> None:
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
    assert result.returncode == 0, f"nbval failed on {notebook.relative_to(REPO_ROOT)}:\n{tail}"


def test_notebooks_are_found():
    assert len(SOLUTIONS) >= 9 and len(RELEASES) == len(SOLUTIONS)


@pytest.mark.parametrize("notebook", SOLUTIONS, ids=lambda p: p.parent.name)
def test_solution_notebook_runs_with_its_hidden_tests(notebook, tmp_path):
    assert_passes(run_nbval(notebook, tmp_path), notebook)


def _release_params():
    for notebook in RELEASES:
        yield pytest.param(notebook, id=notebook.parent.name)


@pytest.mark.parametrize("notebook", list(_release_params()))
def test_release_notebook_locked_cells_run_and_stubs_raise_only_not_implemented(notebook, tmp_path):
    assert_passes(run_nbval(notebook, tmp_path, tag_stubs=True), notebook)


def _tiny_release(tmp_path: Path, tagged_source: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("def f():\n    raise NotImplementedError()"),
                nbformat.v4.new_code_cell(tagged_source, metadata={"tags": ["raises-exception"]})]  # fmt: skip
    path = tmp_path / "src" / "tiny.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    return path


def test_stub_cells_are_the_cells_that_use_a_stub():
    nb = nbformat.v4.new_notebook()
    solution = {"nbgrader": {"solution": True, "grade": False}}
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np"),
                nbformat.v4.new_code_cell("def f(x):\n    raise NotImplementedError()", metadata=solution),
                nbformat.v4.new_code_cell("y = f(2)"), nbformat.v4.new_code_cell("print(y + 1)"),
                nbformat.v4.new_code_cell("print(np.pi)"),
                nbformat.v4.new_code_cell("class C:\n    raise NotImplementedError()", metadata=solution)]  # fmt: skip
    assert stub_cells(nb) == [2, 3, 5]


def test_stub_plugin_accepts_not_implemented_and_rejects_anything_else(tmp_path):
    """The check can fail: a tagged cell that raises ValueError fails the run; NotImplementedError passes."""
    good = run_nbval(_tiny_release(tmp_path / "good", "f()"), tmp_path / "good-run")
    assert good.returncode == 0, good.stdout[-2000:]
    bad = run_nbval(_tiny_release(tmp_path / "bad", "raise ValueError('broken locked cell')"), tmp_path / "bad-run")
    assert bad.returncode != 0 and "ValueError" in bad.stdout, bad.stdout[-2000:]
