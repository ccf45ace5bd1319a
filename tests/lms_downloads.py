"""Real-shaped LMS downloads of a small class, made from the sample submissions of an assignment
(tests/fixtures/<id>/submissions/), so they never go stale when an exercise changes.

    .venv/bin/python tests/lms_downloads.py OUT_DIR [ID]

writes OUT_DIR/canvas-submissions.zip and OUT_DIR/canvas-gradebook.csv (the README's demo), and the
same small class as Moodle and Blackboard give it: moodle-submissions.zip with moodle-worksheet.csv
(Assignment > Download grading worksheet) and blackboard-submissions.zip with
blackboard-gradebook.xls (Grade Center > Work Offline > Download: tab-separated UTF-16).
The class, due 2026-03-02 23:59 (local time):

| Canvas id | name | handed in |
| --- | --- | --- |
| 1001 | Müller, Anna | blank on time, then the correct notebook late (Canvas: LATE, `-1`) |
| 1002 | Okafor, Chidi | correct, on time |
| 1003 | Lee, Jun | partly wrong, 2 days late, with an extension |
| 1004 | Novak, Ema | a malformed notebook (fails) |
| 1005 | Silva, Rui | nothing (missing) |
| 1006 | Sharp, Sam | correct answers plus a markdown cell with `<script>` and `onerror=` |
| 1099 | (not on the roster) | blank |
"""

from __future__ import annotations

import csv
import json
import sys
import zipfile
from datetime import datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DUE = "2026-03-02 23:59"
ON_TIME = (2026, 3, 2, 20, 15, 0)
ROSTER = {  # Canvas id: (Student, SIS User ID, SIS Login ID, Section)
    "1001": ("Müller, Anna", "S1001", "amueller", "A"),
    "1002": ("Okafor, Chidi", "S1002", "cokafor", "A"),
    "1003": ("Lee, Jun", "S1003", "jlee", "B"),
    "1004": ("Novak, Ema", "S1004", "enovak", "B"),
    "1005": ("Silva, Rui", "S1005", "rsilva", "B"),
    "1006": ("Sharp, Sam", "S1006", "ssharp", "A"),
}
HOSTILE_MARKDOWN = (
    "My notes <script>window.__pwned = 1; document.title = 'pwned'</script>\n\n"
    '<img src="https://example.com/beacon.png" onerror="window.__pwned = 2">\n\n'
    '<a href="javascript:window.__pwned=3" onclick="window.__pwned=4">click</a> '
    + "a-very-long-word-without-spaces-"
    * 20
)
HOSTILE_OUTPUT_HTML = "<script>window.__pwned = 5</script><b onmouseover='window.__pwned=6'>bold</b>"


def samples(assignment: str) -> dict[str, bytes]:
    folder = REPO_ROOT / "tests" / "fixtures" / assignment / "submissions"
    return {p.stem: p.read_bytes() for p in folder.glob("*.ipynb")}


def hostile(correct: bytes) -> bytes:
    """The correct notebook with a student markdown cell and an HTML output meant to run script."""
    nb = json.loads(correct)
    nb["cells"].append({"cell_type": "markdown", "id": "student-notes", "metadata": {}, "source": HOSTILE_MARKDOWN})
    nb["cells"].append(
        {
            "cell_type": "code",
            "id": "student-html",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": f"from IPython.display import HTML, display\ndisplay(HTML({HOSTILE_OUTPUT_HTML!r}))\n"
            f"print({HOSTILE_OUTPUT_HTML!r})",
        }
    )
    return json.dumps(nb, indent=1).encode()


def canvas_entries(assignment: str) -> list[tuple[str, tuple, bytes]]:
    """(name in the zip, entry time, bytes) of a Canvas "Download Submissions" zip."""
    s = samples(assignment)
    nb = f"{assignment}.ipynb"
    late = f"{assignment}-1.ipynb"
    return [
        (f"müllerann_1001_5001_{nb}", ON_TIME, s["blank"]),
        (f"müllerann_LATE_1001_5101_{late}", (2026, 3, 3, 9, 30, 0), s["correct"]),
        (f"okaforchidi_1002_5002_{nb}", ON_TIME, s["correct"]),
        (f"leejun_LATE_1003_5003_{nb}", (2026, 3, 4, 18, 0, 0), s["partial"]),
        (f"novakema_1004_5004_{nb}", ON_TIME, s["malformed"]),
        (f"sharpsam_1006_5006_{nb}", ON_TIME, hostile(s["correct"])),
        (f"guestghost_1099_5099_{nb}", ON_TIME, s["blank"]),
    ]


