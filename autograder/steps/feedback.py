"""Step `feedback`: one self-contained HTML page per graded or failed submission, and a way to
hand the pages out (a zip named as the LMS names its files, or one folder per student).

A page is built here rather than by nbgrader's generate_feedback, whose template loads MathJax
and require.js from a CDN (offline, math shows as raw `$...$`) and passes a student's markdown
through as HTML (a `<script>` or `onerror=` in a student cell runs in the instructor's browser).
What a page holds:

- the result: status, score (raw, late penalty, final), the instructor's adjustments with their
  comments, and for a failed submission what happened and what to do;
- one line per test cell: points and the test's one-line message (RedactTracebacks), the
  visible part of its source folded away (ClearHiddenTests, after ScrubHiddenText);
- the student's own cells (answer cells and cells they added) and their outputs.

Everything that comes from the notebook is escaped text; images are embedded only as PNG/JPEG
data. Instructions (locked markdown) are shown by their headings only, so no math is rendered
and nothing is loaded: the page's Content-Security-Policy allows no script, no connection, no
external file at all (`default-src 'none'`), as a second wall behind the escaping.
"""

from __future__ import annotations

import base64
import binascii
import html
import shutil
import zipfile
from pathlib import Path

import nbformat

from autograder.records.course import Course
from autograder.records.gradebook import FAILED, GRADED, WHOLE
from autograder.steps.export import check_writable
from autograder.steps.rows import Row, grade_rows, score_text

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'"
ADVICE = {  # the start of a failure reason -> what the student should do
    "malformed notebook": "The file you handed in is not a readable Jupyter notebook (it may be cut off or "
    "saved by another program). Open it in Jupyter, check that it opens, save it and hand it in again.",
    "wrong notebook": "The file you handed in is not this assignment's notebook. Hand in the exercise "
    "notebook of this assignment, with your answers in its answer cells.",
    "timeout": "Your notebook ran longer than the time allowed. Look for an infinite loop or a long "
    "computation (a large loop, a training run) and make it shorter; run the whole notebook "
    "(Restart & Run All) before handing it in.",
    "cpu time limit": "Your notebook used more computing time than allowed. Look for loops that run far "
    "more often than needed.",
    "kernel died": "Your notebook's process stopped before the end (it may have used too much memory or "
    "exited). Run the whole notebook (Restart & Run All) and check that it finishes.",
    "output limit": "Your notebook printed far more output than allowed. Remove large prints.",
    "memory limit": "Grading your notebook needed more memory than allowed: your code handed the tests far "
    "more data than they asked for (or kept calling a function a test had passed to it). Return only the "
    "values asked for.",
}
DEFAULT_ADVICE = "Your notebook could not be graded. Ask your instructor what to do."


def feedback(
    course: Course, assignment_id: str, students: list[str] | None = None, *, deadlines=None, progress=print
) -> dict[str, Path]:
    """Write a page for every graded or failed submission (or `students`); {student: page}.
    `deadlines` (default: the config file's) gives the late penalty shown, as in export."""
    notebooks = course.source_notebooks(assignment_id)
    rows, tests = grade_rows(course, [assignment_id], deadlines=deadlines)
    done = {r.student: r for r in rows if r.status in (GRADED, FAILED)}
    if not done:
        raise LookupError(f"no graded or failed submission of {assignment_id}: run grade first")
    if students:
        unknown = sorted(set(students) - set(done))
        if unknown:
            raise LookupError(f"no graded or failed submission of {assignment_id} for: {', '.join(unknown)}")
    results = {}
    FAILURES.clear()
    for student in students or sorted(done):
        row = done[student]
        try:  # one student's notebook never stops the pages of the others
            notebook = course.autograded_dir / student / assignment_id / notebooks[0].name
            body = _graded(row, tests[assignment_id], notebook) if row.status == GRADED else _failed(row)
            target = course.feedback_dir / student / assignment_id / notebooks[0].with_suffix(".html").name
            target.parent.mkdir(parents=True, exist_ok=True)
            page = _page(f"{assignment_id}: feedback for {row.name or student}", body)
            target.write_text(page.encode("utf-8", "backslashreplace").decode("utf-8"), encoding="utf-8")
        except Exception as error:  # noqa: BLE001 - reported under the student's name; the class goes on
            FAILURES[student] = f"{type(error).__name__}: {str(error)[:300]}"
            progress(f"{student}: no feedback page ({FAILURES[student]})")
            continue
        results[student] = target
        progress(f"{student}: {row.status}, feedback in {target}")
    return results


