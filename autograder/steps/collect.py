"""Step `collect`: take one notebook per student from an LMS download (a folder or a zip) and put
it into nbgrader's submitted layout: <state>/submitted/<student>/<assignment>/<notebook>.ipynb.

Who a file belongs to comes from the LMS's layout, never from a name the student chose:

- canvas: `muellerann_12345_67890_<name>.ipynb`, a late one `muellerann_LATE_12345_67999_<name>-1.ipynb`:
  student 12345 (the Canvas user id; 67890 is Canvas's attempt/attachment id);
- moodle: `Anna Müller_1234_assignsubmission_file_/<name>.ipynb` (or flat, without the `/`):
  student 1234 (the participant number), from the folder;
- blackboard: `<Assignment>_<username>_attempt_2026-03-02-23-59-00_<name>.ipynb`: the username;
- plain: `<student>.ipynb` at any folder depth: the file name, made a safe id; with a roster, a
  file named after one rostered student ('Müller, Anna', 'Anna Müller', their login or email
  user name) is taken as that student (and noted).

`--lms NAME` picks one; by default the layout that matches most notebooks is used (plain if no
LMS layout matches). `--pattern REGEX` gives another layout: a regular expression that must
match a file's whole path inside the download, with a named group `student` and optionally
`name`, `attempt` (a number), `timestamp` and `late` (as nbgrader's zip_collect's named_regexp).

Student ids become directory names and gradebook keys, so they are checked with a full match of
SAFE_ID: letters and digits of any script (NFC-normalised), then letters, digits, `_ . @ -`,
at most 100 characters, never `..`. A plain file name that is not such an id (`Müller, Anna`)
is turned into one by replacing each run of other characters by `-` (`Müller-Anna`); a name with
a control or format character (`carol\\n.ipynb`) is refused, not repaired.

Several notebooks for one student: the LMS's own attempt order decides (Canvas's attachment id,
Blackboard's attempt time, a pattern's `attempt`/`timestamp`), and the earlier ones are reported;
when the LMS gives no order (two notebooks in one Moodle folder, two files slugged to one id),
none is taken and every one is reported. Every file not taken is reported with the reason, and
the submission time (from the LMS's name, else the archive entry, else the file) is recorded for
the late policy. The content is not checked here: a malformed notebook is collected and fails at
grading time, where it gets a status and a reason.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from autograder.records.course import Course
from autograder.records.deadlines import Deadlines, parse_time
from autograder.records.gradebook import COLLECTED, Submission

SAFE_ID = re.compile(r"[^\W_][\w.@-]{0,99}")  # always with fullmatch: `$` would accept "carol\n"
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024  # a larger upload is not a notebook we will grade

_DIRS = r"(?:[^/]+/)*"  # any leading folders (an LMS zip re-zipped inside a folder)
LAYOUTS = {
    "canvas": _DIRS + r"(?P<name>[^/_]+)_(?:(?P<late>LATE)_)?(?P<student>\d+)_(?P<attempt>\d+)_(?P<file>[^/]+)",
    "moodle": _DIRS + r"(?P<name>[^/]+?)_(?P<student>\d+)_assignsubmission_file_(?:/" + _DIRS + r")?(?P<file>[^/]+)",
    "blackboard": _DIRS
    + r"[^/]+_(?P<student>[^/_]+)_attempt_(?P<timestamp>\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d)_(?P<file>[^/]+)",
    "plain": _DIRS + r"(?P<student>[^/]+)\.ipynb",
}
LMS_LAYOUTS = ("canvas", "moodle", "blackboard")  # detected; plain is the fallback


class NothingCollected(RuntimeError):
    pass


@dataclass
class CollectReport:
    layout: str = ""
    collected: dict[str, str] = field(default_factory=dict)  # student -> path in the source
    new: list[str] = field(default_factory=list)  # students collected for the first time
    changed: list[str] = field(default_factory=list)  # a different notebook than the one collected before
    unchanged: list[str] = field(default_factory=list)  # the same bytes again: status and grade kept
    skipped: dict[str, str] = field(default_factory=dict)  # path in the source -> reason
    notes: list[str] = field(default_factory=list)  # taken, but worth a look (renamed, not on the roster)


@dataclass
class Candidate:
    """One notebook of the download, and who the layout says it belongs to."""

    path: str  # inside the source, POSIX
    student: str
    name: str  # the name the LMS shows ('' if none)
    lms_name: str  # the LMS's prefix for this student's files (used to hand feedback back)
    order: tuple | None  # the LMS's attempt order, None if it gives none
    time: datetime
    time_source: str
    late: bool
    size: int
    read: Callable[[], bytes]


def collect(
    course: Course, assignment_id: str, source: Path, *, lms: str | None = None, pattern: str | None = None
) -> CollectReport:
    """Copy one notebook per student of `source` (folder or .zip) into the submitted layout."""
    notebooks = course.source_notebooks(assignment_id)
    if len(notebooks) != 1:
        raise ValueError(f"{assignment_id} has {len(notebooks)} notebooks; collect expects exactly one")
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"no such folder or zip: {source}")
    tz = Deadlines(config=course.nbgrader_config()).tz
    files = list(_files(source))
    if not files:
        raise NothingCollected(f"{source} holds no files")

    report = CollectReport()
    layout, regex = _layout(files, lms, pattern)
    report.layout = layout
    statuses = course.statuses()
    roster = statuses.roster()
    candidates = _candidates(files, layout, regex, tz, roster, report)
    with course.gradebook() as gradebook:
        for student, files_of_student in sorted(candidates.items()):
            chosen = _latest(files_of_student, report)
            if chosen is None:
                continue
            if chosen.size > MAX_NOTEBOOK_BYTES:  # checked before reading: a zip entry may be a bomb
                report.skipped[chosen.path] = f"larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB"
                continue
            kind = _take(course, gradebook, statuses, assignment_id, notebooks[0].name, layout, chosen)
            getattr(report, kind).append(student)
            report.collected[student] = chosen.path
            if roster and student not in roster:
                report.notes.append(f"not on the roster: student {student} ({chosen.path})")
    statuses.close()
    return report


def _candidates(files, layout, regex, tz, roster, report) -> dict[str, list[Candidate]]:
    """{student: their notebooks}; every other file goes to report.skipped with the reason."""
    by_name = _roster_names(roster) if layout == "plain" else {}
    candidates: dict[str, list[Candidate]] = {}
    for path, size, mtime, read in files:
        found = _candidate(path, size, mtime, read, layout, regex, tz)
        if isinstance(found, str):
            report.skipped[path] = found
            continue
        key = _name_key(found.name or found.student)
        if found.student not in roster and key in by_name:
            found.student = by_name[key]
            report.notes.append(f"{path}: taken as student {found.student}, whose roster name it is")
        candidates.setdefault(found.student, []).append(found)
    return candidates


def _take(course, gradebook, statuses, assignment_id, notebook_name, layout, chosen: Candidate) -> str:
    """Store the chosen notebook where nbgrader looks for it, and record who and when.
    Returns "new", "changed" or "unchanged" (the same bytes as the notebook collected before:
    its status, and so its grade, are kept; a changed one waits to be graded again)."""
    target = course.submitted_dir / chosen.student / assignment_id
    data = chosen.read()
    before = target / notebook_name
    kind = "new"
    if target.exists():
        kind = "unchanged" if before.is_file() and before.read_bytes() == data else "changed"
        shutil.rmtree(target)  # a new collection replaces the previous one
    target.mkdir(parents=True)
    (target / notebook_name).write_bytes(data)
    (target / "timestamp.txt").write_text(chosen.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    record = gradebook.update_or_create_student(chosen.student)
    if chosen.name and not (record.first_name or record.last_name):  # a roster's name wins
        gradebook.update_or_create_student(chosen.student, last_name=chosen.name)
    submission = Submission(
        submitted_at=chosen.time.isoformat(),
        time_source=chosen.time_source,
        layout=layout,
        lms_name=chosen.lms_name,
        original=chosen.path,
        lms_late=chosen.late,
    )
    statuses.set_submission(assignment_id, chosen.student, submission)
    if kind != "unchanged" or statuses.get(assignment_id, chosen.student) is None:
        statuses.set(assignment_id, chosen.student, COLLECTED)
    return kind


def answers_unchanged(course: Course, assignment_id: str, student: str) -> bool | None:
    """True if the student's collected notebook is the release as handed out: every answer cell
    as released and no code cell of their own; None if it cannot be read (it fails at grading)."""
    import json

    folder = course.submitted_dir / student / assignment_id
    try:
        submitted = next(iter(sorted(folder.glob("*.ipynb"))))
        release = course.release_dir / assignment_id / submitted.name
        mine, theirs = (json.loads(p.read_text(encoding="utf-8")) for p in (submitted, release))
        released = {_cell_id(c): _source(c) for c in theirs["cells"] if _cell_id(c)}
        answers = {_cell_id(c) for c in theirs["cells"] if _cell_id(c) and _nbgrader(c).get("solution")}
        seen = set()
        for cell in mine["cells"]:
            gid = _cell_id(cell)
            if gid in answers:
                seen.add(gid)
                if _source(cell).strip() != released[gid].strip():
                    return False
            elif gid not in released and cell.get("cell_type") == "code" and _source(cell).strip():
                return False  # code of their own, outside the answer cells
        return bool(answers) and seen == answers
    except (StopIteration, OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    return meta.get("nbgrader", {}) if isinstance(meta, dict) else {}


def _cell_id(cell) -> str | None:
    return _nbgrader(cell).get("grade_id")


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _files(source: Path):
    """(path inside source, size, modification time, read_bytes) of every file, sorted by path."""
    if source.is_dir():
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            stat = path.stat()
            mtime = datetime.fromtimestamp(stat.st_mtime, UTC)
            yield path.relative_to(source).as_posix(), stat.st_size, (mtime, "file"), path.read_bytes
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            infos = sorted((i for i in archive.infolist() if not i.is_dir()), key=lambda i: i.filename)
        for info in infos:
            mtime = datetime(*info.date_time)  # naive: the LMS's local time (Deadlines.timezone)
            name = _entry_name(info)
            yield name, info.file_size, (mtime, "archive"), lambda info=info: _read_entry(source, info)
    else:
        raise ValueError(f"{source} is neither a folder nor a zip file")


def _entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name; many zip tools write UTF-8 names without the UTF-8 flag, which Python
    then decodes as cp437 ('Müller' -> 'M├╝ller'): undo that when the bytes are valid UTF-8."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _read_entry(archive_path: Path, info: zipfile.ZipInfo) -> bytes:
    with zipfile.ZipFile(archive_path) as archive:
        return archive.read(info)


def _layout(files, lms: str | None, pattern: str | None) -> tuple[str, re.Pattern]:
    """The layout named, given, or the LMS layout matching most notebooks (plain if none does)."""
    if pattern:
        try:
            regex = re.compile(pattern)
        except re.error as error:
            raise ValueError(f"--pattern is not a regular expression: {error}") from None
        if "student" not in regex.groupindex:
            raise ValueError("--pattern needs a named group (?P<student>...)")
        return "pattern", regex
    if lms:
        if lms not in LAYOUTS:
            raise ValueError(f"unknown LMS layout {lms!r}; known: {', '.join(LAYOUTS)}")
        return lms, re.compile(LAYOUTS[lms])
    notebooks = [path for path, *_ in files if _is_notebook(path)]
    counts = {name: sum(bool(re.fullmatch(LAYOUTS[name], p)) for p in notebooks) for name in LMS_LAYOUTS}
    best = max(counts.values())
    if best == 0:
        return "plain", re.compile(LAYOUTS["plain"])
    winners = [name for name, n in counts.items() if n == best]
    if len(winners) > 1:
        raise ValueError(f"the download looks like {' and '.join(winners)} alike: pass --lms NAME")
    return winners[0], re.compile(LAYOUTS[winners[0]])


def _is_notebook(path: str) -> bool:
    return path.lower().endswith(".ipynb")


def _candidate(path, size, mtime, read, layout, regex, tz) -> Candidate | str:
    """Who `path` belongs to, or why it is not taken."""
    parts = PurePosixPath(path).parts
    if "__MACOSX" in parts or parts[-1].startswith("._"):
        return "macOS metadata, not a submission"
    if not _is_notebook(path):
        return "not a notebook (.ipynb)"
    match = regex.fullmatch(path)
    if not match:
        return f"does not match the {layout} layout"
    groups = {k: v for k, v in match.groupdict().items() if v is not None}
    student, why = safe_id(groups["student"], repair=layout in ("plain", "pattern"))
    if why:
        return why
    time, time_source = mtime
    if groups.get("timestamp"):
        try:
            time, time_source = parse_time(groups["timestamp"], tz), "file name"
        except ValueError as error:
            return str(error)
    if time.tzinfo is None:
        time = time.replace(tzinfo=tz)
    order = None
    if "attempt" in groups or (groups.get("timestamp") and layout != "plain"):
        order = (int(groups["attempt"]) if groups.get("attempt", "").isdigit() else -1, time)
    name = groups.get("name", "")
    if layout == "plain" and student != groups["student"]:
        name = groups["student"]  # the file's own spelling, kept as the student's name
    lms_name = student
    if "file" in groups:  # the LMS's own prefix: a Moodle folder, Canvas's name_id_attempt
        prefix = path[: match.start("file")]
        lms_name = prefix[:-1] if prefix.endswith("/") else prefix.rstrip("_")
    return Candidate(
        path, student, name, PurePosixPath(lms_name).name or student, order, time, time_source,
        bool(groups.get("late")), size, read,
    )  # fmt: skip


def _roster_names(roster) -> dict[str, str]:
    """{name key: student} for plain files named after the student ('Müller, Anna.ipynb' or
    'Anna Müller.ipynb', a login, an email's user): only keys that name one student."""
    keys: dict[str, set[str]] = {}
    for entry in roster.values():
        names = {entry.name, entry.sis_login_id, entry.email.split("@")[0]}
        if ", " in entry.name:
            last, first = entry.name.split(", ", 1)
            names.add(f"{first} {last}")
        for name in filter(None, names):
            keys.setdefault(_name_key(name), set()).add(entry.student)
    return {key: students.pop() for key, students in keys.items() if len(students) == 1}


def _name_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().replace("_", " ").split())


