"""Every exercise notebook follows the course's conventions (see README, "For maintainers")."""

from __future__ import annotations

import json
import re

import pytest

from tests import nbtools
from tests.conftest import REPO_ROOT

SOURCES = sorted((REPO_ROOT / "solutions").glob("*/*.ipynb"))
HELPERS = (REPO_ROOT / "autograder" / "engine" / "grading_helpers.py").read_text().strip()


def cells(path):
    for cell in json.loads(path.read_text())["cells"]:
        yield cell, "".join(cell["source"]), cell["metadata"].get("nbgrader", {})


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_grading_helpers_cell_is_the_shared_one_and_comes_first(source):
    code = [(text, meta) for cell, text, meta in cells(source) if cell["cell_type"] == "code"]
    text, meta = code[0]
    assert meta.get("grade_id") == "grading_helpers" and meta.get("locked") and not meta.get("grade")
    assert text.strip() == HELPERS, "copy autograder/engine/grading_helpers.py into it (tools/sync_grading_helpers.py)"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_intro_ends_with_the_shared_acceptance_rule(source):
    """Every release states, in its first cell, what the tests accept (autograder/acceptance_rule.md)."""
    from tools.sync_grading_helpers import RULE_END, RULE_START

    rule = (REPO_ROOT / "autograder" / "acceptance_rule.md").read_text().strip()
    first = next(cells(source))
    assert first[0]["cell_type"] == "markdown"
    assert first[1].endswith(f"{RULE_START}\n{rule}\n{RULE_END}"), "run tools/sync_grading_helpers.py"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_intro_says_hidden_tests_exist(source):
    first_markdown = next(text for cell, text, _ in cells(source) if cell["cell_type"] == "markdown")
    assert "hidden tests" in first_markdown.lower()
    assert "does not mean full" in first_markdown.lower() or "not mean full marks" in first_markdown.lower()


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_test_cells_are_named_and_worth_points(source):
    for _, text, meta in cells(source):
        if meta.get("grade"):
            assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", meta["grade_id"]), meta["grade_id"]
            assert text.startswith("# Check that"), f"{meta['grade_id']}: first line should say what it checks"
            assert 0 < meta["points"] <= 5
            assert meta.get("locked")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_every_test_cell_checks_something_students_can_see(source):
    """A visible test that only calls a function (or nothing) passes on a wrong answer: it must compare."""
    for _, text, meta in cells(source):
        if meta.get("grade"):
            visible = re.sub(r"### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS", "", text, flags=re.S)
            assert re.search(r"\b_close\(|\bclose\(|\b_check\w*\(|raise AssertionError", visible), (
                f"{meta['grade_id']}: its visible part checks nothing"
            )


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_instructions_and_hints_state_no_backward_result(source):
    """Students derive: no released text states a gradient formula (the patterns issue 11 found)."""
    stated = re.compile(
        r"\bd(W\d?|x|X) = [^\n]*?(@|\.T\b|\^T|\*)|\(S - I_y\)|sigma\(x\)\)\s*\\bigl\(1|1 - tanh\(z\)\*\*2|"
        r"-2 times the sum|2 q x\^T|-1/b\*\*2|swaps: a gets"
    )
    for _, text, meta in cells(source):
        visible = re.sub(r"### BEGIN (HIDDEN TESTS|SOLUTION)\n.*?### END (HIDDEN TESTS|SOLUTION)", "", text, flags=re.S)
        assert not stated.search(visible), f"{meta.get('grade_id')}: {stated.search(visible).group(0)!r}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_answer_cells_keep_signature_and_docstring_visible(source):
    for _, text, meta in cells(source):
        if meta.get("solution"):
            before = text.split("### BEGIN SOLUTION")[0]
            assert "### BEGIN SOLUTION" in text and "### END SOLUTION" in text, meta["grade_id"]
            assert re.search(r"^(def|class) \w+", before, flags=re.M), f"{meta['grade_id']}: no visible signature"
            assert '"""' in before, f"{meta['grade_id']}: no visible docstring"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_sample_submissions_match_the_current_release(source):
    samples = REPO_ROOT / "tests" / "fixtures" / source.parent.name / "submissions"
    expected = nbtools.sample_submissions(source.parent.name)
    for name, content in expected.items():
        assert (samples / name).is_file() and (samples / name).read_text() == content, (
            f"{name} is stale: run `make release`, then .venv/bin/python tests/fixtures/refresh_samples.py"
        )
    extra = {f"fair/{p.name}" for p in samples.glob("fair/*.ipynb")} - set(expected)
    assert not extra, f"{sorted(extra)} come from no entry of fair_answers.py: run refresh_samples.py"