FAILURES: dict[str, str] = {}  # student -> why the last feedback() made no page for them


def hand_out(course: Course, assignment_id: str, pages: dict[str, Path], *, zip_path=None, folders=None) -> int:
    """Copy the pages into a zip named as the LMS named the submissions (Moodle: the student's
    folder; Canvas: `name_userid_attemptid_feedback.html`; else `<student>_feedback.html`), or
    into folders/<student>/. Returns the number of pages handed out."""
    book = course.statuses()
    submissions = book.submissions()
    book.close()
    if zip_path:
        check_writable(zip_path)
        Path(zip_path).parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
            for student, page in sorted(pages.items()):
                archive.write(page, _handout_name(student, assignment_id, submissions.get((assignment_id, student))))
    if folders:
        for student, page in sorted(pages.items()):
            target = Path(folders) / student / f"{assignment_id}-feedback.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(page, target)
    return len(pages)


def _handout_name(student: str, assignment_id: str, submission) -> str:
    layout, lms_name = (submission.layout, submission.lms_name) if submission else ("", "")
    if "/" in lms_name or "\\" in lms_name or ".." in lms_name or not lms_name.isprintable():
        lms_name = ""  # never a path in the zip the instructor unpacks or uploads
    if layout == "moodle" and lms_name:
        return f"{lms_name}/{assignment_id}-feedback.html"
    if layout == "canvas" and lms_name:
        return f"{lms_name}_{assignment_id}-feedback.html"
    return f"{student}_{assignment_id}-feedback.html"


# ---------------------------------------------------------------- page parts (all text escaped)
def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _summary(row: Row) -> str:
    items = [("student", row.name + f" ({row.student})" if row.name else row.student), ("status", row.status)]
    if row.submitted:
        items.append(("submitted", row.submitted))
    if row.score is not None:
        items.append(("score", f"{score_text(row.score)} of {score_text(row.max_score)}"))
        if row.late_penalty:
            items.append(("late penalty", f"-{score_text(row.late_penalty)}"))
            items.append(("final score", score_text(row.final_score)))
    notes = [n for n in row.notes if n.startswith("late by") or "the extension to" in n]
    items += [("late", n) for n in notes]
    if row.unchanged:  # the untouched release: its 0 is not an attempt (export and report say so too)
        items.append(
            (
                "answers",
                "no answer changed: this is the notebook as it was handed out, so every test "
                "met the release's placeholder (NotImplementedError). Hand in your own work.",
            )
        )
    lines = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in items)
    whole = row.adjustments.get(WHOLE)
    adjusted = f'<p class="comment">Instructor: {_e(whole.comment)}</p>' if whole else ""
    return f'<table class="summary">{lines}</table>{adjusted}'


def _failed(row: Row) -> str:
    key = next((k for k in ADVICE if row.reason.startswith(k)), None)
    advice = ADVICE.get(key, DEFAULT_ADVICE)
    return (
        _summary(row) + f'<section class="failed"><h2>Your submission could not be graded</h2><p>What happened: '
        f"<b>{_e(row.reason or 'unknown')}</b>.</p><p>{_e(advice)}</p></section>"
    )


def _graded(row: Row, cells: dict[str, float], notebook: Path) -> str:
    nb = student_view(notebook)
    messages = {}
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in cells:
            messages[gid] = "; ".join(
                o.get("traceback", [""])[0] for o in cell.get("outputs", []) if o.get("output_type") == "error"
            )
    table = "".join(
        f'<tr class="{"pass" if row.tests.get(gid) == points else "fail"}"><td>{_e(gid)}</td>'
        f"<td>{_e(score_text(row.tests.get(gid) or 0))} / {_e(score_text(points))}</td>"
        f"<td>{_e(_cell_note(row, gid, messages.get(gid, '')))}</td></tr>"
        for gid, points in cells.items()
    )
    tests = f'<h2>Tests</h2><table class="tests"><tr><th>test</th><th>points</th><th>message</th></tr>{table}</table>'
    return _summary(row) + tests + "<h2>Your notebook</h2>" + "".join(_cell(c, row) for c in nb.cells)


