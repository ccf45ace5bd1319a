"""An instructor's term, through the command line (issue 24): no silent stale grades, warnings
where lateness is not to be trusted, LMS files that every row of which the LMS can match,
Moodle's and Blackboard's grade files round-tripped through their own downloads, explain, check.

Scenarios are named for what they show; grading goes through the real `grade` on two or three
of the sample submissions (tests/fixtures/01-chain-rule/submissions/).
"""

from __future__ import annotations

import csv
import json
import shutil
import zipfile

import pytest

from autograder.cli import main
from tests.conftest import REPO_ROOT
from tests.lms_downloads import (
    BLACKBOARD_CLASS,
    MOODLE_CLASS,
    MOODLE_WORKSHEET_COLUMNS,
    blackboard_column,
    blackboard_entries,
    canvas_entries,
    moodle_entries,
    samples,
    write_blackboard_gradebook,
    write_moodle_worksheet,
    write_zip,
)
from tests.secret_text import leaks, secret_lines

ASSIGNMENT = "01-chain-rule"
SAMPLES = samples(ASSIGNMENT)
FULL = 22
PARTIAL = 15  # partial.ipynb's score (tests/fixtures/01-chain-rule/expected.json)
SOURCE = REPO_ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def run(course, *args) -> int:
    return main(["--root", str(course.root), "--state", str(course.state), *args])


def read_csv(path, **options) -> list[dict]:
    encoding = options.pop("encoding", "utf-8")
    with open(path, newline="", encoding=encoding) as f:
        return list(csv.DictReader(f, **options))


def plain_class(folder, **notebooks):
    folder.mkdir(parents=True, exist_ok=True)
    for student, sample in notebooks.items():
        (folder / f"{student}.ipynb").write_bytes(SAMPLES[sample] if sample in SAMPLES else sample)
    return folder


# ---------------------------------------------------------------- stale grades
@pytest.mark.slow
def test_a_hidden_test_changed_and_reverted_names_the_grades_made_with_the_older_tests(tmp_path, capsys):
    """The issue's run: a hidden test changed, `grade --regrade` (full marks lose points), the test
    reverted, `grade ID` grades nothing: it must say that those grades came from other tests, and
    export and report must mark the rows."""
    from autograder.records.course import Course

    root = tmp_path / "course"
    for part in ("solutions", "exercises"):
        shutil.copytree(REPO_ROOT / part / ASSIGNMENT, root / part / ASSIGNMENT)
    course = Course.locate(root=root, state=tmp_path / "state")
    source = root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    original = source.read_text()
    assert run(course, "collect", ASSIGNMENT, str(plain_class(tmp_path / "class", ada="correct", bo="blank"))) == 0
    assert run(course, "grade", ASSIGNMENT, "--workers", "1") == 0
    assert "older tests" not in capsys.readouterr().out

    nb = json.loads(original)
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "neuron_dw")
    text = "".join(cell["source"])
    cell["source"] = text.replace("### END HIDDEN TESTS", "assert False, 'a changed hidden test'\n### END HIDDEN TESTS")
    source.write_text(json.dumps(nb, indent=1))
    assert run(course, "grade", ASSIGNMENT, "--regrade", "--workers", "1") == 0
    assert run(course, "export", "--out", str(tmp_path / "changed.csv")) == 0
    assert {r["student"]: r["score"] for r in read_csv(tmp_path / "changed.csv")}["ada"] == str(FULL - 2)

    source.write_text(original)  # reverted: the grades above were made with tests that are gone
    capsys.readouterr()
    assert run(course, "grade", ASSIGNMENT) == 0
    out = capsys.readouterr().out
    assert "graded 0, failed 0 of 0 submission(s)" in out
    assert f"2 graded with older tests: `grade {ASSIGNMENT} --regrade` (or --student S): ada, bo" in out
    assert run(course, "export", "--out", str(tmp_path / "stale.csv")) == 0
    captured = capsys.readouterr()
    assert f"2 graded with older tests of {ASSIGNMENT}" in captured.err
    rows = {r["student"]: r for r in read_csv(tmp_path / "stale.csv")}
    assert rows["ada"]["score"] == str(FULL - 2) and "graded with older tests" in rows["ada"]["notes"]
    assert run(course, "report", ASSIGNMENT, "--out", str(tmp_path / "r.png")) == 0
    assert "graded with older tests: 2" in capsys.readouterr().out

    assert run(course, "grade", ASSIGNMENT, "--regrade", "--workers", "1") == 0
    assert "older tests" not in capsys.readouterr().out
    assert run(course, "export", "--out", str(tmp_path / "fresh.csv")) == 0
    rows = {r["student"]: r for r in read_csv(tmp_path / "fresh.csv")}
    assert rows["ada"]["score"] == str(FULL) and "older tests" not in rows["ada"]["notes"]


