"""Grading is safe, fair and robust: hostile submissions against the real grader.

One class = the sample submissions (correct, partial, blank) + every scenario of
tests/hostile.py, graded together in a sandbox with short limits. Expected outcomes are goldens
in tests/fixtures/<assignment>/hostile-expected.json (`pytest --update-goldens` rewrites them).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from autograder.cli import main
from autograder.records.course import Course
from tests.conftest import REPO_ROOT
from tests.hostile import SECRET_ENV, SECRET_VALUE, forgery_scenarios, scenarios
from tests.secret_text import html_text, leaks, secret_lines

pytestmark = pytest.mark.slow

ASSIGNMENT = "01-chain-rule"
FIXTURES = REPO_ROOT / "tests" / "fixtures" / ASSIGNMENT
SAMPLES = FIXTURES / "submissions"
GOLDEN = FIXTURES / "hostile-expected.json"
SHORT_LIMITS = """
c = get_config()
c.SandboxExecute.cell_timeout = 2
c.SandboxExecute.wall_time = 20
c.SandboxExecute.cpu_time = 20
"""


def run(course: Course, *args) -> int:
    base = ["--root", str(course.root), "--state", str(course.state), "--db-url", course.db_url]
    if course.extra_config:
        base += ["--config", str(course.extra_config)]
    return main([*base, *args])


def export(course: Course, tmp_path) -> dict[str, dict]:
    out = tmp_path / f"grades-{time.monotonic_ns()}.csv"
    assert run(course, "export", "--out", str(out)) == 0
    with open(out, newline="") as f:
        return {r["student"]: r for r in csv.DictReader(f) if r["assignment"] == ASSIGNMENT}


@pytest.fixture(scope="module")
def listener():
    """A TCP server on 127.0.0.1 that records every connection it gets."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    connections, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connections.append(server.accept()[1])
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join()
    server.close()


def write_class(folder, listening_port) -> list[str]:
    """The sample submissions plus every hostile scenario, as <student>.ipynb files."""
    folder.mkdir(parents=True)
    for sample in SAMPLES.glob("*.ipynb"):
        shutil.copy(sample, folder / sample.name)
    correct = json.loads((SAMPLES / "correct.ipynb").read_text())
    for name, transform in scenarios(listening_port).items():
        result = transform(correct)
        data = result if isinstance(result, bytes) else json.dumps(result, indent=1).encode()
        (folder / f"{name}.ipynb").write_bytes(data)
    return sorted(p.stem for p in folder.glob("*.ipynb"))


def snapshot(*roots, skip=()) -> dict[str, str]:
    """sha256 of every file under `roots`, except paths containing any of `skip`."""
    digests = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not any(s in str(path) for s in skip) and "__pycache__" not in str(path):
                digests[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory, listener):
    tmp = tmp_path_factory.mktemp("hostile")
    (tmp / "limits.py").write_text(SHORT_LIMITS)
    course = Course.locate(root=REPO_ROOT, state=tmp / "state", config=tmp / "limits.py")
    students = write_class(tmp / "class", listener[0])
    assert run(course, "collect", ASSIGNMENT, str(tmp / "class")) == 0
    protected = [REPO_ROOT / d for d in ("solutions", "exercises", "autograder", "tests", "bpcourse", "book")]
    before = snapshot(*protected, course.state, skip=("autograder/state", "/autograded/", "/release/", "gradebook.db"))
    os.environ[SECRET_ENV] = SECRET_VALUE  # the grader's environment holds a secret
    try:
        assert run(course, "grade", ASSIGNMENT, "--workers", "2") == 0
    finally:
        del os.environ[SECRET_ENV]
    after = snapshot(*protected, course.state, skip=("autograder/state", "/autograded/", "/release/", "gradebook.db"))
    return course, students, export(course, tmp), before, after, tmp


def test_goldens(graded_class, request):
    _, students, rows, *_ = graded_class
    observed = {s: {k: rows[s][k] for k in ("status", "reason", "score")} for s in students}
    if request.config.getoption("--update-goldens"):
        GOLDEN.write_text(json.dumps(observed, indent=2, sort_keys=True) + "\n")
    expected = json.loads(GOLDEN.read_text())
    assert observed == expected


