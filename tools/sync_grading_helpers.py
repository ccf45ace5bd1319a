"""Copy autograder/grading_helpers.py into the `grading_helpers` cell of every source notebook.

    .venv/bin/python tools/sync_grading_helpers.py && make release

The exercises must stay self-contained notebooks (students download one file), so the shared
test helpers live in one file here and are copied into each notebook by this script; a test
fails if a notebook's copy differs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    helpers = (REPO / "autograder" / "grading_helpers.py").read_text().strip()
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if (
                cell.metadata.get("nbgrader", {}).get("grade_id") == "grading_helpers"
                and cell.source.strip() != helpers
            ):
                cell.source = helpers
                nbformat.write(nb, path)
                print(f"updated {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
