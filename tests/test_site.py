"""The built site: every page of the table of contents exists, renders, is self-contained, and
publishes nothing from solutions/, autograder/ or tests/."""

from __future__ import annotations

import html
import json
import re

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.secret_text import html_text, leaks, normalise, notebook_text, secret_lines


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


def site_secrets() -> set[str]:
    """Every source notebook's secret lines, less those that a release shows anyway (a solution
    line of one exercise can be a grading helper or a hint of another, published on purpose)."""
    secrets = set().union(*(secret_lines(nb) for nb in (REPO_ROOT / "solutions").glob("*/*.ipynb")))
    released = normalise("\n".join(notebook_text(nb) for nb in (REPO_ROOT / "exercises").glob("*/*.ipynb")))
    return {line for line in secrets if normalise(line) not in released}


def test_no_solution_or_hidden_test_text_on_any_page(site):
    secrets = site_secrets()
    found = {str(p.relative_to(site)): hits for p in site.rglob("*.html") if (hits := leaks(secrets, html_text(p)))}
    assert found == {}


def _json_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


def test_no_solution_or_hidden_test_text_in_scripts_data_or_static_files(site):
    """html_text() drops <script>, and the exercise pages carry their notebook as JSON inside one:
    every page's whole source (entities decoded, embedded JSON decoded) and every text file of
    the site (the pages' scripts, the search index, the vendored runtime's JSON) are searched too."""
    secrets = site_secrets()
    assert len(secrets) > 100, "the sources have secrets to look for"
    found = {}
    for path in site.rglob("*"):
        if path.suffix not in {".html", ".js", ".json", ".txt", ".css", ".ipynb"} or not path.is_file():
            continue
        raw = path.read_text(errors="replace")
        texts = [html.unescape(raw) if path.suffix == ".html" else raw]
        for blob in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', raw, re.S):
            texts.append("\n".join(_json_strings(json.loads(blob))))
        if path.suffix in {".json", ".ipynb"}:
            texts.append("\n".join(_json_strings(json.loads(raw))))
        if hits := sorted({hit for text in texts for hit in leaks(secrets, text)}):
            found[str(path.relative_to(site))] = hits
    assert found == {}


def test_chain_rule_chapter_is_rendered_with_computed_numbers(site):
    text = html_text(page(site, "book/01-chain-rule/chain-rule"))
    # The (x + y) z circuit at x=-2, y=5, z=-4, glued from executed code (with real minus signs).
    for number in ("\u221212", "\u22124", "3"):
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


@pytest.mark.parametrize("file", toc_files())
def test_glued_numbers_are_typeset_as_numbers(site, file):
    """Every number glued into prose went through bpcourse.numbers: a real minus sign (U+2212),
    powers of ten instead of "e-06", no stray quotes from a glued string."""
    source = page(site, file).read_text()
    glued = re.findall(r'<span class="pasted-text">([^<]*)</span>', source)
    bad = [g for g in glued if re.search(r"-\d|\de[-+]?\d|^'|'$", g)]
    assert bad == [], f"{file}: glued text not typeset as a number: {bad}"


def test_glued_numbers_are_not_bold(site):
    css = (site / "_static" / "course.css").read_text()
    assert re.search(r"span\.pasted-text\s*\{[^}]*font-weight:\s*inherit", css)
    assert "_static/course.css" in page(site, "book/intro").read_text()


@pytest.mark.parametrize("file", toc_files())
def test_tables_built_in_code_write_subscripts_as_math(site, file):
    """Trace tables name v_{-1} in TeX (rendered by MathJax), not as the plain text "v-1"."""
    text = html_text(page(site, file))
    assert not re.search(r"\bv[\u0304\u0307]?-1\b", text), f"{file} prints v-1 as plain text"


def test_header_has_no_launch_buttons_to_a_chapter_source(site):
    """Colab and Binder cannot open a chapter's MyST .md: the exercises' own links open the .ipynb."""
    for file in toc_files():
        source = page(site, file).read_text()
        assert not re.search(r'href="https://(colab|mybinder)[^"]*\.md"', source), file
    links = re.findall(r'href="(https://colab[^"]*)"', page(site, "book/01-chain-rule/chain-rule").read_text())
    assert links and all(link.endswith(".ipynb") for link in links)


def test_favicon_is_named_and_served_at_the_root(site):
    assert (site / "favicon.ico").read_bytes() == (REPO_ROOT / "book" / "_vendor" / "favicon.ico").read_bytes()
    assert '<link rel="icon" href="../_static/favicon.ico"' in page(site, "book/intro").read_text()
