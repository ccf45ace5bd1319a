"""The "Work on it here" pages (book/_ext/exercise_pages.py) and the runtime they vendor, without
a browser: every exercise has a page made from the release as it is now, the page carries the
release and nothing else, the chapter links it, and the vendored files are the pinned ones.
The browser half is tests/test_exercise_pages_browser.py."""

from __future__ import annotations

import hashlib
import html
import importlib.util
import json
import re
import shutil

import pytest

from tests.conftest import REPO_ROOT
from tests.secret_text import html_text, leaks, secret_lines

EXERCISES = sorted(p for p in (REPO_ROOT / "exercises").glob("*/*.ipynb") if p.stem == p.parent.name)
IDS = [p.parent.name for p in EXERCISES]


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


vendor = _load("vendor_browser_runtime", REPO_ROOT / "tools" / "vendor_browser_runtime.py")
pages = _load("exercise_pages", REPO_ROOT / "book" / "_ext" / "exercise_pages.py")


def embedded_release(page_html: str) -> dict:
    match = re.search(r'<script type="application/json" id="bp-release">(.*?)</script>', page_html, re.S)
    assert match, "the page carries no release notebook"
    return json.loads(match.group(1))


def exercise_page(site, assignment):
    path = site / "book" / assignment / "exercise.html"
    assert path.is_file(), f"no exercise page for {assignment}"
    return path.read_text()


# --- the vendored runtime ---


def test_vendored_runtime_is_the_pinned_one():
    assert vendor.check() == []


def test_every_wheel_is_checked_against_the_lock_file():
    lock = json.loads((vendor.PYODIDE_DIR / "pyodide-lock.json").read_text())["packages"]
    for name in vendor.WHEELS:
        wheel = vendor.PYODIDE_DIR / lock[name]["file_name"]
        assert hashlib.sha256(wheel.read_bytes()).hexdigest() == lock[name]["sha256"]
    assert set(vendor.expected_files()) == set(vendor.PYODIDE_CORE) | {lock[n]["file_name"] for n in vendor.WHEELS}


def test_a_tampered_or_missing_runtime_file_is_named(tmp_path, monkeypatch):
    copy = tmp_path / "pyodide"
    shutil.copytree(vendor.PYODIDE_DIR, copy)
    monkeypatch.setattr(vendor, "PYODIDE_DIR", copy)
    wheel = next(copy.glob("numpy-*.whl"))
    data = bytearray(wheel.read_bytes())
    data[1000] ^= 1
    wheel.write_bytes(bytes(data))
    (copy / "python_stdlib.zip").unlink()
    problems = vendor.check()
    assert any(wheel.name in p and "not the pinned file" in p for p in problems)
    assert any("python_stdlib.zip is missing" in p for p in problems)
    assert vendor.main(["check"]) == 1


def test_the_pages_lock_file_is_the_pinned_lock_cut_to_the_vendored_wheels(tmp_path, monkeypatch):
    trimmed = json.loads((vendor.PYODIDE_DIR / vendor.EXERCISE_LOCK).read_text())
    full = json.loads((vendor.PYODIDE_DIR / "pyodide-lock.json").read_text())
    assert trimmed == {"info": full["info"], "packages": {n: full["packages"][n] for n in vendor.WHEELS}}
    copy = tmp_path / "pyodide"
    shutil.copytree(vendor.PYODIDE_DIR, copy)
    monkeypatch.setattr(vendor, "PYODIDE_DIR", copy)
    edited = dict(trimmed)
    edited["packages"] = {"numpy": {**trimmed["packages"]["numpy"], "sha256": "0" * 64}}
    (copy / vendor.EXERCISE_LOCK).write_text(json.dumps(edited))
    assert any("exercise-lock.json is not the numpy-only copy" in p for p in vendor.check())
    (copy / vendor.EXERCISE_LOCK).unlink()
    assert any("exercise-lock.json is missing" in p for p in vendor.check())


def test_the_worker_reads_the_cut_lock_file_and_keeps_a_snapshot_that_may_fail():
    worker = (pages.STATIC / "exercise" / "exercise-worker.js").read_text()
    assert 'lockFileURL: indexURL + "exercise-lock.json"' in worker
    assert "_loadSnapshot" in worker and "dropSnapshot()" in worker  # a bad snapshot is dropped, not fatal


def test_the_exercises_need_no_package_that_is_not_vendored():
    """Every module a release imports is numpy (vendored) or in Python's standard library."""
    stdlib = {"math", "random", "warnings", "copy", "itertools", "functools", "collections", "time"}
    imported = set()
    for notebook in EXERCISES:
        for cell in json.loads(notebook.read_text())["cells"]:
            if cell["cell_type"] == "code" and cell["metadata"].get("nbgrader"):  # nbgrader cells run on the page
                text = "".join(cell["source"])
                imported |= set(re.findall(r"^\s*(?:import|from)\s+(\w+)", text, re.M))
    assert imported - stdlib <= set(vendor.WHEELS), (
        f"not available in the browser: {imported - stdlib - set(vendor.WHEELS)}"
    )


