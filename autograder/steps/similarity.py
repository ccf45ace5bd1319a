"""Step `similarity ID`: pairs of submissions whose answers look alike, ranked, for a person to read.

The comparison is copydetect's (a kept library for this, used by course staff): each text is
tokenized (every variable, function and class name becomes one letter, strings and comments are
dropped, so renaming changes nothing), its k-grams are hashed and winnowed into fingerprints,
and two texts share the fingerprints of the code they share, wherever it stands (so moving
functions or statements around does not hide a copy).

What is compared: each student's **answer cells only** (by the release's grade ids), joined in
notebook order. What never counts: the release's own code (its stubs, docstrings and comments,
given to copydetect as boilerplate) and code that most of the class shares (fingerprints found
in the answers of more than `shared` of the class's readable submissions, identical answers
counted once so that copies cannot make their own code common: the obvious one-liners of a short
exercise), which are dropped before any pair is scored.

Output, in <state>/similarity/<ID>/: `pairs.csv` (every pair with any overlap, ranked) and
`index.html`, an offline, inert page (no script, nothing loaded: the feedback pages'
Content-Security-Policy) with the ranked table and, for each flagged pair, both answers side by
side with the matching code marked. A pair is flagged when at least `threshold` of *each* of the
two answers is shared code. It flags pairs to look at; it accuses no one.
"""

from __future__ import annotations

import csv
import html
import io
import json
import logging
from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from autograder.records.course import Course

NOISE_TOKENS = 25  # copydetect's noise threshold: a match shorter than this is never reported
GUARANTEE_TOKENS = 30  # a match at least this long is always found (window = 30 - 25 + 1)
THRESHOLD = 0.5  # flagged: at least half of each of the two answers is shared code
SHARED = 0.5  # code in more than half of the answers is the class's, not a pair's


@dataclass
class Pair:
    a: str
    b: str
    similarity_a: float  # the share of a's answer code found in b's
    similarity_b: float
    tokens: int  # tokens of shared code
    flagged: bool
    marked_a: str = ""  # a's answer as HTML with the shared code in <mark>
    marked_b: str = ""


def answers(course: Course, assignment_id: str) -> dict[str, str]:
    """{student: their answer cells' code, joined in notebook order} of every collected notebook
    that can be read (a malformed one is skipped: it has no answers to compare)."""
    notebooks = course.source_notebooks(assignment_id)
    release = _read(course.release_dir / assignment_id / notebooks[0].name)
    if release is None:
        raise LookupError(f"no release of {assignment_id} in {course.release_dir}: run release first")
    ids = [_grade_id(c) for c in release["cells"] if _meta(c).get("solution") and _grade_id(c)]
    found = {}
    folder = course.submitted_dir
    for path in sorted(folder.glob(f"*/{assignment_id}/{notebooks[0].name}")) if folder.is_dir() else []:
        nb = _read(path)
        if nb is None or not isinstance(nb.get("cells"), list):
            continue
        cells = {_grade_id(c): _source(c) for c in nb["cells"] if isinstance(c, dict) and _grade_id(c) in ids}
        found[path.parent.parent.name] = "\n\n".join(cells[gid] for gid in ids if gid in cells)
    return found


def release_code(course: Course, assignment_id: str) -> list[str]:
    """The release's own code, as boilerplate: its answer cells joined as `answers` joins a
    student's (so an untouched answer is boilerplate from end to end), and every code cell alone."""
    notebooks = course.source_notebooks(assignment_id)
    release = _read(course.release_dir / assignment_id / notebooks[0].name) or {"cells": []}
    code = [c for c in release["cells"] if c.get("cell_type") == "code"]
    stubs = "\n\n".join(_source(c) for c in code if _meta(c).get("solution") and _grade_id(c))
    return [stubs, *(_source(c) for c in code)]


def _stable_kgram_hashes() -> None:
    """copydetect hashes k-grams with Python's hash(), which is salted per process: the winnowed
    fingerprints, and so the shared-token counts, changed from run to run. The same class must give
    the same report, so its k-gram hash is replaced by a stable one (8 bytes of BLAKE2b)."""
    import hashlib

    import numpy as np
    from copydetect import utils

    def hashed_kgrams(string: str, k: int):
        digest = hashlib.blake2b
        grams = (string[i : i + k].encode("utf-8", "surrogatepass") for i in range(len(string) - k + 1))
        return np.array([int.from_bytes(digest(g, digest_size=8).digest(), "little", signed=True) for g in grams],
                        dtype=np.int64)  # fmt: skip

    utils.hashed_kgrams = hashed_kgrams


