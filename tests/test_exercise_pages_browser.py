"""The "Work on it here" pages in a real browser (Debian's Chromium driven by Playwright), with the
site served on 127.0.0.1 and every other host blocked.

For every exercise: the blank release fails its visible tests as it does in a Jupyter kernel; the
reference answers (taken from solutions/ now, between BEGIN and END SOLUTION), pasted into the
editors, pass every visible test after Run all; the downloaded notebook, collected and graded by
`python -m autograder`, gets full marks and exactly the scores of the same answers saved by
Jupyter. Also: a typical mistake shows the visible test's message, Stop ends an endless loop and
the page works again, work survives a reload and Reset brings the release back, nothing of
Pyodide loads before the first Run, and the pages pass the chapters' layout checks at 1280 and
390 px (screenshots in artifacts/screenshots/).
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.browser import CHROMIUM_ARGS, OVERFLOW_JS, SiteServer, chromium_path, open_page
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.browser
ARTIFACTS = REPO_ROOT / "artifacts"
EXERCISES = sorted(p.parent.name for p in (REPO_ROOT / "exercises").glob("*/*.ipynb") if p.stem == p.parent.name)
WIDTHS = {"laptop": 1280, "phone": 390}
SCROLLING_OK = {"laptop": [], "phone": ["pre", "table", ".bp-table"]}  # as for the chapters
PYTHON_TIMEOUT = 180_000  # ms: Pyodide's start on 2 shared cores, then a whole notebook


@pytest.fixture(scope="module")
def server(site):
    with SiteServer(site) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    """Where open_page opens its pages: browser.new_page gives each page a fresh profile (empty
    cache and localStorage, downloads allowed)."""
    return browser


def reference_answers(assignment: str) -> dict[str, str]:
    """{cell id: the source's answer cell without its BEGIN/END SOLUTION lines}, from solutions/ now."""
    source = json.loads((REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb").read_text())
    answers = {}
    for cell in source["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution") and cell["cell_type"] == "code":
            text = "".join(cell["source"])
            lines = [
                line for line in text.splitlines(True) if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
            ]
            answers[cell["id"]] = "".join(lines)
    return answers


def release(assignment: str) -> dict:
    return json.loads((REPO_ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_text())


def page_url(server, assignment):
    return f"{server.url}/book/{assignment}/exercise.html"


def open_exercise(context, server, assignment, viewport=(1280, 900)):
    page, visit = open_page(context, page_url(server, assignment), viewport=viewport)
    page.set_default_timeout(PYTHON_TIMEOUT)  # the machine's 2 cores are shared: be patient, not flaky
    page.wait_for_selector(".bp-notebook[data-ready=yes]")
    return page, visit


def paste(page, cell_id: str, text: str):
    """Select all of the cell's editor and paste `text`, as a student pastes from the clipboard."""
    content = page.locator(f'.bp-cell[data-cell-id="{cell_id}"] .cm-content')
    content.click()
    page.keyboard.press("Control+A")
    content.evaluate(
        """(el, text) => { const data = new DataTransfer(); data.setData("text/plain", text);
           el.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true})); }""",
        text,
    )


def editor_text(page, cell_id: str) -> str:
    return page.locator(f'.bp-cell[data-cell-id="{cell_id}"] .cm-content').evaluate(
        "el => Array.from(el.querySelectorAll('.cm-line')).map(l => l.textContent).join('\\n')"
    )


def run_all(page):
    page.click(".bp-run-all")
    wait_idle(page)


def wait_idle(page, timeout=PYTHON_TIMEOUT):
    page.wait_for_function(
        "() => { const r = document.querySelector('.bp-notebook'); return r.dataset.busy === 'no' && "
        "r.dataset.python === 'ready'; }",
        timeout=timeout,
    )


def verdicts(page) -> dict[str, tuple[str, str]]:
    """{test cell id: (passed|failed|none, the first line of its error)}."""
    return {
        cid: (v or "none", msg)
        for cid, v, msg in page.evaluate(
            """() => Array.from(document.querySelectorAll('.bp-test')).map(e => [e.dataset.cellId,
                 e.dataset.verdict, (e.querySelector('.bp-error-line') || {textContent: ''}).textContent])"""
        )
    }


def visible_test_cells(assignment):
    return [c["id"] for c in release(assignment)["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]


def clean(visit):
    assert visit.external_requests == [], "requests left 127.0.0.1"
    assert visit.page_errors == [] and visit.console_errors == [], (visit.page_errors, visit.console_errors)
    assert visit.failed_requests == []
    assert not [url for url, status in visit.statuses if status >= 400], "requests answered with an error"


# --- what a kernel says about the blank release (the Jupyter side of the comparison) ---


def jupyter_errors(notebook: dict) -> dict[str, str]:
    """{test cell id: ename} of the test cells that raise when the notebook runs in a real kernel."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.reads(json.dumps(notebook), as_version=4)
    NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3").execute()
    found = {}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
            found[cell.id] = errors[0]["ename"] if errors else None
    return found


# --- grading a downloaded notebook through the CLI ---


def grade(tmp_path, assignment, notebooks: dict[str, dict]) -> dict[str, dict[str, tuple[float, float]]]:
    """{student: {test cell: (score, max)}} of notebooks collected and graded by the real autograder."""
    from autograder.cli import main
    from autograder.records.course import Course

    folder = tmp_path / "class"
    folder.mkdir()
    for student, nb in notebooks.items():
        (folder / f"{student}.ipynb").write_text(json.dumps(nb, indent=1))
    course = Course.locate(root=REPO_ROOT, state=tmp_path / "state")
    args = ["--root", str(REPO_ROOT), "--state", str(course.state)]
    assert main([*args, "collect", assignment, str(folder)]) == 0
    assert main([*args, "grade", assignment]) == 0
    with course.gradebook() as gradebook:
        results = {}
        for student in notebooks:
            submission = gradebook.find_submission(assignment, student)
            results[student] = {g.name: (g.score, g.max_score) for nb in submission.notebooks for g in nb.grades}
    return results


def as_jupyter_saves(assignment: str, answers: dict[str, str]) -> dict:
    """The release with the answers typed in, as Jupyter would save it (nbformat)."""
    import nbformat

    nb = nbformat.reads(json.dumps(release(assignment)), as_version=4)
    for cell in nb.cells:
        if cell.id in answers:
            cell.source = answers[cell.id]
    return json.loads(nbformat.writes(nb))


@pytest.mark.slow
@pytest.mark.parametrize("assignment", EXERCISES)
def test_blank_fails_as_in_jupyter_and_reference_answers_pass_and_grade_full(context, server, assignment, tmp_path):
    page, visit = open_exercise(context, server, assignment)
    tests = visible_test_cells(assignment)
    try:
        # the blank release: every visible test fails, with the error a kernel gives
        run_all(page)
        blank = verdicts(page)
        kernel = jupyter_errors(release(assignment))
        assert {cid: v for cid, (v, _) in blank.items()} == {
            cid: "passed" if kernel[cid] is None else "failed" for cid in tests
        }
        assert all(blank[cid][1].split(":")[0] == kernel[cid] for cid in tests if kernel[cid])
        assert all(v == "failed" for v, _ in blank.values()), "a visible test passes on the blank release"
        # the reference answers, pasted: every visible test passes
        answers = reference_answers(assignment)
        for cell_id, text in answers.items():
            paste(page, cell_id, text)
        run_all(page)
        after = verdicts(page)
        assert after == {cid: ("passed", "") for cid in tests}, {c: v for c, v in after.items() if v[0] != "passed"}
        with page.expect_download() as download:
            page.click(".bp-download")
        assert download.value.suggested_filename == f"{assignment}.ipynb"
        downloaded = json.loads(open(download.value.path()).read())
    finally:
        page.close()
    clean(visit)
    # the download is the release with the answers: nbgrader metadata and everything else intact
    expected = release(assignment)
    for cell in expected["cells"]:
        if cell["id"] in answers:
            cell["source"] = answers[cell["id"]]
    for nb in (expected, downloaded):
        for cell in nb["cells"]:
            cell["source"] = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    assert downloaded == expected
    # graded by the CLI exactly like the same answers saved by Jupyter, with full marks
    scores = grade(tmp_path, assignment, {"browser": downloaded, "jupyter": as_jupyter_saves(assignment, answers)})
    assert scores["browser"] == scores["jupyter"]
    assert scores["browser"] and all(score == points for score, points in scores["browser"].values())


def load_mutants(assignment):
    path = REPO_ROOT / "tests" / "fixtures" / assignment / "mutants.py"
    spec = importlib.util.spec_from_file_location(f"mutants_{assignment.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MUTANTS


def test_a_typical_mistake_shows_the_visible_tests_message(context, server):
    assignment = "01-chain-rule"
    mutant = load_mutants(assignment)["derivative-divides-by-h"]  # forgets the 2 of the central difference
    cell_id, words = mutant["message"]
    answers = reference_answers(assignment)
    (answer_id,) = [
        c["id"] for c in release(assignment)["cells"] if c["metadata"]["nbgrader"]["grade_id"] == mutant["cell"]
    ]
    page, visit = open_exercise(context, server, assignment)
    try:
        paste(page, answer_id, answers[answer_id].replace(mutant["old"], mutant["new"], 1))
        page.click(f'.bp-cell[data-cell-id="{cell_id}"] .bp-run-cell')  # runs the cells above first
        page.wait_for_selector(f'.bp-cell[data-cell-id="{cell_id}"][data-verdict]', timeout=PYTHON_TIMEOUT)
        verdict, message = verdicts(page)[cell_id]
        shot = ARTIFACTS / "screenshots" / "exercise-page-mistake.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.locator(f'.bp-cell[data-cell-id="{cell_id}"]').screenshot(path=str(shot))
    finally:
        page.close()
    assert verdict == "failed" and message.startswith("AssertionError: ") and words in message
    clean(visit)


def test_stop_ends_an_endless_loop_and_the_page_works_again(context, server):
    assignment = "01-chain-rule"
    cells = release(assignment)["cells"]
    answer = next(c["id"] for c in cells if c["metadata"]["nbgrader"]["grade_id"] == "numerical_derivative")
    test = next(c["id"] for c in cells if c["metadata"]["nbgrader"]["grade_id"] == "numerical_derivative_values")
    page, visit = open_exercise(context, server, assignment)
    try:
        paste(page, answer, "def numerical_derivative(f, x, h=1e-5):\n    while True:\n        pass\n")
        page.click(f'.bp-cell[data-cell-id="{test}"] .bp-run-cell')
        page.wait_for_selector(f'.bp-cell[data-cell-id="{test}"][data-state="running"]', timeout=PYTHON_TIMEOUT)
        page.wait_for_timeout(1500)  # it loops
        assert page.evaluate("document.querySelector('.bp-notebook').dataset.busy") == "yes"
        paste(page, answer, reference_answers(assignment)[answer])  # the page answers while Python loops
        assert "while True" not in editor_text(page, answer)
        page.click(".bp-stop")
        assert page.get_attribute(f'.bp-cell[data-cell-id="{test}"]', "data-state") == "stopped"
        wait_idle(page)  # a fresh Python ran the cells above again
        page.click(f'.bp-cell[data-cell-id="{answer}"] .bp-run-cell')
        page.click(f'.bp-cell[data-cell-id="{test}"] .bp-run-cell')
        page.wait_for_selector(f'.bp-cell[data-cell-id="{test}"][data-verdict]', timeout=PYTHON_TIMEOUT)
        assert verdicts(page)[test] == ("passed", "")
        # the grading helpers ran again in the fresh Python: a test that needs them passes
    finally:
        page.close()
    clean(visit)


def test_work_survives_a_reload_and_reset_brings_back_the_release(context, server):
    assignment = "02-computational-graphs"
    answers = reference_answers(assignment)
    first = next(iter(answers))
    page, visit = open_exercise(context, server, assignment)
    try:
        paste(page, first, "# my work\n" + answers[first])
        page.wait_for_function("document.querySelector('.bp-notebook').dataset.saved")
        page.reload()
        page.wait_for_selector(".bp-notebook[data-ready=yes]")
        assert editor_text(page, first).startswith("# my work\n")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click(".bp-reset")
        released = "".join(next(c for c in release(assignment)["cells"] if c["id"] == first)["source"])
        assert editor_text(page, first) == released
        page.reload()
        page.wait_for_selector(".bp-notebook[data-ready=yes]")
        assert editor_text(page, first) == released
    finally:
        page.close()
    clean(visit)


@pytest.mark.parametrize("device", WIDTHS)
@pytest.mark.parametrize("assignment", EXERCISES)
def test_page_works_offline_loads_no_python_before_run_and_fits_its_column(context, server, assignment, device):
    page, visit = open_exercise(context, server, assignment, viewport=(WIDTHS[device], 900))
    try:
        if page.locator(".math").count():
            page.wait_for_selector("mjx-container", state="attached")
            assert "$$" not in page.inner_text("main"), "raw TeX left on the page"
            page.wait_for_selector(".bp-notebook[data-math-fitted=yes]", state="attached")  # after fonts
        page.wait_for_timeout(1000)  # (not "networkidle": on a loaded machine it sometimes never came)
        assert not [url for url, _ in visit.statuses if "/_static/pyodide/" in url], "Pyodide loaded before Run"
        assert page.locator(".bp-editor .cm-editor").count() == sum(
            c["metadata"].get("nbgrader", {}).get("solution", False) or not c["metadata"].get("nbgrader")
            for c in release(assignment)["cells"]
            if c["cell_type"] == "code"
        )
        assert page.locator(".bp-code .highlight pre").count() > 0  # the locked cells, read-only
        overflow = page.evaluate(OVERFLOW_JS, SCROLLING_OK[device])
        assert overflow["page"] <= 0, f"the page scrolls sideways by {overflow['page']} px"
        assert overflow["wide"] == [], f"wider than the column at {WIDTHS[device]} px: {overflow['wide']}"
        shot = ARTIFACTS / "screenshots" / device / f"book__{assignment}__exercise.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    clean(visit)


def test_outputs_fit_a_phone_too(context, server):
    """Error messages and tracebacks under the cells wrap inside the column."""
    assignment = "04-vectorized-gradients"
    page, visit = open_exercise(context, server, assignment, viewport=(390, 900))
    try:
        run_all(page)
        page.evaluate("document.querySelectorAll('.bp-error details').forEach(d => d.open = true)")
        overflow = page.evaluate(OVERFLOW_JS, SCROLLING_OK["phone"])
        page.screenshot(
            path=str(ARTIFACTS / "screenshots" / "phone" / f"book__{assignment}__exercise-run.png"), full_page=True
        )
        requests = [url for url, _ in visit.statuses]
    finally:
        page.close()
    assert overflow["page"] <= 0 and overflow["wide"] == [], overflow
    assert any(url.endswith(".wasm") for url in requests) and any("numpy-" in url for url in requests)
    clean(visit)
