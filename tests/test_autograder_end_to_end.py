"""An instructor's path end to end, on the scenario-named sample submissions:
collect (folder and zip) -> grade -> export -> feedback, through the real nbgrader.

Goldens: tests/fixtures/<assignment>/expected.json gives, per scenario (= student id), the
status, reason, score and the test cells that pass.
"""

from __future__ import annotations

import csv
import json
import zipfile

import pytest

from autograder.cli import main
from tests.conftest import REPO_ROOT
from tests.secret_text import html_text, leaks, secret_lines

ASSIGNMENT = "01-chain-rule"
FIXTURES = REPO_ROOT / "tests" / "fixtures" / ASSIGNMENT
SUBMISSIONS = FIXTURES / "submissions"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())

pytestmark = pytest.mark.slow


def run(course, *args) -> int:
    return main(["--root", str(course.root), "--state", str(course.state), *args])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Collect the samples from a zip (as an LMS gives them), grade them and export once."""
    from autograder.records.course import Course

    tmp = tmp_path_factory.mktemp("class")
    course = Course.locate(root=REPO_ROOT, state=tmp / "state")
    archive = tmp / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for nb in sorted(SUBMISSIONS.glob("*.ipynb")):
            z.write(nb, f"class-download/{nb.name}")
        z.writestr("__MACOSX/._correct.ipynb", "junk")
    assert run(course, "collect", ASSIGNMENT, str(archive)) == 0
    assert run(course, "grade", ASSIGNMENT) == 0
    assert run(course, "export", "--out", str(tmp / "grades.csv")) == 0
    with open(tmp / "grades.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f) if row["assignment"] == ASSIGNMENT}
    return course, rows


def test_every_scenario_has_a_golden():
    assert {p.stem for p in SUBMISSIONS.glob("*.ipynb")} == set(EXPECTED)


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_export_gives_expected_status_and_score(graded, student):
    _, rows = graded
    expected = EXPECTED[student]
    row = rows[student]
    assert row["status"] == expected["status"]
    assert expected["reason"] in row["reason"]
    assert row["score"] == ("" if expected["score"] is None else str(expected["score"]))
    assert row["max_score"] == str(EXPECTED["correct"]["score"])


@pytest.mark.parametrize("student", sorted(s for s, e in EXPECTED.items() if e["status"] == "graded"))
def test_each_test_cell_scores_as_expected(graded, student):
    course, _ = graded
    with course.gradebook() as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, student)
        passed = sorted(g.name for nb in submission.notebooks for g in nb.grades if g.score == g.max_score)
    assert passed == sorted(EXPECTED[student]["passed"])


def test_collect_from_a_folder_matches_the_zip(graded, tmp_path):
    from autograder.records.course import Course

    course = Course.locate(root=REPO_ROOT, state=tmp_path / "state")
    assert run(course, "collect", ASSIGNMENT, str(SUBMISSIONS)) == 0
    zipped, _ = graded
    for student in EXPECTED:
        a = next((course.submitted_dir / student / ASSIGNMENT).glob("*.ipynb"))
        b = next((zipped.submitted_dir / student / ASSIGNMENT).glob("*.ipynb"))
        assert a.read_bytes() == b.read_bytes()


def test_a_student_who_submitted_nothing_is_missing_not_zero(graded, tmp_path):
    course, _ = graded
    with course.gradebook() as gradebook:
        gradebook.update_or_create_student("latecomer")
    out = tmp_path / "grades.csv"
    assert run(course, "export", "--out", str(out)) == 0
    with open(out, newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["student"] == "latecomer")
    assert (row["status"], row["score"]) == ("missing", "")
    with course.gradebook() as gradebook:
        gradebook.remove_student("latecomer")


def test_feedback_shows_messages_but_no_hidden_test(graded):
    course, _ = graded
    assert run(course, "feedback", ASSIGNMENT) == 0
    secrets = set().union(
        *(secret_lines(nb, kinds=("hidden",)) for nb in (REPO_ROOT / "solutions" / ASSIGNMENT).glob("*.ipynb"))
    )
    pages = sorted(course.feedback_dir.rglob("*.html"))
    assert {p.parent.parent.name for p in pages} == set(EXPECTED)  # failed submissions get a page too
    for page in pages:
        assert leaks(secrets, html_text(page)) == [], page


def test_unknown_assignment_and_missing_source_are_reported_by_name(graded, capsys):
    course, _ = graded
    assert run(course, "grade", "99-nope") == 2
    assert "99-nope" in capsys.readouterr().err
    assert run(course, "collect", ASSIGNMENT, "/no/such/folder") == 2
    assert "/no/such/folder" in capsys.readouterr().err


def test_report_summarises_the_class_and_plots_it(graded, capsys):
    course, _ = graded
    plot = course.state / "report.png"
    assert run(course, "report", ASSIGNMENT, "--out", str(plot)) == 0
    text = capsys.readouterr().out
    assert "graded 3" in text and "failed 1" in text
    assert "failed: malformed notebook x1" in text
    assert "neuron_dw" in text  # one line per test cell with its pass rate
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_canvas_file_leaves_failed_and_missing_ungraded(graded, tmp_path):
    course, _ = graded
    canvas = tmp_path / "canvas.csv"
    assert run(course, "export", "--out", str(tmp_path / "g.csv"), "--canvas", str(canvas)) == 0
    with open(canvas, newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["Student"].strip() == "Points Possible" and rows[0][ASSIGNMENT] == str(EXPECTED["correct"]["score"])
    by_student = {r["SIS Login ID"]: r[ASSIGNMENT] for r in rows[1:]}
    assert by_student["correct"] == str(EXPECTED["correct"]["score"])
    assert by_student["malformed"] == ""


def test_grading_again_reuses_the_private_release_until_the_gradebook_changes(graded, monkeypatch):
    """The private release (1-2 s) is made once; a gradebook reset (here: the assignment removed)
    makes it again, so the hidden tests are always registered where the grades go."""
    from autograder.steps import grade

    course, _ = graded
    releases = []
    real_release = grade.release
    monkeypatch.setattr(grade, "release", lambda *a, **k: releases.append(a) or real_release(*a, **k))
    grade.register(course, ASSIGNMENT)
    assert releases == []
    with course.gradebook() as gradebook:
        gradebook.remove_assignment(ASSIGNMENT)
    grade.register(course, ASSIGNMENT)
    assert len(releases) == 1
    with course.gradebook() as gradebook:
        assert gradebook.find_assignment(ASSIGNMENT).notebooks


def test_mangled_outputs_are_cleared_but_a_mangled_cell_fails_as_malformed(tmp_path):
    """An LMS or an editor that breaks outputs costs nothing (outputs are cleared before grading);
    a notebook whose cells themselves break the format fails by name, never as a zero."""
    from autograder.records.course import Course

    course = Course.locate(root=REPO_ROOT, state=tmp_path / "state")
    correct = json.loads((SUBMISSIONS / "correct.ipynb").read_text())
    outputs_mangled, cell_mangled = json.loads(json.dumps(correct)), json.loads(json.dumps(correct))
    code = next(c for c in outputs_mangled["cells"] if c["cell_type"] == "code")
    code["outputs"] = [{"output_type": "stream", "text": "a stream without its name"}]
    del next(c for c in cell_mangled["cells"] if c["cell_type"] == "code")["source"]
    folder = tmp_path / "download"
    folder.mkdir()
    (folder / "outputs-mangled.ipynb").write_text(json.dumps(outputs_mangled))
    (folder / "cell-mangled.ipynb").write_text(json.dumps(cell_mangled))
    assert run(course, "collect", ASSIGNMENT, str(folder)) == 0
    assert run(course, "grade", ASSIGNMENT, "--workers", "1") == 0
    statuses = {student: s for (_, student), s in course.statuses().all().items()}
    assert statuses["outputs-mangled"].status == "graded"
    with course.gradebook() as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, "outputs-mangled")
        assert submission.score == submission.max_score > 0
    assert statuses["cell-mangled"].status == "failed"
    assert statuses["cell-mangled"].reason.startswith("malformed notebook")
