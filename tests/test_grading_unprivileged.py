"""The grader run by an ordinary user: one student cannot hurt another, and limits hold.

CI runs as root, where the grader can make cgroups; an instructor usually cannot. These tests
drop to the user `nobody` (runuser) and grade a class through the real CLI with two workers:
correct classmates beside a student who forks up to the process limit and sleeps, one who
tries to fill every writable file system, and ones whose answers raise BdbQuit or replace
IPython's traceback display. The classmates keep full marks; the hogs get exactly what their
answers earn; nothing the hogs write outlives their own process or exceeds its bounds.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.hostile import _answers_after, _append, _stubs_after

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become nobody")]
ASSIGNMENT = "01-chain-rule"
SAMPLES = REPO_ROOT / "tests" / "fixtures" / ASSIGNMENT / "submissions"
USER = "nobody"

FORK_AND_SLEEP = """
import os as _os, time as _time
_children = 0
while True:
    try:
        pid = _os.fork()
    except OSError:
        break
    if pid == 0:
        _time.sleep(1000)
        _os._exit(0)
    _children += 1
print("forked", _children, "processes")
"""

FILL_EVERYTHING = """
import os as _os
def _fill(path):
    written = 0
    try:
        with open(path, "wb") as f:
            for _ in range(256):
                f.write(b"x" * 4 * 1024 * 1024)
                f.flush()
                written += 4 * 1024 * 1024
    except OSError:
        pass
    try:
        written = _os.path.getsize(path)
    except OSError:
        pass
    return written
for _place in ("/dev/shm/fill", "/tmp/fill", "/fill", "/dev/fill", "/sandbox/fill"):
    print("wrote", _place, _fill(_place))