def _latest(candidates: list[Candidate], report: CollectReport) -> Candidate | None:
    """The latest attempt by the LMS's own order; None (all reported) if the LMS gives none."""
    if len(candidates) == 1:
        return candidates[0]
    student = candidates[0].student
    paths = ", ".join(c.path for c in candidates)
    if any(c.order is None for c in candidates) or len({c.order for c in candidates}) < len(candidates):
        for c in candidates:
            report.skipped[c.path] = (
                f"{len(candidates)} notebooks for student {student} and the LMS does not say which is the "
                f"submission ({paths}): none taken; keep one and collect again"
            )
        return None
    ordered = sorted(candidates, key=lambda c: c.order)
    for c in ordered[:-1]:
        report.skipped[c.path] = f"an earlier attempt of student {student}; took the latest, {ordered[-1].path}"
    return ordered[-1]


def safe_id(text: str, *, repair: bool = True) -> tuple[str, str | None]:
    """(student id, None), or ("", why not). See the module docstring for the scheme."""
    if any(unicodedata.category(ch)[0] == "C" for ch in text):
        return "", f"the name {text!r} holds a control or invisible character"
    student = unicodedata.normalize("NFC", text)
    if repair and not _is_safe(student):
        student = re.sub(r"[^\w.@-]+", "-", student)
        student = re.sub(r"\.{2,}", ".", student).strip("-._@")[:100].rstrip("-._@")
    if not _is_safe(student):
        return "", f"{text!r} is not a usable student id (letters and digits, then letters, digits, _ . @ -)"
    return student, None


def _is_safe(student: str) -> bool:
    return bool(SAFE_ID.fullmatch(student)) and ".." not in student
