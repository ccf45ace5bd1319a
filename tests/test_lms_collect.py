"""`collect` on what LMSs really give: Canvas, Moodle and Blackboard downloads, plain folders and
zips; identity from the LMS's layout, the latest attempt, every file not taken reported.

No grading here: these tests look at what lands in the submitted layout and the records.
"""

from __future__ import annotations

import zipfile

import pytest

from autograder.cli import main
from autograder.steps.collect import safe_id
from tests.conftest import REPO_ROOT
from tests.lms_downloads import canvas_entries, samples, write_zip

ASSIGNMENT = "01-chain-rule"
SAMPLES = samples(ASSIGNMENT)


def run(course, *args) -> int:
    return main(["--root", str(course.root), "--state", str(course.state), *args])


def submitted(course, student) -> bytes:
    return (course.submitted_dir / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes()


def collected(course) -> set[str]:
    return {p.name for p in course.submitted_dir.iterdir() if (p / ASSIGNMENT).is_dir()}


def test_canvas_download_keeps_the_latest_attempt_under_the_canvas_id(course, tmp_path, capsys):
    archive = write_zip(tmp_path / "canvas.zip", canvas_entries(ASSIGNMENT))
    assert run(course, "collect", ASSIGNMENT, str(archive)) == 0
    out = capsys.readouterr().out
    assert "(canvas layout)" in out
    assert collected(course) == {"1001", "1002", "1003", "1004", "1006", "1099"}
    assert submitted(course, "1001") == SAMPLES["correct"]  # the LATE resubmission, not the first
    assert f"skipped müllerann_1001_5001_{ASSIGNMENT}.ipynb: an earlier attempt of student 1001" in out
    record = course.statuses().submissions()[(ASSIGNMENT, "1001")]
    assert record.lms_late and record.layout == "canvas"
    assert record.time.replace(tzinfo=None).isoformat() == "2026-03-03T09:30:00"  # the zip entry's time
    with course.gradebook() as gradebook:
        assert gradebook.find_student("1001").last_name == "müllerann"  # until a roster names them


def test_moodle_folder_entry_cannot_replace_another_student(course, tmp_path, capsys):
    """Alice's folder holds a `bob.ipynb` and sorts before Bob's folder: identity is the folder's."""
    archive = write_zip(
        tmp_path / "moodle.zip",
        [
            ("Alice Smith_2003_assignsubmission_file_/bob.ipynb", (2026, 3, 1, 10, 0, 0), SAMPLES["blank"]),
            ("Anna Müller_2001_assignsubmission_file_/01-chain-rule.ipynb", (2026, 3, 1, 11, 0, 0), SAMPLES["partial"]),
            ("Anna Müller_2001_assignsubmission_file_/notes.pdf", (2026, 3, 1, 11, 0, 0), b"%PDF"),
            ("Bob Jones_2004_assignsubmission_file_/bob.ipynb", (2026, 3, 1, 12, 0, 0), SAMPLES["correct"]),
            ("Two Files_2005_assignsubmission_file_/a.ipynb", (2026, 3, 1, 12, 0, 0), SAMPLES["correct"]),
            ("Two Files_2005_assignsubmission_file_/sub/b.ipynb", (2026, 3, 1, 13, 0, 0), SAMPLES["blank"]),
        ],
    )
    assert run(course, "collect", ASSIGNMENT, str(archive)) == 0
    out = capsys.readouterr().out
    assert "(moodle layout)" in out
    assert collected(course) == {"2001", "2003", "2004"}
    assert submitted(course, "2004") == SAMPLES["correct"]  # Bob keeps his own work
    assert submitted(course, "2003") == SAMPLES["blank"]  # Alice's file stays Alice's
    assert submitted(course, "2001") == SAMPLES["partial"]
    # one identity, two notebooks, no LMS order between them: both reported, neither taken
    for name in ("Two Files_2005_assignsubmission_file_/a.ipynb", "Two Files_2005_assignsubmission_file_/sub/b.ipynb"):
        assert f"skipped {name}: 2 notebooks for student 2005" in out
    assert "skipped Anna Müller_2001_assignsubmission_file_/notes.pdf: not a notebook" in out
    with course.gradebook() as gradebook:
        assert gradebook.find_student("2001").last_name == "Anna Müller"


def test_blackboard_keeps_the_later_attempt_and_its_time(course, tmp_path, capsys):
    first = f"Homework 1_jdoe_attempt_2026-03-01-10-00-00_{ASSIGNMENT}.ipynb"
    second = f"Homework 1_jdoe_attempt_2026-03-02-09-00-00_{ASSIGNMENT}.ipynb"
    archive = write_zip(
        tmp_path / "bb.zip",
        [
            (first, (2026, 3, 5, 0, 0, 0), SAMPLES["blank"]),
            ("Homework 1_jdoe_attempt_2026-03-01-10-00-00.txt", (2026, 3, 5, 0, 0, 0), b"Name: J Doe"),
            (second, (2026, 3, 5, 0, 0, 0), SAMPLES["correct"]),
            (
                f"Homework 1_mroe_attempt_2026-03-02-08-00-00_{ASSIGNMENT}.ipynb",
                (2026, 3, 5, 0, 0, 0),
                SAMPLES["partial"],
            ),
        ],
    )
    assert run(course, "collect", ASSIGNMENT, str(archive)) == 0
    out = capsys.readouterr().out
    assert "(blackboard layout)" in out and collected(course) == {"jdoe", "mroe"}
    assert submitted(course, "jdoe") == SAMPLES["correct"]
    assert f"skipped {first}: an earlier attempt of student jdoe" in out
    record = course.statuses().submissions()[(ASSIGNMENT, "jdoe")]
    assert (record.time_source, record.time.strftime("%Y-%m-%d %H:%M")) == ("file name", "2026-03-02 09:00")


def test_plain_names_become_safe_ids_and_control_characters_are_refused(course, tmp_path, capsys):
    archive = write_zip(
        tmp_path / "plain.zip",
        [
            ("class/Müller, Anna.ipynb", (2026, 3, 1, 0, 0, 0), SAMPLES["correct"]),
            ("class/carol.ipynb", (2026, 3, 1, 0, 0, 0), SAMPLES["correct"]),
            ("class/carol\n.ipynb", (2026, 3, 1, 0, 0, 0), SAMPLES["blank"]),
            ("class/..ipynb", (2026, 3, 1, 0, 0, 0), SAMPLES["blank"]),
            ("__MACOSX/class/._carol.ipynb", (2026, 3, 1, 0, 0, 0), b"junk"),
        ],
    )
    assert run(course, "collect", ASSIGNMENT, str(archive)) == 0
    out = capsys.readouterr().out
    assert collected(course) == {"Müller-Anna", "carol"}
    assert submitted(course, "carol") == SAMPLES["correct"]
    assert "skipped class/carol\n.ipynb: the name 'carol\\n' holds a control or invisible character" in out
    assert "skipped class/..ipynb: '.' is not a usable student id" in out
    assert "skipped __MACOSX/class/._carol.ipynb: macOS metadata" in out
    with course.gradebook() as gradebook:
        assert gradebook.find_student("Müller-Anna").last_name == "Müller, Anna"  # the file's own spelling


@pytest.mark.parametrize(
    "text, expected",
    [
        ("carol", "carol"),
        ("Müller, Anna", "Müller-Anna"),
        ("Иван Петров", "Иван-Петров"),
        ("a.b@uni.edu", "a.b@uni.edu"),
        ("../../etc/passwd", "etc-passwd"),
        ("a..b", "a.b"),
        ("carol\n", None),
        ("bob\u202egnp", None),  # a right-to-left override: invisible, refused
        ("..", None),
        ("", None),
        ("x*[?]", "x"),  # glob characters would select other students in nbgrader's paths
    ],
)
def test_safe_id_is_a_full_match_of_a_path_safe_name(text, expected):
    student, why = safe_id(text)
    assert (student or None) == expected, why
    if expected:
        assert "/" not in student and ".." not in student and student == student.strip()


def test_canvas_download_can_be_named_and_a_pattern_given(course, tmp_path, capsys):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "hw1-student-s123-attempt-2.ipynb").write_bytes(SAMPLES["correct"])
    (folder / "hw1-student-s123-attempt-1.ipynb").write_bytes(SAMPLES["blank"])
    pattern = r"hw1-student-(?P<student>s\d+)-attempt-(?P<attempt>\d+)\.ipynb"
    assert run(course, "collect", ASSIGNMENT, str(folder), "--pattern", pattern) == 0
    assert collected(course) == {"s123"} and submitted(course, "s123") == SAMPLES["correct"]
    assert "skipped hw1-student-s123-attempt-1.ipynb: an earlier attempt" in capsys.readouterr().out
    assert run(course, "collect", ASSIGNMENT, str(folder), "--pattern", "(no-group)") == 2
    assert "(?P<student>" in capsys.readouterr().err


