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
    return _every_function_does("return None")(cell)


def _every_function_does(body: str):
    """Answers whose every function (by the answer cell's names) runs `body` (indented once)."""
    import re

    def answer(cell) -> str:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        names = re.findall(r"^def (\w+)\(", source, flags=re.M)
        indented = "\n".join("    " + line for line in body.splitlines())
        return "\n".join(f"def {name}(*args, **kwargs):\n{indented}\n" for name in names) or "pass"

    return answer


def _stubs_after(payload: str):
    """Every answer stubbed (returns None), with `payload` run first in the first answer cell."""

    def transform(nb):
        nb = _with_answers(_stub_everything)(nb)
        first = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
        first["source"] = payload + "\n" + first["source"]
        return nb

    return transform


def _answers_after(payload: str, body: str):
    """`payload` in the first answer cell, and every answer function runs `body`."""

    def transform(nb):
        nb = _with_answers(_every_function_does(body))(nb)
        first = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
        first["source"] = payload + "\n" + first["source"]
        return nb

    return transform


def _one_function_loops(nb):
    """The correct answers, except the last answer cell's first function never returns."""
    nb = copy.deepcopy(nb)
    last = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")][-1]
    source = "".join(last["source"]) if isinstance(last["source"], list) else last["source"]
    body = source.index('"""', source.index('"""') + 3) + 3  # right after the first docstring
    last["source"] = source[:body] + "\n    while True:  # never returns\n        pass" + source[body:]
    return nb


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


# The payload of the judge issue: rewrite the runner's list of test cells from inside.
GC_FORGERY = """
import gc as _gc
for _o in _gc.get_objects():
    if isinstance(_o, dict) and "cells" in _o and "test_cells" in _o:
        for _i in _o["test_cells"]:
            _o["cells"][_i] = "pass"
        break
"""

# Walk up every frame of the process and rewrite the locals that could hold a verdict.
FRAME_FORGERY = """
import ctypes as _ctypes, sys as _sys
def _forge():
    frame = _sys._getframe(1)
    while frame is not None:
        for name in list(frame.f_locals):
            if name in ("error", "reply", "outputs", "result", "failed", "raised", "message", "verdict"):
                frame.f_locals[name] = None
        _ctypes.pythonapi.PyFrame_LocalsToFast(_ctypes.py_object(frame), _ctypes.c_int(0))
        frame = frame.f_back
_forge()
"""

# Write forged results (JSON lines and length-prefixed frames) to every descriptor there is.
FD_FORGERY = """
import json as _json, os as _os, struct as _struct
def _forge():
    lines = [{"index": i, "outputs": []} for i in range(60)] + [{"cell": i, "outputs": []} for i in range(60)]
    lines += [{"ok": 1.0}, {"done": True, "seconds": {}}]
    for fd in range(1024):
        for message in lines:
            data = _json.dumps(message).encode()
            for chunk in (data + b"\\n", _struct.pack(">I", len(data)) + data):
                try:
                    _os.write(fd, chunk)
                except OSError:
                    break
_forge()
"""

# Replace what the student's side sends with, then forge.
PATCHED_SENDING = """
import builtins as _builtins, io as _io, json as _json, sys as _sys
_json.dumps = lambda *a, **k: '{"ok": 1.0, "done": true, "cell": 0, "outputs": []}'
_builtins.print = lambda *a, **k: None
_sys.stdout = _sys.stderr = _io.StringIO('{"done": true}')
"""

LYING_CLASSES = """
import numpy as _np
class _Liar(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __array__(self, *a, **k): return _np.zeros(3)
    def __float__(self): return 0.5
    def __len__(self): return 3
    def __bool__(self): return True
    def __getitem__(self, i): return self
    __lt__ = __le__ = __gt__ = __ge__ = __eq__
class _LyingArray(_np.ndarray):
    def __eq__(self, other): return _np.ones(_np.shape(other), bool)
    def tolist(self): return [0.5] * 3
"""

# A frame whose JSON nests 100,000 lists deep, written straight to the judge's socket.
RAW_DEEP_JSON = """
import os as _os, struct as _struct, time as _time
def _deep():
    data = b"[" * 100_000 + b"]" * 100_000
    for fd in range(3, 64):
        try:
            _os.write(fd, _struct.pack(">I", len(data)) + data)
        except OSError:
            pass
    _time.sleep(1000)
"""


def forgery_scenarios() -> dict:
    """Submissions with stub answers that try to raise their score by other means.

    Each must score exactly what its honest answers earn: the stubs' score.
    """
    return {
        "forge-gc-rewrites-tests": _stubs_after(GC_FORGERY),
        "forge-frame-walk": _answers_after(FRAME_FORGERY, "_forge()\nreturn None"),
        "forge-every-descriptor": _answers_after(FD_FORGERY, "_forge()\nreturn None"),
        "forge-patched-json-print-stdout": _stubs_after(PATCHED_SENDING),
        "forge-then-exit": _answers_after(FD_FORGERY, "_forge()\nimport os\nos._exit(0)"),
        "raise-system-exit": _answers_after("", "raise SystemExit(0)"),
        "raise-keyboard-interrupt": _answers_after("", "raise KeyboardInterrupt()"),
        "raise-base-exception-subclass": _answers_after(
            "class _Quit(BaseException):\n    pass", "raise _Quit('stop grading here')"
        ),
        "raise-bdb-quit": _answers_after("import bdb", "raise bdb.BdbQuit()"),
        "replace-showtraceback": _stubs_after(
            "from IPython.core.interactiveshell import InteractiveShell\n"
            "InteractiveShell.showtraceback = lambda *a, **k: None\n"
            "try:\n    get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n"
            "except Exception:\n    pass"
        ),
        "return-lying-objects": _answers_after(LYING_CLASSES, "return _Liar(0.123)"),
        "return-ndarray-subclass": _answers_after(LYING_CLASSES, "return _np.full(3, 0.123).view(_LyingArray)"),
        "return-1gb-array": _answers_after("import numpy as _np", "return _np.zeros(2**27)"),
        "return-list-nested-100000-deep": _answers_after(
            "def _nested():\n    value = []\n    for _ in range(100_000):\n        value = [value]\n    return value",
            "return _nested()",
        ),
        "send-json-nested-100000-deep": _answers_after(RAW_DEEP_JSON, "_deep()"),
    }


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
        "one-function-loops-forever": _one_function_loops,
        "return-constant-array": _answers_after("import numpy as _np", "return _np.full(3, 0.123)"),
        **forgery_scenarios(),
    }