def test_failures_never_score(graded_class):
    _, _, rows, *_ = graded_class
    failed = {s: r for s, r in rows.items() if r["status"] == "failed"}
    assert {"malformed", "malformed-json", "wrong-assignment"} <= set(failed)
    assert all(r["score"] == "" and r["reason"] for r in failed.values())


def test_cheating_with_patched_helpers_gains_nothing(graded_class):
    _, _, rows, *_ = graded_class
    for cheat in ("stubs-and-patched-helpers", "stubs-and-redefined-test-helpers", "stubs-and-cheat-above-the-helpers"):
        assert rows[cheat]["score"] == rows["stubs"]["score"], cheat
    assert float(rows["stubs"]["score"]) < float(rows["correct"]["score"])


def test_forgery_earns_exactly_what_the_honest_answers_earn(graded_class):
    """Stub answers plus an attack on the grader (rewriting tests, frames, descriptors, the
    sending code; exiting; raising BaseExceptions; lying return values): the stubs' score."""
    _, _, rows, *_ = graded_class
    honest = {"return-ndarray-subclass": "return-constant-array"}  # the same data, as a plain array
    for name in forgery_scenarios():
        assert rows[name]["status"] == "graded", (name, rows[name])
        assert rows[name]["score"] == rows[honest.get(name, "stubs")]["score"], (name, rows[name])


def test_constant_answers_earn_nothing(graded_class):
    """Every function returning 0.123 of a plausible shape: no property earns points alone."""
    _, _, rows, *_ = graded_class
    assert rows["return-constant-array"]["status"] == "graded"
    assert rows["return-constant-array"]["score"] == "0"


def test_a_function_that_hangs_costs_only_the_cells_that_call_it(graded_class):
    _, _, rows, *_ = graded_class
    expected = json.loads((FIXTURES / "expected.json").read_text())["correct"]["passed"]
    row = rows["one-function-loops-forever"]
    failing = [test for test in expected if row[test] != rows["correct"][test]]
    assert row["status"] == "graded"
    assert failing == ["neuron_forward", "neuron_dw", "neuron_dx"]


def test_removed_or_altered_tests_are_restored_and_reported(graded_class):
    _, _, rows, *_ = graded_class
    full = rows["correct"]["score"]
    for student, word in [("deleted-test-cell", "deleted"), ("edited-test-cells", "edited")]:
        assert rows[student]["status"] == "graded"
        assert rows[student]["score"] == full
        assert word in rows[student]["reason"]
    assert rows["untagged-test-cells"]["score"] == full  # tests came back and ran


def test_samples_score_the_same_among_hostile_classmates(graded_class):
    _, _, rows, *_ = graded_class
    expected = json.loads((FIXTURES / "expected.json").read_text())
    for student in ("correct", "partial", "blank"):
        assert rows[student]["score"] == str(expected[student]["score"])


def test_no_file_outside_the_submissions_copy_changed(graded_class):
    *_, before, after, _ = graded_class
    assert before == after


def test_nothing_secret_reaches_the_students_own_outputs(graded_class, listener):
    """What the students' own cells printed (test cells' tracebacks are the instructor's)."""
    course, *_ = graded_class
    secrets = secret_lines(next((REPO_ROOT / "solutions" / ASSIGNMENT).glob("*.ipynb")), kinds=("hidden",))
    for notebook in course.autograded_dir.rglob("*.ipynb"):
        cells = json.loads(notebook.read_text())["cells"]
        student_cells = [c for c in cells if not c["metadata"].get("nbgrader", {}).get("grade")]
        outputs = "\n".join(
            json.dumps(o) for c in student_cells for o in c.get("outputs", []) if o["output_type"] != "error"
        )
        assert SECRET_VALUE not in outputs, notebook
        assert "CONNECTED" not in outputs, notebook
        for private in (REPO_ROOT / "solutions", REPO_ROOT / "autograder", REPO_ROOT / "tests", course.state):
            assert str(private) not in outputs, f"{notebook} saw {private}"
        # the read-only Python environment is visible on purpose (nbgrader ships sample files in it)
        outside_env = re.sub(re.escape(sys.prefix) + r"[^'\"\s,\]]*", "", outputs)
        assert "gradebook.db" not in outside_env and "/submitted" not in outside_env, notebook
        assert "wrote " not in outputs, notebook
        assert leaks(secrets, outputs) == [], notebook
    assert listener[1] == [], "a submission reached a server on the grader's machine"


