"""Committed notebooks carry no outputs and no stray metadata: git holds sources, not results."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO_ROOT

NOTEBOOKS = sorted(p for d in ("solutions", "exercises") for p in (REPO_ROOT / d).rglob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_notebook_has_no_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert dirty == [], f"cells {dirty} of {path.name} hold outputs or execution counts: clear them"
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
