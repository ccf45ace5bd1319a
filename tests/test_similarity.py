"""`similarity ID` through the command line, on a class of scenario-named answers
(tests/fixtures/01-chain-rule/similar_answers.py): a copy with renamed variables and a copy with
reordered statements are flagged with the original; two correct answers written apart are not;
the untouched release (two blank notebooks) is no pair at all, and code most of the class shares
does not count. The report is an inert, offline page and a CSV."""

from __future__ import annotations

import csv
import json
from html.parser import HTMLParser

import pytest

from autograder.cli import main
from tests.nbtools import fixture_module, read, release_notebook, solution_answers, source_notebook, with_answers

ASSIGNMENT = "01-chain-rule"
COPIES = {frozenset(p) for p in (("original", "renamed"), ("original", "reordered"), ("renamed", "reordered"))}


def run(course, *args) -> int:
    return main(["--root", str(course.root), "--state", str(course.state), *args])


@pytest.fixture
def compared(course, tmp_path, capsys):
    release = json.loads(release_notebook(ASSIGNMENT).read_text())
    solution = solution_answers(read(source_notebook(ASSIGNMENT)))
    scenarios = fixture_module(ASSIGNMENT, "similar_answers").ANSWERS
    notebooks = {"original": with_answers(release, solution), "blank": release, "blank-too": release}
    notebooks |= {name: with_answers(release, {**solution, **answers}) for name, answers in scenarios.items()}
    folder = tmp_path / "class"
    folder.mkdir()
    for name, nb in notebooks.items():
        (folder / f"{name}.ipynb").write_text(json.dumps(nb))
    (folder / "broken.ipynb").write_text('{"cells": [')  # malformed: skipped, nothing to compare
    assert run(course, "collect", ASSIGNMENT, str(folder)) == 0
    capsys.readouterr()
    assert run(course, "similarity", ASSIGNMENT) == 0
    out = capsys.readouterr().out
    report = course.state / "similarity" / ASSIGNMENT
    with open(report / "pairs.csv", newline="", encoding="utf-8") as f:
        pairs = list(csv.DictReader(f))
    return out, pairs, report


def test_renamed_and_reordered_copies_are_flagged_and_independent_answers_are_not(compared):
    out, pairs, _ = compared
    flagged = {frozenset((p["student_a"], p["student_b"])) for p in pairs if p["flagged"] == "yes"}
    assert flagged == COPIES
    assert {frozenset((p["student_a"], p["student_b"])) for p in pairs[:3]} == COPIES  # ranked: the copies first
    independent = next(p for p in pairs if {p["student_a"], p["student_b"]} == {"independent_a", "independent_b"})
    assert float(independent["similarity_a"]) < 0.2 and float(independent["similarity_b"]) < 0.2
    for p in pairs:
        if p["flagged"] == "yes":
            assert min(float(p["similarity_a"]), float(p["similarity_b"])) >= 0.5
    assert "compared the answer cells of 7 submissions" in out and "3 flagged (a reason to look, not a finding)" in out


def pair(pairs, a, b) -> dict:
    return next(p for p in pairs if {p["student_a"], p["student_b"]} == {a, b})


def test_the_release_and_code_most_of_the_class_shares_never_count(course, compared, capsys):
    _, pairs, report = compared
    students = {s for p in pairs for s in (p["student_a"], p["student_b"])}
    assert "blank" not in students and "blank-too" not in students  # the untouched release is boilerplate
    assert "broken" not in students
    # both independent answers have the class's one-liner for sigmoid_local_grad: it counts only when
    # nothing is the class's (--shared 1)
    assert run(course, "similarity", ASSIGNMENT, "--shared", "1", "--out", str(report.parent / "all-code")) == 0
    with open(report.parent / "all-code" / "pairs.csv", newline="", encoding="utf-8") as f:
        everything = list(csv.DictReader(f))
    default = pair(pairs, "independent_a", "independent_b")
    counted = pair(everything, "independent_a", "independent_b")
    assert int(counted["shared_tokens"]) > int(default["shared_tokens"])
    assert {frozenset((p["student_a"], p["student_b"])) for p in everything if p["flagged"]} == COPIES


def test_the_report_is_inert_offline_and_shows_the_matches_side_by_side(compared):
    _, _, report = compared

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags, self.attributes = [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            self.attributes += [(name, value or "") for name, value in attrs]

    page = (report / "index.html").read_text(encoding="utf-8")
    tags = Tags()
    tags.feed(page)
    assert "script" not in tags.tags and not any(name.startswith("on") for name, _ in tags.attributes)
    assert all(v.startswith("#") for name, v in tags.attributes if name in ("href", "src"))
    assert "default-src 'none'" in page
    assert tags.tags.count("mark") > 10 and page.count('<div class="sides">') == 3
    assert "A flag is a reason to look, not a finding" in page


def test_similarity_of_a_class_of_one_is_a_one_line_error(course, tmp_path, capsys):
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "solo.ipynb").write_text(release_notebook(ASSIGNMENT).read_text())
    assert run(course, "collect", ASSIGNMENT, str(folder)) == 0
    capsys.readouterr()
    assert run(course, "similarity", ASSIGNMENT) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 1 readable submission(s)") and err.count("\n") == 1