def test_licence_notices_are_published(site):
    notices = (site / "_static" / "pyodide" / "THIRD-PARTY-NOTICES.txt").read_text()
    assert "Mozilla Public License 2.0" in notices and "BSD 3-Clause" in notices
    assert "Mozilla Public License Version 2.0" in (site / "_static" / "pyodide" / "MPL-2.0.txt").read_text()
    assert "NumPy Developers" in (site / "_static" / "pyodide" / "numpy-LICENSE.txt").read_text()
    codemirror = (site / "_static" / "codemirror" / "LICENSES.txt").read_text()
    assert "@codemirror/view" in codemirror and "MIT License" in codemirror
    for assignment in IDS:  # and every exercise page links them
        page = exercise_page(site, assignment)
        assert "_static/pyodide/THIRD-PARTY-NOTICES.txt" in page and "_static/codemirror/LICENSES.txt" in page


# --- the pages ---


def test_pages_go_without_the_themes_fontawesome_js_but_keep_its_icon_font(site):
    css = (site / "_static" / "styles" / "pydata-sphinx-theme.css").read_text()
    assert "fa-solid-900.woff2" in css  # the icons (search, menu, full screen) are drawn by the font
    for assignment in IDS:
        page = exercise_page(site, assignment)
        assert "fontawesome.js" not in page and 'class="fa-solid fa-bars"' in page


@pytest.mark.parametrize("notebook", EXERCISES, ids=IDS)
def test_page_carries_the_release_as_it_is_now(site, notebook):
    """Made from exercises/ at build time: a changed release without a rebuild fails here."""
    assert embedded_release(exercise_page(site, notebook.parent.name)) == json.loads(notebook.read_text())


@pytest.mark.parametrize("notebook", EXERCISES, ids=IDS)
def test_answer_cells_are_editors_and_locked_cells_are_read_only(site, notebook):
    page = exercise_page(site, notebook.parent.name)
    release = json.loads(notebook.read_text())
    kinds = dict(re.findall(r'class="bp-cell bp-code[^"]*" data-cell-id="([^"]+)" data-kind="(\w+)"', page))
    code = [c for c in release["cells"] if c["cell_type"] == "code"]
    assert list(kinds) == [c["id"] for c in code], "every code cell, in order"
    for cell in code:
        meta = cell["metadata"].get("nbgrader", {})
        expected = (
            "test"
            if meta.get("grade")
            else "answer"
            if meta.get("solution")
            else "helpers"
            if meta.get("locked")
            else "code"
        )
        assert kinds[cell["id"]] == expected
    blocks = re.findall(
        r'data-kind="(\w+)" data-index="\d+">.*?</div>'  # the cell's head, then (perhaps folded) its code
        r'(?:<details[^>]*><summary>[^<]*</summary>)?(<div class="(?:bp-editor|highlight[^"]*)")',
        page,
        re.S,
    )
    assert [("bp-editor" in b) for _, b in blocks] == [k in ("answer", "code") for k, _ in blocks]
    assert page.count('class="bp-editor"') == sum(kinds[c] in ("answer", "code") for c in kinds)


@pytest.mark.parametrize("notebook", EXERCISES, ids=IDS)
def test_markdown_is_rendered_with_math_for_mathjax(site, notebook):
    page = exercise_page(site, notebook.parent.name)
    visible = html_text(site / "book" / notebook.parent.name / "exercise.html")
    assert "mathjax/tex-mml-chtml.js" in page
    markdown = [c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "markdown"]
    for cell in markdown:
        for heading in re.findall(r"^#+ (.+)$", "".join(cell["source"]), re.M):
            words = re.sub(r"[`*]", "", heading.split("$")[0]).strip()
            assert words in visible, f"heading {heading!r} missing"
    if any("$" in "".join(c["source"]) for c in markdown):
        assert 'class="math notranslate nohighlight">\\(' in page
    assert "$$" not in visible and not re.search(r"(?<![\\\w])\$[^$\s][^$]*\$", visible), "TeX left for the reader"


def test_markdown_renders_display_and_inline_math_and_tables():
    body = pages._markdown().render("A $x^2$ and\n\n$$\\frac{a}{b}$$\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n<b>x</b>")
    assert '<span class="math notranslate nohighlight">\\(x^2\\)</span>' in body
    assert '<div class="math notranslate nohighlight">\\[\\frac{a}{b}\\]</div>' in body
    assert '<div class="pst-scrollable-table-container"><table class="table">' in body
    assert "<b>" not in body, "HTML in a cell is shown as text, never run"


@pytest.mark.parametrize("notebook", EXERCISES, ids=IDS)
def test_each_chapter_links_its_page_next_to_the_download(site, notebook):
    assignment = notebook.parent.name
    (chapter,) = [p for p in (site / "book" / assignment).glob("*.html") if p.name != "exercise.html"]
    source = chapter.read_text()
    link = re.search(r'<a class="bp-work-link[^"]*" href="([^"]+)">', source)
    assert link, f"{chapter.name} does not link its exercise page"
    assert (chapter.parent / link.group(1)).resolve() == (site / "book" / assignment / "exercise.html").resolve()
    download = source.find(f"{assignment}.ipynb")
    assert download != -1 and abs(source.find("bp-work-link") - download) < 2000, "the link sits by the download"


@pytest.mark.parametrize("notebook", EXERCISES, ids=IDS)
def test_page_and_its_data_hold_no_solution_or_hidden_test(site, notebook):
    """The page's raw source (scripts included) and the notebook it embeds, against the source's secrets."""
    assignment = notebook.parent.name
    secrets = secret_lines(REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    assert secrets, "the source notebook has secrets to look for"
    page = exercise_page(site, assignment)
    data = embedded_release(page)
    flat = "\n".join("".join(c["source"]) for c in data["cells"])
    assert leaks(secrets, html.unescape(page)) == []
    assert leaks(secrets, flat) == []
