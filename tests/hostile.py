"""Hostile and broken submissions, built from a correct one by scenario-named transformations.

Each scenario is a function notebook -> notebook (or bytes, for malformed files). The tests
grade them all together as one class and compare with tests/fixtures/hostile-expected.json
(statuses, scores and reasons; refresh with `pytest --update-goldens`).
"""

from __future__ import annotations

import copy
import json

SECRET_ENV = "AUTOGRADER_TEST_SECRET"
SECRET_VALUE = "s3cret-token-that-must-not-leak"


def _code(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


def _grade_ids(nb, *, test=None):
    ids = []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") and (test is None or bool(meta.get("grade")) == test):
            ids.append(meta["grade_id"])
    return ids


def _append(source):
    def transform(nb):
        nb = copy.deepcopy(nb)
        nb["cells"].append(_code(source))
        return nb

    return transform


def _after_first_answer(source):
    """Insert a cell right after the first answer cell, so that the tests run after it."""

    def transform(nb):
        nb = copy.deepcopy(nb)
        first = next(i for i, c in enumerate(nb["cells"]) if c["metadata"].get("nbgrader", {}).get("solution"))
        nb["cells"].insert(first + 1, _code(source))
        return nb

    return transform


def _at_top(source):
    """Insert a cell before everything else, above the grading helpers."""

    def transform(nb):
        nb = copy.deepcopy(nb)
        nb["cells"].insert(0, _code(source))
        return nb

    return transform


def _with_answers(answer_source):
    """Replace the body of every answer cell (keeps the cell and its metadata)."""

    def transform(nb):
        nb = copy.deepcopy(nb)
        for cell in nb["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("solution"):
                cell["source"] = answer_source(cell)
        return nb

    return transform


def _stub_everything(cell) -> str:
    """Every function of the answer cell returns None; classes get no methods."""
    import re

    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    names = re.findall(r"^def (\w+)\(", source, flags=re.M)
    return "\n".join(f"def {name}(*args, **kwargs):\n    return None\n" for name in names) or "pass"


CHEAT_HELPERS = """
import numpy as np, math, numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: np.ones(np.broadcast(*a[:2]).shape, bool) if a else True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_equal = lambda *a, **k: None
np.testing.assert_almost_equal = lambda *a, **k: None
math.isclose = lambda *a, **k: True
math.isfinite = lambda *a, **k: True
import builtins
builtins.abs = lambda x: 0
"""

REDEFINE_TEST_HELPERS = """
def _close(*args, **kwargs):
    return None
_floats = _quietly = _check = _close
"""

SNOOP = """
import os
found, seen = [], 0
for top, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(top, d) not in ("/proc", "/sys", "/dev", "/usr")]
    seen += 1
    for name in dirs + files:
        if name in ("solutions", "submitted", "autograded", "gradebook.db") or name.endswith(".ipynb"):
            found.append(os.path.join(top, name))
    if seen > 20000:
        break
print("FOUND", sorted(found)[:50])
for up in ["..", "../..", "../../..", "/work", "/root"]:
    try:
        print(up, os.listdir(up)[:20])
    except Exception as e:
        print(up, type(e).__name__)
"""

WRITE_GRADEBOOK = """
import os, sqlite3
hits = [os.path.join(top, f) for top, dirs, files in os.walk("/tmp") for f in files if f.endswith(".db")]
hits += ["/work/main/autograder/state/gradebook.db", "../gradebook.db", "../../gradebook.db"]
for path in hits:
    try:
        db = sqlite3.connect(path)
        db.execute("update grade set auto_score = 0")
        db.commit()
        print("wrote", path)
    except Exception as e:
        print("could not write a database:", type(e).__name__)
"""

NETWORK = """
import socket
for host, port in [("127.0.0.1", {port}), ("10.0.0.1", 80), ("8.8.8.8", 53)]:
    try:
        socket.create_connection((host, port), timeout=2).close()
        print("CONNECTED", host, port)
    except Exception as e:
        print("no connection", host, port, type(e).__name__)
"""


def scenarios(listening_port: int) -> dict:
    """name -> transformation of the correct notebook (or a function returning raw bytes)."""

    def delete_first_test(nb):
        nb = copy.deepcopy(nb)
        first_test = _grade_ids(nb, test=True)[0]
        nb["cells"] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != first_test]
        return nb

    def edit_every_test(nb):
        nb = copy.deepcopy(nb)
        for cell in nb["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade"):
                cell["source"] = "# the student replaced this test\npass"
        return nb

    def untag_every_test(nb):
        nb = copy.deepcopy(nb)
        for cell in nb["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade"):
                cell["metadata"]["nbgrader"]["grade"] = False
                cell["source"] = "pass"
        return nb

    def other_assignment(nb):
        nb = copy.deepcopy(nb)
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader")
            if meta and meta.get("grade_id"):
                meta["grade_id"] = "other-" + meta["grade_id"]
        return nb

    return {
        "infinite-loop": _append("while True:\n    pass"),
        "loop-ignoring-interrupts": _after_first_answer(
            "import signal\nfor s in (signal.SIGALRM, signal.SIGINT, signal.SIGTERM):\n"
            "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass"
        ),
        "os-exit": _after_first_answer("import os\nos._exit(0)"),
        "memory-bomb": _append("hog = bytearray(64 * 1024**3)"),
        "output-flood": _append("for _ in range(300_000):\n    print('flood ' * 20)"),
        "fork-bomb": _append("import os\nwhile True:\n    os.fork()"),
        "stubs": _with_answers(_stub_everything),
        "stubs-and-patched-helpers": lambda nb: _after_first_answer(CHEAT_HELPERS)(_with_answers(_stub_everything)(nb)),
        "stubs-and-redefined-test-helpers": lambda nb: _after_first_answer(REDEFINE_TEST_HELPERS)(
            _with_answers(_stub_everything)(nb)
        ),
        "stubs-and-cheat-above-the-helpers": lambda nb: _at_top(CHEAT_HELPERS)(_with_answers(_stub_everything)(nb)),
        "reads-solutions-and-others": _append(SNOOP),
        "writes-gradebook": _append(WRITE_GRADEBOOK),
        "reads-environment": _append("import os\nprint(dict(os.environ))"),
        "network": _append(NETWORK.format(port=listening_port)),
        "edited-test-cells": edit_every_test,
        "untagged-test-cells": untag_every_test,
        "deleted-test-cell": delete_first_test,
        "wrong-assignment": other_assignment,
        "malformed-json": lambda nb: json.dumps(nb)[: len(json.dumps(nb)) // 2].encode(),
    }