"""


HOARD_MEMORY = """
import os, time
import numpy as np
done_reading, done_writing = os.pipe()
for _ in range(6):  # 6 x 500 MB: each process is under its own address-space limit, the sandbox is not
    if os.fork() == 0:
        hoard = np.ones(500 * 1024**2 // 8)
        os.write(done_writing, b"x")
        time.sleep(1000)
for _ in range(6):
    os.read(done_reading, 1)
time.sleep(2)  # the grader looks four times a second
print("the hoard survived")
"""


def _grant_traverse(paths: list[Path]) -> list[tuple[Path, int]]:
    """Let others traverse every folder on the way to `paths` (and read them); returns what to undo."""
    changed = []
    for target in paths:
        for folder in [*reversed(target.parents), target]:
            if not folder.is_dir():
                continue
            mode = folder.stat().st_mode
            if not mode & stat.S_IXOTH or not mode & stat.S_IROTH:
                changed.append((folder, mode))
                folder.chmod(mode | stat.S_IXOTH | stat.S_IROTH)
    return changed


@contextlib.contextmanager
def nobody_workspace():
    """A folder `nobody` owns, and a function running `python -m autograder ARGS` as nobody there.

    The folders on the way to Python, the repository and the workspace are made traversable for
    the time of the test (a fresh machine's /root is not), then restored.
    """
    tmp = Path(tempfile.mkdtemp(prefix="autograder-unprivileged-"))
    tmp.chmod(0o755)
    python = Path(sys.executable)
    undo = _grant_traverse([python.parent, python.resolve().parent, Path(sys.base_prefix).resolve(), REPO_ROOT, tmp])
    user = pwd.getpwnam(USER)

    def as_nobody(*args):
        for path in [tmp, *tmp.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)
        command = ["runuser", "-u", USER, "--", "env", f"HOME={tmp}", sys.executable, "-m", "autograder", *args]
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        return done.stdout

    try:
        yield tmp, as_nobody
    finally:
        for folder, mode in reversed(undo):
            folder.chmod(mode)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def graded_as_nobody():
    with nobody_workspace() as (tmp, as_nobody):
        folder = tmp / "class"
        folder.mkdir()
        correct = json.loads((SAMPLES / "correct.ipynb").read_text())
        scenarios = {
            "a-forks-to-the-limit-and-sleeps": _answers_after(FORK_AND_SLEEP, "return None"),
            "a-fills-every-file-system": _answers_after(FILL_EVERYTHING, "return None"),
            "a-raises-bdb-quit": _answers_after("import bdb", "raise bdb.BdbQuit()"),
            "a-hoards-memory-in-many-processes": _append(HOARD_MEMORY),
            "a-replaces-showtraceback": _stubs_after(
                "from IPython.core.interactiveshell import InteractiveShell\n"
                "InteractiveShell.showtraceback = lambda *a, **k: None\n"
            ),
        }
        for name, transform in scenarios.items():
            (folder / f"{name}.ipynb").write_text(json.dumps(transform(correct)))
        for i in range(4):
            shutil.copy(SAMPLES / "correct.ipynb", folder / f"b-correct-{i}.ipynb")
        state = tmp / "state"
        state.mkdir()
        (tmp / "limits.py").write_text("c = get_config()\nc.SandboxExecute.cell_timeout = 30\n")
        base = ["--root", str(REPO_ROOT), "--state", str(state), "--config", str(tmp / "limits.py")]
        as_nobody(*base, "collect", ASSIGNMENT, str(folder))
        as_nobody(*base, "grade", ASSIGNMENT, "--workers", "2")
        as_nobody(*base, "export", "--out", str(tmp / "grades.csv"))
        import csv

        with open(tmp / "grades.csv", newline="") as f:
            rows = {r["student"]: r for r in csv.DictReader(f) if r["assignment"] == ASSIGNMENT}
        yield rows, state


def _printed(state: Path, student: str) -> str:
    notebook = next((state / "autograded" / student / ASSIGNMENT).glob("*.ipynb"))
    cells = json.loads(notebook.read_text())["cells"]
    return "".join("".join(o["text"]) for c in cells for o in c.get("outputs", []) if o["output_type"] == "stream")


def test_classmates_of_a_process_hog_keep_full_marks(graded_as_nobody):
    rows, state = graded_as_nobody
    full = json.loads((SAMPLES.parent / "expected.json").read_text())["correct"]["score"]
    for i in range(4):
        assert rows[f"b-correct-{i}"]["status"] == "graded"
        assert rows[f"b-correct-{i}"]["score"] == str(full)
    assert "forked" in _printed(state, "a-forks-to-the-limit-and-sleeps")  # the hog did run


def test_the_process_limit_holds_per_sandbox(graded_as_nobody):
    _, state = graded_as_nobody
    forked = int(_printed(state, "a-forks-to-the-limit-and-sleeps").split("forked ")[1].split()[0])
    assert 10 < forked < 64


def test_no_writable_file_system_outlives_its_bounds(graded_as_nobody):
    rows, state = graded_as_nobody
    written = {
        line.split()[1]: int(line.split()[2])
        for line in _printed(state, "a-fills-every-file-system").splitlines()
        if line.startswith("wrote ")
    }
    assert written["/tmp/fill"] <= 64 * 1024 * 1024  # the student's private /tmp
    assert written["/dev/shm/fill"] == written["/fill"] == written["/dev/fill"] == written["/sandbox/fill"] == 0
    assert rows["a-fills-every-file-system"]["status"] == "graded"


def test_a_sandbox_that_outgrows_its_memory_is_stopped(graded_as_nobody):
    rows, state = graded_as_nobody
    full = json.loads((SAMPLES.parent / "expected.json").read_text())["correct"]["score"]
    assert rows["a-hoards-memory-in-many-processes"]["score"] == str(full)  # its answers are correct
    assert "the hoard survived" not in _printed(state, "a-hoards-memory-in-many-processes")
    notebook = next((state / "autograded" / "a-hoards-memory-in-many-processes" / ASSIGNMENT).glob("*.ipynb"))
    errors = [o["ename"] for c in json.loads(notebook.read_text())["cells"] for o in c.get("outputs", [])
              if o["output_type"] == "error"]  # fmt: skip
    assert errors == ["ProcessEnded"]  # stopped by the memory watch, not by the cell's time limit


def test_errors_that_hide_themselves_still_fail_their_cells(graded_as_nobody):
    rows, _ = graded_as_nobody
    for student in ("a-raises-bdb-quit", "a-replaces-showtraceback"):
        assert rows[student]["status"] == "graded"
        assert rows[student]["score"] == "0"


def test_collect_and_feedback_as_nobody_keep_identities_and_escape_student_html():
    """A Moodle zip whose entry `Alice_2003_.../bob.ipynb` sorts before Bob's own folder: Bob keeps
    his work; Bob's notebook carries HTML meant to run script: his feedback shows it as text."""
    import html.parser
    import zipfile

    from tests.lms_downloads import hostile

    with nobody_workspace() as (tmp, as_nobody):
        archive = tmp / "moodle.zip"
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("Alice Smith_2003_assignsubmission_file_/bob.ipynb", (SAMPLES / "blank.ipynb").read_bytes())
            z.writestr(
                "Bob Jones_2004_assignsubmission_file_/bob.ipynb", hostile((SAMPLES / "correct.ipynb").read_bytes())
            )
        state = tmp / "state"
        state.mkdir()
        base = ["--root", str(REPO_ROOT), "--state", str(state)]
        as_nobody(*base, "collect", ASSIGNMENT, str(archive))
        as_nobody(*base, "grade", ASSIGNMENT)
        as_nobody(*base, "export", "--out", str(tmp / "grades.csv"))
        as_nobody(*base, "feedback", ASSIGNMENT)
        import csv

        with open(tmp / "grades.csv", newline="") as f:
            rows = {r["student"]: r for r in csv.DictReader(f)}
        full = json.loads((SAMPLES.parent / "expected.json").read_text())["correct"]["score"]
        assert rows["2004"]["score"] == str(full)  # Bob's own correct work, not Alice's blank copy
        assert rows["2003"]["score"] == "0"
        page = next((state / "feedback" / "2004").rglob("*.html")).read_text(encoding="utf-8")

        class Tags(html.parser.HTMLParser):
            tags: list = []

            def handle_starttag(self, tag, attrs):
                self.tags.append((tag, [name for name, _ in attrs if name.startswith("on")]))

        parsed = Tags()
        parsed.feed(page)
        assert all(tag != "script" and not handlers for tag, handlers in parsed.tags)
        assert "&lt;script&gt;window.__pwned = 1" in page
