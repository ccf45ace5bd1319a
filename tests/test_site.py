"""The built site: every page of the table of contents exists, renders, is self-contained, and
publishes nothing from solutions/, autograder/ or tests/."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.secret_text import html_text, leaks, secret_lines


def toc_files() -> list[str]:
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return files


def page(site, file: str):
    return site / f"{file}.html"


@pytest.mark.parametrize("file", toc_files())
def test_page_exists_without_errors(site, file):
    path = page(site, file)
    assert path.is_file(), f"{file} was not built"
    source = path.read_text()
    assert "Traceback (most recent call last)" not in html_text(path), f"{file} shows a traceback"
    assert "output traceback" not in source and "output error" not in source, f"{file} shows an error output"


@pytest.mark.parametrize("file", toc_files())
def test_page_loads_nothing_from_outside(site, file):
    source = page(site, file).read_text()
    external = re.findall(r"""<(?:script|link|img|iframe)\b[^>]*?(?:src|href)=["'](https?:)?//""", source)
    assert external == [], f"{file} references an external resource"
    assert 'src="../../_static/mathjax/tex-mml-chtml.js' in source or "_static/mathjax/tex-mml-chtml.js" in source


def test_nothing_private_is_published(site):
    published = {p.relative_to(site).parts[0] for p in site.rglob("*")}
    assert not published & {"solutions", "autograder", "tests", "exercises"}
    sources = {p.relative_to(site / "_sources").parts[0] for p in (site / "_sources").rglob("*")}
    assert not sources & {"solutions", "autograder", "tests", "exercises"}


def test_no_solution_or_hidden_test_text_on_any_page(site):
    secrets = set().union(*(secret_lines(nb) for nb in (REPO_ROOT / "solutions").glob("*/*.ipynb")))
    found = {str(p.relative_to(site)): hits for p in site.rglob("*.html") if (hits := leaks(secrets, html_text(p)))}
    assert found == {}


def test_chain_rule_chapter_is_rendered_with_computed_numbers(site):
    text = html_text(page(site, "book/01-chain-rule/chain-rule"))
    # The (x + y) z circuit at x=-2, y=5, z=-4, glued from executed code.
    for number in ("-12", "-4", "3"):
        assert number in text
    source = page(site, "book/01-chain-rule/chain-rule").read_text()
    assert "<svg" in source or ".svg" in source, "the circuit figure is missing"
    assert "$$" not in text, "unrendered display math"


def test_exercise_notebook_is_downloadable_from_its_chapter(site):
    source = page(site, "book/01-chain-rule/chain-rule").read_text()
    links = re.findall(r'href="([^"]*01-chain-rule\.ipynb)"', source)
    assert links, "the chapter does not link its exercise notebook"
    target = (site / "book/01-chain-rule" / links[0]).resolve()
    assert target.is_file()
    assert target.read_bytes() == (REPO_ROOT / "exercises/01-chain-rule/01-chain-rule.ipynb").read_bytes()
