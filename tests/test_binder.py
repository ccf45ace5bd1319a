"""Binder's environment (binder/) gives every release exactly what it imports, and nothing of the
build and grading tools of the root's requirements.txt."""

from __future__ import annotations

import ast
import json
import re
import sys

from tests.conftest import REPO_ROOT

BINDER = REPO_ROOT / "binder"
TOOLS = {"nbgrader", "jupyter-book", "playwright", "dask", "distributed", "pytest", "ruff", "psycopg2-binary",
         "sqlalchemy", "copydetect", "nbval"}  # fmt: skip
DISTRIBUTIONS = {"numpy": "numpy", "matplotlib": "matplotlib", "ipywidgets": "ipywidgets"}  # import -> PyPI name
LOCAL = "bpcourse"  # this repository's package: `-e .`
KERNEL = {"IPython", "ipykernel"}  # every Binder image has the Jupyter kernel (repo2docker installs it)


def pins(path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.split("#")[0].strip())
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def imports(source: str) -> set[str]:
    """Top-level module names imported anywhere in `source` (also inside functions and try blocks)."""
    plain = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    names = set()
    for node in ast.walk(ast.parse(plain)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module if node.module.startswith(f"{LOCAL}.") else node.module.split(".")[0])
    return names


def release_imports() -> dict[str, set[str]]:
    """{module: releases importing it}, following bpcourse's own imports of the modules a release uses."""
    found: dict[str, set[str]] = {}
    for path in sorted((REPO_ROOT / "exercises").glob("*/*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                for name in imports(source):
                    found.setdefault(name, set()).add(path.parent.name)
    todo = [m for m in found if m.startswith(f"{LOCAL}.")]
    while todo:
        module = todo.pop()
        for name in imports((REPO_ROOT / (module.replace(".", "/") + ".py")).read_text()):
            if name.startswith(f"{LOCAL}.") and name not in found:
                todo.append(name)
            found.setdefault(name, set()).update(found[module])
    return {(LOCAL if m.startswith(f"{LOCAL}.") else m): r for m, r in found.items()}


def test_every_release_import_is_in_binders_environment():
    requirements = (BINDER / "requirements.txt").read_text()
    pinned = pins(BINDER / "requirements.txt")
    needed = release_imports()
    assert "numpy" in needed and LOCAL in needed  # the scan sees the imports (05's explorer cell: bpcourse)
    missing = {}
    for module, releases in needed.items():
        if module in sys.stdlib_module_names or module == "__future__" or module in KERNEL:
            continue
        if module == LOCAL:
            ok = re.search(r"^-e \.$", requirements, re.M) is not None
        else:
            ok = DISTRIBUTIONS.get(module, module).lower() in pinned
        if not ok:
            missing[module] = sorted(releases)
    assert missing == {}, f"add to binder/requirements.txt (with the root's pin): {missing}"


def test_binder_pins_what_the_course_is_graded_with_and_no_build_or_grading_tool():
    pinned, root = pins(BINDER / "requirements.txt"), pins(REPO_ROOT / "requirements.txt")
    assert set(pinned) & TOOLS == set()
    assert {name: version for name, version in pinned.items() if root.get(name) != version} == {}
    dependencies = re.search(r"dependencies = \[(.*?)\]", (REPO_ROOT / "pyproject.toml").read_text()).group(1)
    assert {d.strip().strip('"').lower() for d in dependencies.split(",")} <= set(pinned)  # bpcourse's own needs
    assert (BINDER / "runtime.txt").read_text().strip() == f"python-{sys.version_info.major}.{sys.version_info.minor}"


def test_the_scan_would_catch_a_release_importing_something_binder_lacks():
    assert imports("import scipy.linalg\nfrom torch import nn\nimport numpy as np") == {"scipy", "torch", "numpy"}
    assert "scipy" not in pins(BINDER / "requirements.txt")