def test_a_grade_recorded_before_tests_were_tracked_is_not_called_stale(course, tmp_path, capsys):
    assert run(course, "collect", ASSIGNMENT, str(plain_class(tmp_path / "class", ada="correct"))) == 0
    book = course.statuses()
    book.set(ASSIGNMENT, "ada", "failed", "malformed notebook")  # no record of the tests: unknown, not stale
    book.close()
    assert run(course, "export", "--out", str(tmp_path / "g.csv")) == 0
    assert "older tests" not in read_csv(tmp_path / "g.csv")[0]["notes"]
    assert "older tests" not in capsys.readouterr().err


# ---------------------------------------------------------------- collect again
def test_collecting_a_changed_download_again_names_new_changed_and_unchanged(course, tmp_path, capsys):
    folder = plain_class(tmp_path / "class", ada="correct", bo="blank")
    assert run(course, "collect", ASSIGNMENT, str(folder)) == 0
    first = capsys.readouterr().out
    assert "collected 2 submission(s)" in first and "unchanged" not in first
    book = course.statuses()
    book.set(ASSIGNMENT, "ada", "graded")  # as `grade` leaves it
    book.close()
    plain_class(folder, bo="partial", cy="correct")
    assert run(course, "collect", ASSIGNMENT, str(folder)) == 0
    out = capsys.readouterr().out
    assert "collected 3 submission(s)" in out
    assert "new 1, changed 1, unchanged 1" in out
    assert "  new: cy" in out and "  changed (to grade again): bo" in out and "  unchanged (grade kept): ada" in out
    statuses = {s: v.status for (_, s), v in course.statuses().all().items()}
    assert statuses == {"ada": "graded", "bo": "collected", "cy": "collected"}  # bo waits for the next grade


# ---------------------------------------------------------------- lateness that cannot be trusted
def test_a_plain_zip_made_after_the_deadline_warns_instead_of_silently_zeroing_the_class(course, tmp_path, capsys):
    """The README's example on a plain zip: its entries hold when the zip was made (months after
    the due date), so every student looks 279 days late."""
    made = (2026, 12, 7, 9, 0, 0)
    archive = write_zip(tmp_path / "class.zip", [(f"{s}.ipynb", made, SAMPLES["correct"]) for s in ("ada", "bo", "cy")])
    assert run(course, "collect", ASSIGNMENT, str(archive)) == 0
    late = ["--due", "2026-03-02T23:59", "--late-policy", "per-day"]
    assert run(course, "export", "--out", str(tmp_path / "g.csv"), *late) == 0
    err = capsys.readouterr().err
    assert f"3 of 3 submissions of {ASSIGNMENT} are late by more than a week: check the due date" in err
    assert f"the times of 3 submission(s) of {ASSIGNMENT} come from the zip entries" in err
    assert run(course, "export", "--out", str(tmp_path / "g.csv")) == 0  # no deadline: nothing to warn about
    assert "warning" not in capsys.readouterr().err


def test_an_lms_download_on_time_gives_no_lateness_warning(course, tmp_path, capsys):
    assert run(course, "collect", ASSIGNMENT, str(write_zip(tmp_path / "c.zip", canvas_entries(ASSIGNMENT)))) == 0
    assert run(course, "export", "--out", str(tmp_path / "g.csv"), "--due", "2026-03-02 23:59") == 0
    assert "warning" not in capsys.readouterr().err


