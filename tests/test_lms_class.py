"""A real class end to end, as an instructor with an LMS runs it: the Canvas gradebook export as
the roster, the Canvas submissions zip, a deadline with one late student and one extension, a
manual adjustment that survives a regrade, feedback for everyone (a failed submission too) that
loads nothing and runs no student script in a real browser, and the hand-out zip.

The class (tests/lms_downloads.py): 1001 late resubmission (non-ASCII name), 1002 on time,
1003 late with an extension, 1004 malformed, 1005 nothing, 1006 hostile HTML, 1099 not on the
roster. Grading goes through the real `python -m autograder grade`; what is asserted here is
the bookkeeping around it, with correct = full marks and blank = 0 as the only scores.
"""

from __future__ import annotations

import csv
import zipfile
from html.parser import HTMLParser

import pytest

from autograder.cli import main
from tests.conftest import REPO_ROOT
from tests.lms_downloads import DUE, ROSTER, canvas_entries, write_canvas_gradebook, write_zip
from tests.secret_text import html_text, leaks, secret_lines

ASSIGNMENT = "01-chain-rule"
FULL = 22
pytestmark = pytest.mark.slow


def run(course, *args) -> int:
    return main(["--root", str(course.root), "--state", str(course.state), *args])


def read_csv(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def export(course, out, *extra) -> dict[str, dict]:
    args = [
        "export",
        "--out",
        str(out),
        "--due",
        DUE,
        "--late-policy",
        "per-day",
        "--extension",
        "1003=2026-03-05 12:00",
    ]
    assert run(course, *args, *extra) == 0
    return {r["student"]: r for r in read_csv(out)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from autograder.records.course import Course

    tmp = tmp_path_factory.mktemp("lms-class")
    course = Course.locate(root=REPO_ROOT, state=tmp / "state")
    assert run(course, "roster", "import", str(write_canvas_gradebook(tmp / "gradebook.csv", ASSIGNMENT))) == 0
    assert run(course, "collect", ASSIGNMENT, str(write_zip(tmp / "submissions.zip", canvas_entries(ASSIGNMENT)))) == 0
    assert run(course, "grade", ASSIGNMENT, "--workers", "2") == 0
    return course, tmp


def test_export_has_one_row_per_rostered_student_and_reports_the_unrostered(graded, capsys):
    course, tmp = graded
    rows = export(course, tmp / "grades.csv")
    assert "not on the roster, with a submission: 1099" in capsys.readouterr().out
    assert set(rows) == set(ROSTER) | {"1099"}
    assert (rows["1005"]["status"], rows["1005"]["score"], rows["1005"]["final_score"]) == ("missing", "", "")
    assert "not on the roster" in rows["1099"]["notes"] and "not on the roster" not in rows["1002"]["notes"]
    assert rows["1001"]["name"] == "Müller, Anna"
    assert (rows["1004"]["status"], rows["1004"]["score"]) == ("failed", "")
    assert rows["1004"]["reason"].startswith("malformed notebook")


def test_late_policy_gives_raw_penalty_and_final_columns(graded):
    course, tmp = graded
    rows = export(course, tmp / "late.csv")
    # 1001: the correct resubmission, 9 h 31 min late: one started day at 10% of 22 points
    assert (rows["1001"]["score"], rows["1001"]["late_penalty"], rows["1001"]["final_score"]) == ("22", "2.2", "19.8")
    assert rows["1001"]["late_by"] == "9.52h" and "the LMS marked it late" in rows["1001"]["notes"]
    # 1002 on time; 1003 two days after the due date but before its extension
    assert (rows["1002"]["late_penalty"], rows["1002"]["final_score"]) == ("0", "22")
    assert (rows["1003"]["late_penalty"], rows["1003"]["late_by"]) == ("0", "")
    assert rows["1003"]["final_score"] == rows["1003"]["score"]
    # Canvas marked 1003 late; the extension is what counts, and the note says so
    assert "the LMS marked it late, but the extension to 2026-03-05 12:00 applies: not late" in rows["1003"]["notes"]
    assert "the LMS marked it late" in rows["1001"]["notes"] and "extension" not in rows["1001"]["notes"]
    refused = export(course, tmp / "refused.csv", "--late-policy", "refuse", "--grace", "15m")
    assert (refused["1001"]["score"], refused["1001"]["final_score"]) == ("22", "0")
    assert refused["1002"]["final_score"] == "22"
    none = export(course, tmp / "none.csv", "--late-policy", "none")
    assert none["1001"]["final_score"] == "22" and "late by 9h 31min" in none["1001"]["notes"]


def test_canvas_file_carries_the_ids_canvas_matches_on_and_leaves_out_the_unrostered(graded, capsys):
    course, tmp = graded
    canvas = tmp / "canvas.csv"
    assert run(course, "export", "--out", str(tmp / "g.csv"), "--canvas", str(canvas), "--due", DUE) == 0
    assert "left out of the LMS file, not on the roster: 1099" in capsys.readouterr().err
    rows = read_csv(canvas)
    column = f"{ASSIGNMENT} (777)"  # the header of Canvas's own export, so the import fills that column
    assert rows[0]["Student"].strip() == "Points Possible" and rows[0][column] == str(FULL)
    by_id = {r["ID"]: r for r in rows[1:]}
    assert set(by_id) == set(ROSTER)  # 1099 is not in Canvas's class: a row for it would match no one
    name, sis, login, section = ROSTER["1001"]
    assert (by_id["1001"]["Student"], by_id["1001"]["SIS User ID"], by_id["1001"]["SIS Login ID"]) == (name, sis, login)
    assert by_id["1001"]["Section"] == section
    assert by_id["1002"][column] == str(FULL)
    assert by_id["1004"][column] == "" and by_id["1005"][column] == ""  # ungraded, not zero


def test_manual_adjustment_survives_a_regrade_and_reaches_the_feedback(graded, capsys):
    course, tmp = graded
    comment = "neuron_dw checked by hand: <b>fine</b>"
    assert run(course, "adjust", ASSIGNMENT, "1099", "--cell", "neuron_dw", "--score", "2", "--comment", comment) == 0
    assert run(course, "adjust", ASSIGNMENT, "1004", "--score", "11", "--comment", "graded by hand from the PDF") == 0
    assert run(course, "grade", ASSIGNMENT, "--student", "1099", "--student", "1004", "--regrade") == 0
    rows = export(course, tmp / "adjusted.csv")
    assert (rows["1099"]["status"], rows["1099"]["neuron_dw"], rows["1099"]["score"]) == ("graded", "2", "2")
    assert comment in rows["1099"]["notes"]
    assert (rows["1004"]["status"], rows["1004"]["score"], rows["1004"]["final_score"]) == ("failed", "11", "11")
    assert run(course, "feedback", ASSIGNMENT, "--student", "1099") == 0
    page = course.feedback_dir / "1099" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert f"Instructor: {comment}" in html_text(page) and "<b>fine</b>" not in page.read_text()
    capsys.readouterr()
    assert run(course, "adjust", ASSIGNMENT, "1099", "--cell", "nope", "--score", "1", "--comment", "x") == 2
    assert "no test cell 'nope'" in capsys.readouterr().err
    assert run(course, "adjust", ASSIGNMENT, "1099", "--cell", "neuron_dw", "--score", "3", "--comment", "x") == 2
    assert run(course, "adjust", ASSIGNMENT, "1099", "--cell", "neuron_dw", "--clear") == 0
    assert run(course, "adjust", ASSIGNMENT, "1004", "--clear") == 0


class _Tags(HTMLParser):
    """Every tag and attribute of a page, to prove that nothing executable came from a student."""

    def __init__(self):
        super().__init__()
        self.tags, self.attributes = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]


@pytest.fixture(scope="module")
def pages(graded):
    course, _ = graded
    assert run(course, "feedback", ASSIGNMENT, "--due", DUE, "--late-policy", "per-day") == 0
    return {p.parent.parent.name: p for p in course.feedback_dir.rglob("*.html")}


def test_feedback_for_every_graded_and_failed_submission(pages):
    assert set(pages) == {"1001", "1002", "1003", "1004", "1006", "1099"}  # not 1005: nothing handed in
    failed = html_text(pages["1004"])
    assert "could not be graded" in failed and "malformed notebook" in failed and "hand it in again" in failed
    secrets = secret_lines(REPO_ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", kinds=("hidden",))
    for page in pages.values():
        assert leaks(secrets, html_text(page)) == [], page


def test_feedback_shows_the_late_penalty_as_the_export_does(pages):
    text = html_text(pages["1001"])
    assert "late penalty-2.2" in text and "final score19.8" in text and "late by 9h 31min" in text
    assert "late penalty" not in html_text(pages["1002"])


def test_feedback_inside_an_extension_says_the_extension_applies(graded, pages):
    """Canvas marked 1003 late; with the extension the page must not leave it at that."""
    course, _ = graded
    late = ["--due", DUE, "--late-policy", "per-day", "--extension", "1003=2026-03-05 12:00"]
    assert run(course, "feedback", ASSIGNMENT, "--student", "1003", *late) == 0
    text = html_text(pages["1003"])
    assert "the LMS marked it late, but the extension to 2026-03-05 12:00 applies: not late" in text
    assert "late penalty" not in text


def test_feedback_html_has_no_script_no_handler_no_external_reference(pages):
    for student, page in pages.items():
        parsed = _Tags()
        parsed.feed(page.read_text(encoding="utf-8"))
        assert "script" not in parsed.tags and "iframe" not in parsed.tags, student
        assert [a for a in parsed.attributes if a[1].startswith("on")] == [], student
        urls = [v for _, name, v in parsed.attributes if name in ("src", "href", "action")]
        assert all(v.startswith("data:image/") for v in urls), (student, urls)
    hostile = pages["1006"].read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__pwned = 1" in hostile  # shown, as text


@pytest.mark.browser
def test_feedback_pages_in_a_real_browser_load_nothing_and_run_no_student_script(pages):
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS, SiteServer, chromium_path, open_page

    root = pages["1006"].parents[2]
    with SiteServer(root) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            for student in ("1006", "1004", "1001"):
                page, visit = open_page(browser, f"{server.url}/{student}/{ASSIGNMENT}/{ASSIGNMENT}.html",
                                        viewport=(800, 900))  # fmt: skip
                page.wait_for_load_state("networkidle")
                assert visit.external_requests == [], student
                assert visit.page_errors == [], student
                assert page.evaluate("window.__pwned") is None, student
                assert page.title() == f"{ASSIGNMENT}: feedback for {ROSTER[student][0]}"
                assert page.evaluate("document.querySelectorAll('script').length") == 0
                # long words and messages wrap: nothing is wider than the window
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), student
                page.close()
        finally:
            browser.close()


def test_hand_out_zip_uses_the_lms_names_and_folders_the_student_ids(graded, pages, tmp_path):
    course, _ = graded
    handout = tmp_path / "handout.zip"
    folders = tmp_path / "folders"
    assert run(course, "feedback", ASSIGNMENT, "--zip", str(handout), "--folders", str(folders)) == 0
    names = sorted(zipfile.ZipFile(handout).namelist())
    assert f"müllerann_LATE_1001_5101_{ASSIGNMENT}-feedback.html" in names  # the attempt that was graded
    assert f"novakema_1004_5004_{ASSIGNMENT}-feedback.html" in names
    assert len(names) == len(pages)
    assert sorted(p.parent.name for p in folders.glob(f"*/{ASSIGNMENT}-feedback.html")) == sorted(pages)


def test_report_counts_missing_and_failed_students(graded, capsys):
    course, tmp = graded
    assert run(course, "report", ASSIGNMENT, "--out", str(tmp / "report.png")) == 0
    text = capsys.readouterr().out
    assert f"{ASSIGNMENT}: {len(ROSTER) + 1} students" in text
    assert "missing 1" in text and "failed 1" in text


def test_an_untouched_release_is_marked_no_answer_changed_not_an_honest_zero(graded, pages, capsys):
    """1099 handed in the blank release: graded 0, and export, report and feedback say why."""
    course, tmp = graded
    capsys.readouterr()
    rows = export(course, tmp / "blank.csv")
    assert "no answer changed (the release handed in as it was): 1099" in capsys.readouterr().out
    assert (rows["1099"]["status"], rows["1099"]["score"]) == ("graded", "0")
    assert "no answer changed" in rows["1099"]["notes"]
    assert all("no answer changed" not in rows[s]["notes"] for s in ("1001", "1002", "1003", "1006"))
    assert run(course, "report", ASSIGNMENT, "--out", str(tmp / "report.png")) == 0
    assert "no answer changed (the release handed in as it was): 1: 1099" in capsys.readouterr().out
    assert "no answer changed" in html_text(pages["1099"]) and "no answer changed" not in html_text(pages["1003"])


def test_bad_paths_and_wrong_order_get_one_line_errors(graded, tmp_path, capsys):
    from autograder.records.course import Course

    course, _ = graded
    for out in (tmp_path, "/proc/grades.csv"):
        assert run(course, "export", "--out", str(out)) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err
    fresh = Course.locate(root=REPO_ROOT, state=tmp_path / "fresh")
    assert run(fresh, "grade", ASSIGNMENT) == 2
    assert "run collect" in capsys.readouterr().err
    assert run(fresh, "collect", ASSIGNMENT, str(REPO_ROOT / "tests" / "fixtures" / ASSIGNMENT / "submissions")) == 0
    assert run(fresh, "feedback", ASSIGNMENT) == 2
    assert "run grade first" in capsys.readouterr().err
    assert run(fresh, "export", "--out", str(tmp_path / "g.csv")) == 0
    assert {r["assignment"] for r in read_csv(tmp_path / "g.csv")} == {ASSIGNMENT}  # only collected work


def test_readme_demo_runs_as_written(tmp_path):
    """The README's sample-class block, run by bash, with its state directory moved to tmp_path."""
    import re
    import subprocess

    readme = (REPO_ROOT / "README.md").read_text()
    block = re.search(r"Try it on a sample class.*?```bash\n(.*?)```", readme, re.S).group(1)
    assert "autograder/demo-state" in block and "--state autograder/demo-state" in block
    script = block.replace("make build\n", "").replace("autograder/demo-state", str(tmp_path / "demo-state"))
    script = script.replace(".venv/bin/python", str(REPO_ROOT / ".venv" / "bin" / "python"))
    done = subprocess.run(["bash", "-e", "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    rows = {r["student"]: r for r in read_csv(tmp_path / "demo-state" / "exports" / "grades.csv")}
    assert rows["1005"]["status"] == "missing" and rows["1001"]["final_score"] == "19.8"
    assert rows["1003"]["late_penalty"] == "0"  # the extension
    assert (tmp_path / "demo-state" / "feedback.zip").is_file()