def write_zip(path: Path, entries) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, when, data in entries:
            archive.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def write_canvas_gradebook(path: Path, assignment: str) -> Path:
    """Canvas's Grades > Export: identity columns, a Points Possible row, one column per assignment."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{assignment} (777)"])
        writer.writerow(["    Points Possible", "", "", "", "", "22"])
        for canvas_id, (name, sis, login, section) in ROSTER.items():
            writer.writerow([name, canvas_id, sis, login, section, ""])
    return path


# Moodle: participant number: (Full name, email); Blackboard: username: (Last, First, Student ID)
MOODLE_CLASS = {"2001": ("Anna Müller", "anna@example.org"), "2002": ("Chidi Okafor", "chidi@example.org"),
                "2003": ("Jun Lee", "jun@example.org")}  # fmt: skip
BLACKBOARD_CLASS = {"amueller": ("Müller", "Anna", "S2001"), "cokafor": ("Okafor", "Chidi", "S2002"),
                    "jlee": ("Lee", "Jun", "S2003")}  # fmt: skip
MOODLE_WORKSHEET_COLUMNS = [
    "Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade", "Grade can be changed",
    "Last modified (submission)", "Last modified (grade)", "Feedback comments",
]  # fmt: skip
BLACKBOARD_COLUMN_ID = "1234567"


def moodle_entries(assignment: str) -> list[tuple[str, tuple, bytes]]:
    """Moodle's "Download all submissions": a folder per participant (2003 handed in nothing)."""
    s = samples(assignment)
    nb = f"{assignment}.ipynb"
    return [
        (f"Anna Müller_2001_assignsubmission_file_/{nb}", ON_TIME, s["correct"]),
        (f"Chidi Okafor_2002_assignsubmission_file_/{nb}", ON_TIME, s["partial"]),
    ]


def write_moodle_worksheet(path: Path, assignment: str) -> Path:
    """Moodle's Assignment > "Download grading worksheet" before any grading."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(MOODLE_WORKSHEET_COLUMNS)
        for participant, (name, email) in MOODLE_CLASS.items():
            status = "No submission" if participant == "2003" else "Submitted for grading"
            submitted = "-" if participant == "2003" else "Monday, 2 March 2026, 8:15 PM"
            writer.writerow([f"Participant {participant}", name, email, status, "", "22.00", "Yes", submitted, "-", ""])
    return path


def blackboard_entries(assignment: str) -> list[tuple[str, tuple, bytes]]:
    """Blackboard's "Assignment File Download": username and attempt time in each name (jlee: nothing)."""
    s = samples(assignment)
    nb = f"{assignment}.ipynb"
    return [
        (f"{assignment}_amueller_attempt_2026-03-02-20-15-00_{nb}", ON_TIME, s["correct"]),
        (f"{assignment}_cokafor_attempt_2026-03-02-20-15-00_{nb}", ON_TIME, s["partial"]),
    ]


def blackboard_column(assignment: str, points: str = "22") -> str:
    return f"{assignment} [Total Pts: {points} Score] |{BLACKBOARD_COLUMN_ID}"


def write_blackboard_gradebook(path: Path, assignment: str) -> Path:
    """Grade Center > Work Offline > Download (full Grade Center, tab-delimited): UTF-16, every
    value quoted, the column id after `|` in each column's header."""
    with path.open("w", newline="", encoding="utf-16") as f:
        writer = csv.writer(f, delimiter="\t", quoting=csv.QUOTE_ALL)
        writer.writerow(["Last Name", "First Name", "Username", "Student ID", "Last Access", "Availability",
                         blackboard_column(assignment)])  # fmt: skip
        for username, (last, first, student_id) in BLACKBOARD_CLASS.items():
            writer.writerow([last, first, username, student_id, "2026-03-01 10:00:00", "Available", ""])
    return path


def due_local() -> datetime:
    return datetime.fromisoformat(DUE)


if __name__ == "__main__":
    out = Path(sys.argv[1])
    assignment = sys.argv[2] if len(sys.argv) > 2 else "01-chain-rule"
    out.mkdir(parents=True, exist_ok=True)
    print(write_zip(out / "canvas-submissions.zip", canvas_entries(assignment)))
    print(write_canvas_gradebook(out / "canvas-gradebook.csv", assignment))
    print(write_zip(out / "moodle-submissions.zip", moodle_entries(assignment)))
    print(write_moodle_worksheet(out / "moodle-worksheet.csv", assignment))
    print(write_zip(out / "blackboard-submissions.zip", blackboard_entries(assignment)))
    print(write_blackboard_gradebook(out / "blackboard-gradebook.xls", assignment))