def test_the_readme_late_example_is_visibly_a_placeholder():
    readme = (REPO_ROOT / "README.md").read_text()
    instructor = readme.split("## For instructors", 1)[1].split("Try it on a sample class", 1)[0]
    assert "PLACEHOLDER" in instructor and 'due="YYYY-MM-DDTHH:MM"' in instructor
    assert "--due 2026" not in instructor


# ---------------------------------------------------------------- rows an LMS cannot match
def test_a_canvas_file_from_a_roster_without_canvas_ids_is_an_error_naming_the_students(course, tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name\nada,Ada L\nbo,Bo M\n")
    assert run(course, "roster", "import", str(roster)) == 0
    assert run(course, "collect", ASSIGNMENT, str(plain_class(tmp_path / "class", ada="correct", bo="blank"))) == 0
    canvas, grades = tmp_path / "canvas.csv", tmp_path / "g.csv"
    assert run(course, "export", "--out", str(grades), "--canvas", str(canvas)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Canvas could not match 2 student(s) of the import file to its own: ada, bo")
    assert "Nothing was written" in err and err.count("\n") == 1
    assert not canvas.exists() and not grades.exists()
    roster.write_text("student_id,name,sis_login_id\nada,Ada L,alovelace\nbo,Bo M,bmeyer\n")
    assert run(course, "roster", "import", str(roster)) == 0
    assert run(course, "export", "--out", str(grades), "--canvas", str(canvas)) == 0
    assert {r["SIS Login ID"] for r in read_csv(canvas)[1:]} == {"alovelace", "bmeyer"}


# ---------------------------------------------------------------- Moodle and Blackboard
@pytest.fixture(scope="module")
def moodle_class(tmp_path_factory):
    from autograder.records.course import Course

    tmp = tmp_path_factory.mktemp("moodle")
    course = Course.locate(root=REPO_ROOT, state=tmp / "state")
    worksheet = write_moodle_worksheet(tmp / "worksheet.csv", ASSIGNMENT)
    assert run(course, "roster", "import", str(worksheet)) == 0
    assert run(course, "collect", ASSIGNMENT, str(write_zip(tmp / "moodle.zip", moodle_entries(ASSIGNMENT)))) == 0
    assert run(course, "grade", ASSIGNMENT, "--workers", "2") == 0
    return course, tmp


@pytest.mark.slow
def test_moodle_grading_worksheet_round_trips_through_moodles_own_worksheet(moodle_class, capsys):
    course, tmp = moodle_class
    out = tmp / "upload.csv"
    assert run(course, "export", "--out", str(tmp / "g.csv"), "--moodle", str(out)) == 0
    assert f"wrote the Moodle grading worksheet {out}" in capsys.readouterr().out
    with open(out, newline="", encoding="utf-8") as f:
        assert next(csv.reader(f)) == MOODLE_WORKSHEET_COLUMNS  # exactly Moodle's header
    downloaded = {r["Identifier"]: r for r in read_csv(tmp / "worksheet.csv")}
    rows = {r["Identifier"]: r for r in read_csv(out)}
    assert set(rows) == set(downloaded) == {f"Participant {p}" for p in MOODLE_CLASS}  # Moodle's own ids
    assert rows["Participant 2001"]["Grade"] == str(FULL) and rows["Participant 2002"]["Grade"] == str(PARTIAL)
    assert rows["Participant 2003"]["Grade"] == "" and rows["Participant 2003"]["Status"] == "No submission"
    assert {r["Maximum Grade"] for r in rows.values()} == {str(FULL)}
    assert rows["Participant 2001"]["Full name"] == "Anna Müller" and rows["Participant 2001"]["Email address"]
    assert rows["Participant 2001"]["Last modified (grade)"] not in ("", "-")  # Moodle takes the newer grade
    assert run(course, "roster", "import", str(out)) == 0  # what we write reads as Moodle's own worksheet
    assert "(moodle format)" in capsys.readouterr().out
    assert set(course.statuses().roster()) == set(MOODLE_CLASS)


def test_moodle_worksheet_of_a_download_without_a_roster_uses_the_participant_folders(course, tmp_path, capsys):
    assert run(course, "collect", ASSIGNMENT, str(write_zip(tmp_path / "m.zip", moodle_entries(ASSIGNMENT)))) == 0
    out = tmp_path / "upload.csv"
    assert run(course, "export", "--out", str(tmp_path / "g.csv"), "--moodle", str(out)) == 0
    assert {r["Identifier"] for r in read_csv(out)} == {"Participant 2001", "Participant 2002"}
    folder = plain_class(tmp_path / "plain", ada="correct")
    assert run(course, "collect", ASSIGNMENT, str(folder)) == 0
    assert run(course, "export", "--out", str(tmp_path / "g.csv"), "--moodle", str(out)) == 2
    assert "Moodle could not match 1 student(s) of the import file to its own: ada" in capsys.readouterr().err


@pytest.fixture(scope="module")
def blackboard_class(tmp_path_factory):
    from autograder.records.course import Course

    tmp = tmp_path_factory.mktemp("blackboard")
    course = Course.locate(root=REPO_ROOT, state=tmp / "state")
    assert run(course, "roster", "import", str(write_blackboard_gradebook(tmp / "gc.xls", ASSIGNMENT))) == 0
    assert run(course, "collect", ASSIGNMENT, str(write_zip(tmp / "bb.zip", blackboard_entries(ASSIGNMENT)))) == 0
    assert run(course, "grade", ASSIGNMENT, "--workers", "2") == 0
    return course, tmp


@pytest.mark.slow
def test_blackboard_upload_round_trips_through_grade_centers_own_download(blackboard_class, capsys):
    course, tmp = blackboard_class
    xls, comma = tmp / "upload.xls", tmp / "upload.csv"
    assert run(course, "export", "--out", str(tmp / "g.csv"), "--blackboard", str(xls)) == 0
    assert run(course, "export", "--out", str(tmp / "g.csv"), "--blackboard", str(comma)) == 0
    column = blackboard_column(ASSIGNMENT)  # the download's header, with Grade Center's column id
    header = ["Last Name", "First Name", "Username", "Student ID", column]
    raw = xls.read_bytes()
    assert raw[:2] in (b"\xff\xfe", b"\xfe\xff")  # UTF-16 with its byte order mark, as Grade Center writes it
    assert raw.decode("utf-16").splitlines()[0] == "\t".join(f'"{h}"' for h in header)  # tab-separated, quoted
    assert comma.read_text(encoding="utf-8").splitlines()[0] == ",".join(f'"{h}"' for h in header)
    for path, options in ((xls, {"delimiter": "\t", "encoding": "utf-16"}), (comma, {})):
        rows = {r["Username"]: r for r in read_csv(path, **options)}
        assert set(rows) == set(BLACKBOARD_CLASS)
        scores = (rows["amueller"][column], rows["cokafor"][column], rows["jlee"][column])
        assert scores == (str(FULL), str(PARTIAL), "")
        assert (rows["amueller"]["Last Name"], rows["amueller"]["First Name"]) == ("Müller", "Anna")
        assert rows["amueller"]["Student ID"] == "S2001"
    assert run(course, "roster", "import", str(xls)) == 0  # Grade Center's own format: reads as its download
    assert "(blackboard format)" in capsys.readouterr().out
    assert set(course.statuses().roster()) == set(BLACKBOARD_CLASS)


# ---------------------------------------------------------------- explain
@pytest.mark.slow
def test_explain_gives_points_messages_and_public_descriptions_never_a_hidden_test(moodle_class, capsys):
    course, _ = moodle_class
    capsys.readouterr()
    assert run(course, "explain", ASSIGNMENT, "2002") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{ASSIGNMENT}, Chidi Okafor (2002): graded, score {PARTIAL} of {FULL}")
    assert "FAIL neuron_dw" in out and "0/2  (visible and hidden tests)" in out
    assert "checks: Check that neuron_forward_backward's dw is df/dw" in out
    assert "message: AssertionError: dw has shape (2,), expected (3,)" in out
    assert "pass neuron_dx" in out
    assert leaks(secret_lines(SOURCE), out) == []  # no hidden test and no solution line
    adjust = ["adjust", ASSIGNMENT, "2002", "--cell", "neuron_dw"]
    assert run(course, *adjust, "--score", "1", "--comment", "bias only") == 0
    capsys.readouterr()
    assert run(course, "explain", ASSIGNMENT, "2002") == 0
    assert "set by hand (autograde gave 0): bias only" in capsys.readouterr().out
    assert run(course, "adjust", ASSIGNMENT, "2002", "--cell", "neuron_dw", "--clear") == 0
    assert run(course, "explain", ASSIGNMENT, "2003") == 2  # nothing handed in
    assert "no submission of 01-chain-rule for '2003'" in capsys.readouterr().err


# ---------------------------------------------------------------- check
def _named(tmp_path, data: bytes, name: str = f"{ASSIGNMENT}.ipynb"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _edited(data: bytes, edit) -> bytes:
    nb = json.loads(data)
    edit(nb)
    return json.dumps(nb).encode()


def _cell(nb, grade_id):
    return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def test_check_passes_a_correct_notebook_and_runs_only_the_visible_tests(course, tmp_path, capsys, monkeypatch):
    from autograder.engine import sandbox

    sent = []
    real = sandbox.run_notebook
    monkeypatch.setattr(sandbox, "run_notebook", lambda cells, *a, **k: sent.append(cells) or real(cells, *a, **k))
    assert run(course, "check", str(_named(tmp_path, SAMPLES["correct"]))) == 0
    out = capsys.readouterr().out
    assert "visible tests: 18 of 18 test cells pass" in out and out.rstrip().endswith("ready to hand in")
    assert "hidden tests check the same functions on other inputs" in out
    text = "\n".join(c["source"] for c in sent[0])
    assert leaks(secret_lines(SOURCE, kinds=("hidden",)), text) == []  # no hidden test reached the sandbox


def test_check_reports_what_grading_refuses_before_any_test(course, tmp_path, capsys):
    def tamper(nb):
        _cell(nb, "neuron_dx")["source"] = "pass  # the test is gone"
        answer = _cell(nb, "neuron_forward_backward")
        answer["source"] = "".join(answer["source"]).replace("def neuron_forward_backward", "def neuron_fwd_bwd")

    path = _named(tmp_path, _edited(SAMPLES["correct"], tamper), "my homework (1).ipynb")
    assert run(course, "check", str(path), "--assignment", ASSIGNMENT) == 1
    out = capsys.readouterr().out
    assert f"find no notebook named {ASSIGNMENT}.ipynb: yours is 'my homework (1).ipynb'" in out
    assert "undo your edit of the test cell neuron_dx: grading runs the release's text of it" in out
    assert "find no function neuron_forward_backward (answer cell neuron_forward_backward): renamed" in out
    assert "FAIL neuron_dw" in out and "NameError" in out  # the visible tests call it by its name
    assert out.rstrip().endswith("not ready: fix what is listed above")


@pytest.mark.parametrize(
    "scenario, data, expected",
    [
        ("malformed", SAMPLES["malformed"], "refuse it as a malformed notebook: not valid JSON"),
        (
            "wrong-notebook",
            json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(),
            "refuse it as the wrong notebook",
        ),  # fmt: skip
        ("blank", SAMPLES["blank"], "visible tests: 0 of 18 test cells pass"),
    ],
)
def test_check_fails_unreadable_other_and_blank_notebooks_with_one_reason(course, tmp_path, capsys, scenario, data,
                                                                           expected):  # fmt: skip
    assert run(course, "check", str(_named(tmp_path, data)), "--assignment", ASSIGNMENT) == 1
    captured = capsys.readouterr()
    assert expected in captured.out and "Traceback" not in captured.out + captured.err


def test_check_of_a_file_that_is_not_there_is_one_line(course, tmp_path, capsys):
    assert run(course, "check", str(tmp_path / "nope.ipynb")) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no such notebook") and err.count("\n") == 1


# ---------------------------------------------------------------- the hand-out zip still works for Moodle
def test_moodle_handout_uses_the_participant_folders(moodle_class, tmp_path):
    course, _ = moodle_class
    handout = tmp_path / "h.zip"
    assert run(course, "feedback", ASSIGNMENT, "--zip", str(handout)) == 0
    names = zipfile.ZipFile(handout).namelist()
    assert f"Anna Müller_2001_assignsubmission_file_/{ASSIGNMENT}-feedback.html" in names  # the folder Moodle gave