def _cell_note(row: Row, gid: str, message: str) -> str:
    adjustment = row.adjustments.get(gid)
    if adjustment:
        message = f"{message} | Instructor: {adjustment.comment}".lstrip(" |")
    return message or ("passed" if row.tests.get(gid) else "")


def student_view(path: Path):
    """The autograded notebook with the hidden tests and their traces gone (the course's feedback
    preprocessors, in the order of nbgrader_config.py)."""
    from autograder.engine.preprocessors import ClearLockedHiddenTests, RedactTracebacks, ScrubHiddenText

    nb = nbformat.read(path, as_version=4)
    for preprocessor in (ScrubHiddenText(), ClearLockedHiddenTests(), RedactTracebacks()):
        nb, _ = preprocessor.preprocess(nb, {})
    return nb


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _cell(cell, row: Row) -> str:
    meta = nbgrader_meta(cell)
    if cell.cell_type == "markdown":
        if meta.get("locked"):  # the instructions: headings only, to find one's place
            heads = [line for line in cell.source.splitlines() if line.startswith("#")]
            return "".join(f"<h3>{_e(h.lstrip('#').strip())}</h3>" for h in heads)
        return f'<div class="cell student"><div class="label">your text</div><pre>{_e(cell.source)}</pre></div>'
    if cell.cell_type != "code" or (meta.get("locked") and not meta.get("grade")):
        return ""  # the grading helpers: not the student's
    if meta.get("grade"):
        gid = meta.get("grade_id")
        label = f"test {gid}: {score_text(row.tests.get(gid) or 0)} / {score_text(meta.get('points', 0))}"
        return (
            f'<div class="cell test"><div class="label">{_e(label)}</div>'
            f"<details><summary>test code (visible part)</summary><pre>{_e(cell.source)}</pre></details>"
            f"{_outputs(cell)}</div>"
        )
    label = "your answer" if meta.get("solution") else "your cell"
    source = f"<pre>{_e(cell.source)}</pre>"
    return f'<div class="cell student"><div class="label">{label}</div>{source}{_outputs(cell)}</div>'


def _outputs(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            parts.append(f'<pre class="out {_e(output.get("name", ""))}">{_e(output.get("text", ""))}</pre>')
        elif kind == "error":
            parts.append(f'<pre class="out error">{_e(chr(10).join(output.get("traceback", [])))}</pre>')
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            image = next((m for m in ("image/png", "image/jpeg") if m in data), None)
            if image and _is_base64(data[image]):
                parts.append(f'<img alt="output" src="data:{image};base64,{"".join(str(data[image]).split())}">')
            elif "text/plain" in data:
                text = data["text/plain"]
                parts.append(f'<pre class="out">{_e("".join(text) if isinstance(text, list) else text)}</pre>')
    return "".join(parts)


def _is_base64(value) -> bool:
    try:
        base64.b64decode("".join(str(value).split()), validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 1rem auto; padding: 0 1rem; line-height: 1.45; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f8fa; padding: .5rem; margin: .3rem 0; }
th { white-space: nowrap; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { border: 1px solid #ccc; padding: .2rem .5rem;
  text-align: left; vertical-align: top; overflow-wrap: anywhere; }
table.tests td:last-child { white-space: pre-wrap; max-width: 36rem; }
tr.pass td:nth-child(2) { color: #176f2c; } tr.fail td:nth-child(2) { color: #a4161a; font-weight: bold; }
.cell { border-left: 4px solid #4c72b0; padding-left: .6rem; margin: .8rem 0; }
.cell.test { border-color: #999; } .label { font-size: .85em; color: #555; }
.out.error, .out.stderr { background: #fdecea; } .failed { border: 2px solid #a4161a; padding: .5rem 1rem; }
.comment { background: #fff8dc; padding: .4rem; } img { max-width: 100%; }
"""


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{_e(title)}</h1>{body}</body></html>\n"
    )