def test_collect_that_takes_nothing_fails_with_one_line(course, tmp_path, capsys):
    only_pdf = write_zip(tmp_path / "pdf.zip", [("report.pdf", (2026, 3, 1, 0, 0, 0), b"%PDF")])
    assert run(course, "collect", ASSIGNMENT, str(only_pdf)) == 1
    captured = capsys.readouterr()
    assert "skipped report.pdf: not a notebook" in captured.out
    assert (
        captured.err.startswith("error: no submission of 01-chain-rule collected") and "Traceback" not in captured.err
    )
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    not_zip = tmp_path / "notes.txt"
    not_zip.write_text("hello")
    for source in (empty, not_zip, tmp_path / "nowhere"):
        assert run(course, "collect", ASSIGNMENT, str(source)) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: ") and str(source) in err


def test_roster_import_of_each_lms_export(course, tmp_path, capsys):
    canvas = tmp_path / "canvas.csv"
    canvas.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,HW1 (12)\n    Points Possible,,,,,22\n"
        '"Müller, Anna",1001,S1001,amueller,A,\n"Test Student",,,,,\n',
        encoding="utf-8",
    )
    moodle = tmp_path / "moodle.csv"
    moodle.write_text("Identifier,Full name,Email address,Status\nParticipant 2001,Anna Müller,anna@example.org,x\n")
    blackboard = tmp_path / "bb.csv"
    blackboard.write_text(
        '"Last Name","First Name","Username","Student ID"\n"Doe","Jane","jdoe","77"\n', encoding="utf-16"
    )
    plain = tmp_path / "plain.csv"
    plain.write_text("student_id,name,email\ncarol,Carol C,carol@example.org\n")
    for path, fmt, student, name in [
        (canvas, "canvas", "1001", "Müller, Anna"),
        (moodle, "moodle", "2001", "Anna Müller"),
        (blackboard, "blackboard", "jdoe", "Doe, Jane"),
        (plain, "plain", "carol", "Carol C"),
    ]:
        assert run(course, "roster", "import", str(path)) == 0
        assert f"imported 1 student(s) from {path} ({fmt} format)" in capsys.readouterr().out
        assert {s: e.name for s, e in course.statuses().roster().items()} == {student: name}
    entry = course.statuses().roster()["carol"]
    assert entry.email == "carol@example.org"
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("who,what\nx,y\n")
    assert run(course, "roster", "import", str(unknown)) == 2
    assert "student_id" in capsys.readouterr().err