def compare(
    texts: dict[str, str], boilerplate: list[str] = (), *, threshold: float = THRESHOLD, shared: float = SHARED
) -> list[Pair]:
    """Every pair of `texts` with shared code, most similar first."""
    from copydetect import CodeFingerprint, compare_files
    from copydetect.utils import highlight_overlap

    _stable_kgram_hashes()

    window = GUARANTEE_TOKENS - NOISE_TOKENS + 1
    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))  # copydetect warns on empty files

    def fingerprint(name: str, code: str, known=None):
        return CodeFingerprint(f"{name}.py", NOISE_TOKENS, window, boilerplate=known, fp=io.StringIO(code))

    given = set().union(*(fingerprint("release", code).hashes for code in boilerplate if code.strip()))
    first = {s: fingerprint(s, code, list(given)) for s, code in texts.items()}
    with_code = [s for s, fp in first.items() if fp.hashes]
    distinct = {texts[s]: first[s] for s in with_code}  # identical answers count once: copies never make code common
    counts = Counter(h for fp in distinct.values() for h in fp.hashes)
    common = {h for h, n in counts.items() if len(texts) > 2 and n > shared * len(texts)}
    known = sorted(given | common)
    prints = {s: fingerprint(s, texts[s], known) for s in with_code} if common else {s: first[s] for s in with_code}
    pairs = []
    for a, b in combinations(sorted(prints), 2):
        tokens, (sim_a, sim_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
        if tokens == 0:
            continue
        pair = Pair(a, b, float(sim_a), float(sim_b), int(tokens), min(sim_a, sim_b) >= threshold)
        if pair.flagged:
            pair.marked_a = highlight_overlap(prints[a].raw_code, slices_a, "<mark>", "</mark>", escape_html=True)[0]
            pair.marked_b = highlight_overlap(prints[b].raw_code, slices_b, "<mark>", "</mark>", escape_html=True)[0]
        pairs.append(pair)
    return sorted(pairs, key=lambda p: (-max(p.similarity_a, p.similarity_b), -p.tokens, p.a, p.b))


def similarity(
    course: Course, assignment_id: str, out: Path | None = None, *, threshold: float = THRESHOLD,
    shared: float = SHARED,
) -> tuple[list[Pair], Path, int]:  # fmt: skip
    """Compare the class's answers and write the report; (pairs, folder, submissions compared)."""
    texts = answers(course, assignment_id)
    if len(texts) < 2:
        raise LookupError(f"{len(texts)} readable submission(s) of {assignment_id}: collect a class first")
    pairs = compare(texts, release_code(course, assignment_id), threshold=threshold, shared=shared)
    out = Path(out) if out else course.state / "similarity" / assignment_id
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file: give a folder for the report")
    out.mkdir(parents=True, exist_ok=True)
    with (out / "pairs.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["rank", "student_a", "student_b", "similarity_a", "similarity_b", "shared_tokens", "flagged"])
        for rank, p in enumerate(pairs, start=1):
            writer.writerow([rank, p.a, p.b, f"{p.similarity_a:.3f}", f"{p.similarity_b:.3f}", p.tokens,
                             "yes" if p.flagged else ""])  # fmt: skip
    (out / "index.html").write_text(_page(assignment_id, pairs, len(texts), threshold), encoding="utf-8")
    return pairs, out, len(texts)


def _page(assignment_id: str, pairs: list[Pair], compared: int, threshold: float) -> str:
    from autograder.steps.feedback import CSP

    e = html.escape
    flagged = [p for p in pairs if p.flagged]
    rows = "".join(
        f'<tr class="{"flag" if p.flagged else ""}"><td>{i}</td><td>{e(p.a)}</td><td>{e(p.b)}</td>'
        f"<td>{p.similarity_a:.0%}</td><td>{p.similarity_b:.0%}</td><td>{p.tokens}</td>"
        f"<td>{_link(i) if p.flagged else ''}</td></tr>"
        for i, p in enumerate(pairs, start=1)
    )
    sides = "".join(
        f'<section id="pair-{i}"><h2>{i}. {e(p.a)} and {e(p.b)}</h2><div class="sides">'
        f"<div><h3>{e(p.a)}: {p.similarity_a:.0%} shared</h3><pre>{p.marked_a}</pre></div>"
        f"<div><h3>{e(p.b)}: {p.similarity_b:.0%} shared</h3><pre>{p.marked_b}</pre></div></div></section>"
        for i, p in enumerate(pairs, start=1)
        if p.flagged
    )
    title = f"{assignment_id}: similar answers"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{e(title)}</title><style>{STYLE}</style></head><body><h1>{e(title)}</h1>"
        f"<p>{compared} submissions compared, {len(pairs)} pairs with shared code, {len(flagged)} flagged "
        f"(at least {threshold:.0%} of each answer shared). Only answer cells are compared; the release's own "
        "code and code that most of the class shares do not count. <b>A flag is a reason to look, not a "
        "finding</b>: short exercises have few ways to be right, and students may have worked together as "
        "allowed.</p><table><tr><th>#</th><th>student</th><th>student</th><th>of the first's answer</th>"
        f"<th>of the second's</th><th>shared tokens</th><th></th></tr>{rows}</table>{sides}</body></html>\n"
    )


def _link(i: int) -> str:
    return f'<a href="#pair-{i}">side by side</a>'


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 90rem; margin: 1rem auto; padding: 0 1rem; }
table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; }
tr.flag td { background: #fff3cd; } .sides { display: flex; gap: 1rem; } .sides > div { flex: 1; min-width: 0; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f8fa; padding: .5rem; font-size: .85em; }
mark { background: #ffd6a5; }
"""


def _read(path: Path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    return (meta.get("nbgrader") or {}) if isinstance(meta, dict) else {}


def _grade_id(cell):
    return _meta(cell).get("grade_id")


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)