def test_feedback_never_shows_hidden_tests(graded_class):
    course, *_ = graded_class
    assert run(course, "feedback", ASSIGNMENT) == 0
    secrets = secret_lines(next((REPO_ROOT / "solutions" / ASSIGNMENT).glob("*.ipynb")), kinds=("hidden",))
    pages = list(course.feedback_dir.rglob("*.html"))
    assert pages
    for page in pages:
        assert leaks(secrets, html_text(page)) == [], page


def test_output_flood_is_bounded(graded_class):
    course, *_ = graded_class
    notebook = next((course.autograded_dir / "output-flood" / ASSIGNMENT).glob("*.ipynb"))
    assert notebook.stat().st_size < 2_000_000


def test_parallel_and_serial_grading_agree(graded_class, tmp_path):
    course, students, rows, *_ = graded_class
    serial = Course.locate(root=REPO_ROOT, state=tmp_path / "state", config=course.extra_config)
    assert run(serial, "collect", ASSIGNMENT, str(graded_class[-1] / "class")) == 0
    quick = [s for s in students if s not in ("loop-ignoring-interrupts", "infinite-loop")]
    assert run(serial, "grade", ASSIGNMENT, "--workers", "1", *[a for s in quick for a in ("--student", s)]) == 0
    serial_rows = export(serial, tmp_path)
    for student in quick:
        assert serial_rows[student] == rows[student], student


def test_resume_after_kill_9_loses_nothing(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(8):
        shutil.copy(SAMPLES / "correct.ipynb", folder / f"student{i:02d}.ipynb")
    course = Course.locate(root=REPO_ROOT, state=tmp_path / "state")
    assert run(course, "collect", ASSIGNMENT, str(folder)) == 0
    command = [
        sys.executable,
        "-m",
        "autograder",
        "--state",
        str(course.state),
        "grade",
        ASSIGNMENT,
        "--workers",
        "1",
    ]
    grader = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _count(course, "graded") < 2:
        time.sleep(0.05)
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    done_before = _count(course, "graded")
    assert 2 <= done_before < 8, "the kill should land mid-run"
    assert run(course, "grade", ASSIGNMENT) == 0
    rows = export(course, tmp_path)
    full = json.loads((FIXTURES / "expected.json").read_text())["correct"]["score"]
    assert {r["status"] for r in rows.values()} == {"graded"}
    assert {r["score"] for r in rows.values()} == {str(full)}


def _count(course, status) -> int:
    try:
        return sum(s.status == status for s in course.statuses().all().values())
    except Exception:  # the database is being created
        return 0


def test_postgresql_gradebook_gives_the_same_grades(tmp_path):
    from tests.pgserver import postgres_server

    with postgres_server() as url:
        course = Course.locate(root=REPO_ROOT, state=tmp_path / "state", db_url=url)
        assert run(course, "collect", ASSIGNMENT, str(SAMPLES)) == 0
        assert run(course, "grade", ASSIGNMENT, "--shard", "1/2") == 0
        assert run(course, "grade", ASSIGNMENT, "--shard", "2/2") == 0
        rows = export(course, tmp_path)
    expected = json.loads((FIXTURES / "expected.json").read_text())
    for student, golden in expected.items():
        assert rows[student]["status"] == golden["status"]
        assert rows[student]["score"] == ("" if golden["score"] is None else str(golden["score"]))


def test_grading_refuses_to_run_without_a_sandbox(tmp_path, monkeypatch, capsys):
    course = Course.locate(root=REPO_ROOT, state=tmp_path / "state")
    assert run(course, "collect", ASSIGNMENT, str(SAMPLES)) == 0
    monkeypatch.setenv("PATH", "/nonexistent")  # no bwrap to be found
    assert run(course, "grade", ASSIGNMENT) == 2
    assert "--unsafe-no-sandbox" in capsys.readouterr().err
    assert run(course, "grade", ASSIGNMENT, "--unsafe-no-sandbox", "--student", "correct") == 0
    assert export(course, tmp_path)["correct"]["status"] == "graded"
