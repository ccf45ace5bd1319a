"""Find the text that must never reach students: solution code and hidden tests.

A "secret line" is a line inside a `### BEGIN SOLUTION`/`### BEGIN HIDDEN TESTS` region of a
source notebook that is long enough to be distinctive and does not also appear anywhere outside
those regions (a signature or a hint repeated in the release is not a secret).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
MIN_LENGTH = 20


def _regions(source: str, kinds: tuple[str, ...]):
    """Split a cell's source into (secret_lines, public_lines); `kinds` picks the secret regions."""
    secret, public, inside = [], [], None
    for line in source.splitlines():
        if "BEGIN SOLUTION" in line or "BEGIN HIDDEN TESTS" in line:
            inside = "solution" if "SOLUTION" in line else "hidden"
            continue
        if "END SOLUTION" in line or "END HIDDEN TESTS" in line:
            inside = None
            continue
        (secret if inside in kinds else public if inside is None else []).append(line.strip())
    return secret, public


def secret_lines(notebook: Path, kinds: tuple[str, ...] = ("solution", "hidden")) -> set[str]:
    """Distinctive lines of a source notebook's solutions and/or hidden tests."""
    secret, public = set(), []  # public in order: its lines are joined and searched as text
    for cell in json.loads(notebook.read_text())["cells"]:
        s, p = _regions("".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"], kinds)
        secret.update(s)
        public.extend(p)
    public_text = normalise("\n".join(public))
    return {
        line
        for line in secret
        if len(line) >= MIN_LENGTH and not line.startswith("#") and normalise(line) not in public_text
    }


def notebook_text(path: Path) -> str:
    """Every cell's source and every text output of a notebook, one string."""
    parts = []
    for cell in json.loads(path.read_text())["cells"]:
        parts.append("".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"])
        for output in cell.get("outputs", []):
            parts.append(json.dumps(output))
    return "\n".join(parts)


def html_text(path: Path) -> str:
    """The visible text of an HTML page (tags dropped, entities decoded, spaces collapsed)."""
    text = re.sub(r"<(script|style)\b.*?</\1>|<!--.*?-->", " ", path.read_text(errors="replace"), flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return normalise(text)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def leaks(secrets: set[str], text: str) -> list[str]:
    """The secret lines (and nbgrader markers) found in `text`."""
    flat = normalise(text)
    found = [marker for marker in MARKERS if marker in flat]
    found += sorted(line for line in secrets if normalise(line) in flat)
    return found
