"""Copy the shared grading text into every source notebook: the helpers and the acceptance rule.

    .venv/bin/python tools/sync_grading_helpers.py && make release

The exercises must stay self-contained notebooks (students download one file), so what every
exercise shares lives in one file here and is copied by this script; a test fails if a
notebook's copy differs:
- autograder/engine/grading_helpers.py becomes the source of the `grading_helpers` cell;
- autograder/acceptance_rule.md becomes the end of the first cell (the introduction), between
  the two marker comments below (added if missing).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
RULE_START, RULE_END = "<!-- acceptance rule: synced from autograder/acceptance_rule.md -->", "<!-- end of rule -->"


def with_rule(intro: str, rule: str) -> str:
    """The introduction with the acceptance rule block at its end (replacing an older copy)."""
    if RULE_START in intro:
        intro = intro[: intro.index(RULE_START)].rstrip()
    return f"{intro.rstrip()}\n\n{RULE_START}\n{rule.strip()}\n{RULE_END}"


def main() -> None:
    helpers = (REPO / "autograder" / "engine" / "grading_helpers.py").read_text().strip()
    rule = (REPO / "autograder" / "acceptance_rule.md").read_text()
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        changed = False
        for cell in nb.cells:
            if (
                cell.metadata.get("nbgrader", {}).get("grade_id") == "grading_helpers"
                and cell.source.strip() != helpers
            ):
                cell.source, changed = helpers, True
        intro = nb.cells[0]
        if intro.cell_type == "markdown" and intro.source != with_rule(intro.source, rule):
            intro.source, changed = with_rule(intro.source, rule), True
        if changed:
            nbformat.write(nb, path)
            print(f"updated {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