def test_repo_ignores_grade_files_written_in_its_root():
    import subprocess

    names = ["grades.csv", "canvas.csv", "feedback.zip", "autograder/demo-state/gradebook.db"]
    ignored = subprocess.run(
        ["git", "check-ignore", *names], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.split()
    assert ignored == names


def test_deadlines_from_a_config_file_with_time_zone_and_extensions(tmp_path):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from autograder.records.course import Course
    from autograder.records.deadlines import Deadlines, late_penalty

    config = tmp_path / "term.py"
    config.write_text(
        "c.Deadlines.due = {'01-chain-rule': '2026-03-02 23:59'}\n"
        "c.Deadlines.extensions = {'01-chain-rule': {'ann': '2d', 'bob': '2026-03-03T12:00+00:00'}}\n"
        "c.Deadlines.timezone = 'Europe/Berlin'\n"
        "c.Deadlines.policy = 'per-day'\nc.Deadlines.penalty_per_day = 0.25\nc.Deadlines.grace = '10m'\n"
    )
    deadlines = Deadlines(config=Course.locate(root=REPO_ROOT, state=tmp_path / "s", config=config).nbgrader_config())
    berlin = ZoneInfo("Europe/Berlin")
    due = deadlines.due_for(ASSIGNMENT, "carl")
    assert due == datetime(2026, 3, 2, 23, 59, tzinfo=berlin)
    assert deadlines.due_for(ASSIGNMENT, "ann") == due + timedelta(days=2)
    assert deadlines.due_for(ASSIGNMENT, "bob") == datetime(2026, 3, 3, 13, 0, tzinfo=berlin)
    assert late_penalty(deadlines, due, due + timedelta(minutes=9), 20, 20).penalty == 0  # within grace
    assert late_penalty(deadlines, due, due + timedelta(minutes=11), 20, 20).penalty == 5  # one started day
    assert late_penalty(deadlines, due, due + timedelta(days=1, minutes=1), 20, 20).penalty == 10
    assert late_penalty(deadlines, due, due + timedelta(days=9), 3, 20).penalty == 3  # never below zero
    assert late_penalty(deadlines, None, due + timedelta(days=9), 3, 20).late_by is None  # no deadline


def test_plain_files_named_after_a_rostered_student_take_their_id(course, tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text('student_id,name,email\namueller,"Müller, Anna",anna.m@example.org\ncarol,Carol Chen,\n')
    assert run(course, "roster", "import", str(roster)) == 0
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "Anna Müller.ipynb").write_bytes(SAMPLES["correct"])
    (folder / "carol.ipynb").write_bytes(SAMPLES["partial"])
    (folder / "Dave.ipynb").write_bytes(SAMPLES["blank"])
    assert run(course, "collect", ASSIGNMENT, str(folder)) == 0
    out = capsys.readouterr().out
    assert collected(course) == {"amueller", "carol", "Dave"}
    assert "note: Anna Müller.ipynb: taken as student amueller, whose roster name it is" in out
    assert "note: not on the roster: student Dave (Dave.ipynb)" in out


@pytest.mark.parametrize("bad", [{"grace": "5x"}, {"penalty_per_day": 2.0}, {"due": {ASSIGNMENT: "tomorrow"}}])
def test_deadline_settings_that_cannot_be_read_fail_by_name(bad):
    from autograder.records.deadlines import Deadlines

    with pytest.raises(ValueError, match="5x|penalty per day 2|tomorrow"):
        Deadlines(**bad).check()


def test_utf8_names_without_the_zip_utf8_flag_are_read_as_utf8(course, tmp_path):
    """macOS's and Windows' zip tools often write UTF-8 names without flagging them."""

    class Unflagged(zipfile.ZipInfo):
        __slots__ = ()

        def _encodeFilenameFlags(self):  # UTF-8 bytes, no 0x800 flag
            return self.filename.encode("utf-8"), self.flag_bits

    archive = tmp_path / "unflagged.zip"
    with zipfile.ZipFile(archive, "w") as z:
        name = "Anna Müller_2001_assignsubmission_file_/nb.ipynb"
        z.writestr(Unflagged(name, date_time=(2026, 3, 1, 0, 0, 0)), SAMPLES["correct"])
    assert not zipfile.ZipFile(archive).infolist()[0].flag_bits & 0x800
    assert run(course, "collect", ASSIGNMENT, str(archive)) == 0
    with course.gradebook() as gradebook:
        assert gradebook.find_student("2001").last_name == "Anna Müller"


def test_export_keeps_formulas_in_names_inert(course, tmp_path):
    import csv

    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "=HYPERLINK(x).ipynb").write_bytes(SAMPLES["blank"])
    assert run(course, "collect", ASSIGNMENT, str(folder)) == 0
    assert run(course, "export", "--out", str(tmp_path / "g.csv")) == 0
    with open(tmp_path / "g.csv", newline="", encoding="utf-8") as f:
        row = next(csv.DictReader(f))
    assert (row["student"], row["name"], row["status"]) == ("HYPERLINK-x", "'=HYPERLINK(x)", "collected")
