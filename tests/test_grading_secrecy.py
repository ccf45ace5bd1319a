"""The hidden tests never reach the student's process.

A copy of 01-chain-rule gets a hidden test holding a unique marker. The submission is correct,
but its sigmoid, while the hidden tests call it, and a cell of its own search their whole
process for the marker: every object the garbage collector can reach (strings, bytes, code
constants), every module's globals, the process's own memory (/proc/self/mem, where /proc is
visible at all), its argv and environment, and every file outside the read-only Python
installation. They find nothing, the marker's test still runs (and passes), and neither the
autograded notebook's student outputs nor the feedback show the marker.
"""

from __future__ import annotations

import json
import shutil
import uuid

import pytest

from autograder.cli import main
from autograder.records.course import Course
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
ASSIGNMENT = "01-chain-rule"
PREFIX = "SECRETMARK-"

# The search never holds the marker itself: it looks for PREFIX followed by 32 hex digits.
SEARCH = r"""
def _search_everything(where, root="/"):
    import gc, os, re, sys, types
    pattern = re.compile(PREFIX + "[0-9a-f]{32}")
    bpattern = re.compile(PREFIX.encode() + b"[0-9a-f]{32}")
    found, looked = [], {"objects": 0, "modules": 0, "memory bytes": 0, "files": 0}

    def text_of(obj):
        if isinstance(obj, str):
            return obj
        if isinstance(obj, (bytes, bytearray)):
            return obj.decode("latin-1")
        if isinstance(obj, types.CodeType):
            return repr(obj.co_consts) + repr(obj.co_names)
        return ""

    for obj in gc.get_objects():
        looked["objects"] += 1
        items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple, set)) else [obj]
        for item in list(items)[:10000]:
            if pattern.search(text_of(item)):
                found.append("gc")
    for module in list(sys.modules.values()):
        looked["modules"] += 1
        for value in list(getattr(module, "__dict__", {}).values()):
            if pattern.search(text_of(value)):
                found.append("module " + module.__name__)
    if pattern.search(" ".join(sys.argv)) or pattern.search(repr(dict(os.environ))):
        found.append("argv or environment")
    try:
        with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
            for line in maps:
                span, perms = line.split()[:2]
                if "r" not in perms:
                    continue
                start, end = (int(x, 16) for x in span.split("-"))
                if end - start > 256 * 1024 * 1024:
                    continue
                try:
                    mem.seek(start)
                    chunk = mem.read(end - start)
                except (OSError, ValueError, OverflowError):
                    continue
                looked["memory bytes"] += len(chunk)
                if bpattern.search(chunk):
                    found.append("memory")
    except OSError:
        pass
    skip = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, "/usr", "/proc", "/sys", "/dev")}
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if os.path.realpath(os.path.join(top, d)) not in skip]
        for name in files:
            path = os.path.join(top, name)
            try:
                if os.path.getsize(path) < 4 * 1024 * 1024:
                    looked["files"] += 1
                    with open(path, "rb") as f:
                        if bpattern.search(f.read()):
                            found.append("file " + path)
            except OSError:
                pass
    print(where, "searched", looked, "FOUND" if found else "found nothing", sorted(set(found)))
""".replace("PREFIX", repr(PREFIX))


def test_the_search_finds_a_marker_where_there_is_one(tmp_path, capsys):
    """The control: the same search, in this process, with the marker in memory and in a file."""
    marker = PREFIX + uuid.uuid4().hex
    (tmp_path / "leak.txt").write_text(marker)
    namespace = {"planted": [marker]}
    exec(SEARCH, namespace)
    namespace["_search_everything"]("control:", root=str(tmp_path))
    printed = capsys.readouterr().out
    assert "FOUND" in printed and "gc" in printed and "leak.txt" in printed, printed


def with_marker(source_notebook, marker: str) -> dict:
    """The source notebook with `marker` in the hidden part of the sigmoid_values test."""
    nb = json.loads(source_notebook.read_text())
    (cell,) = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "sigmoid_values"]
    source = "".join(cell["source"])
    assert "### BEGIN HIDDEN TESTS\n" in source
    cell["source"] = source.replace(
        "### BEGIN HIDDEN TESTS\n", f'### BEGIN HIDDEN TESTS\n_marker = "{marker}"\nassert len(_marker) == 43\n', 1
    )
    return nb


def searching_submission(correct: dict) -> dict:
    """The correct answers; sigmoid searches the process the first time a test calls it."""
    nb = json.loads(json.dumps(correct))
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade_id") == "sigmoid":
            cell["source"] = (
                SEARCH
                + "".join(cell["source"])
                + "\n_plain_sigmoid = sigmoid\n_calls = [0]\n"
                + "def sigmoid(z):\n    _calls[0] += 1\n    if _calls[0] == 4:  # inside the hidden tests\n"
                + "        _search_everything('during a hidden test:')\n    return _plain_sigmoid(z)\n"
            )
    nb["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": "_search_everything('in a cell of its own:')",
        }
    )
    return nb


def test_a_submission_that_searches_its_process_finds_no_hidden_test(tmp_path):
    marker = PREFIX + uuid.uuid4().hex
    root = tmp_path / "course"
    source = root / "solutions" / ASSIGNMENT
    source.mkdir(parents=True)
    original = next((REPO_ROOT / "solutions" / ASSIGNMENT).glob("*.ipynb"))
    (source / original.name).write_text(json.dumps(with_marker(original, marker)))
    shutil.copytree(REPO_ROOT / "exercises", root / "exercises")
    (tmp_path / "limits.py").write_text("c = get_config()\nc.SandboxExecute.cell_timeout = 60\n")
    folder = tmp_path / "class"
    folder.mkdir()
    correct = json.loads((REPO_ROOT / "tests" / "fixtures" / ASSIGNMENT / "submissions" / "correct.ipynb").read_text())
    (folder / "searcher.ipynb").write_text(json.dumps(searching_submission(correct)))
    course = Course.locate(root=root, state=tmp_path / "state", config=tmp_path / "limits.py")
    base = ["--root", str(root), "--state", str(course.state), "--config", str(tmp_path / "limits.py")]
    assert main([*base, "collect", ASSIGNMENT, str(folder)]) == 0
    assert main([*base, "grade", ASSIGNMENT]) == 0
    assert main([*base, "feedback", ASSIGNMENT]) == 0

    graded = json.loads(next(course.autograded_dir.rglob("*.ipynb")).read_text())
    printed = "\n".join(
        "".join(o["text"]) for c in graded["cells"] for o in c.get("outputs", []) if o["output_type"] == "stream"
    )
    assert "during a hidden test: searched" in printed and "in a cell of its own: searched" in printed
    assert "FOUND" not in printed, printed
    assert "found nothing" in printed
    assert marker not in json.dumps(graded["cells"][-1]), "the student's own cell shows the marker"
    with course.gradebook() as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, "searcher")
        grades = {g.name: (g.score, g.max_score) for nb in submission.notebooks for g in nb.grades}
    score, points = grades["sigmoid_values"]
    assert score == points > 0  # the marker's test ran, and passed
    for page in course.feedback_dir.rglob("*.html"):
        assert marker not in page.read_text(errors="replace")
