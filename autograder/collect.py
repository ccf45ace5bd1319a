"""Step `collect`: put <student>.ipynb files (a folder, or a zip as an LMS exports it) into
nbgrader's submitted layout: <state>/submitted/<student>/<assignment>/<notebook>.ipynb.

The student id is the file name without .ipynb. Files that cannot be a submission (another
extension, an id with characters that are unsafe in a path) are reported by name and skipped;
the content is not checked here: a malformed notebook is collected and fails at grading time,
where it gets a status and a reason.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from autograder.course import Course
from autograder.records import COLLECTED

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024  # a larger upload is not a notebook we will grade


@dataclass
class CollectReport:
    collected: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # name -> reason


def collect(course: Course, assignment_id: str, source: Path) -> CollectReport:
    """Copy every <student>.ipynb of `source` (folder or .zip) into the submitted layout."""
    notebooks = course.source_notebooks(assignment_id)
    if len(notebooks) != 1:
        raise ValueError(f"{assignment_id} has {len(notebooks)} notebooks; collect expects exactly one")
    notebook_name = notebooks[0].name
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"no such folder or zip: {source}")

    report = CollectReport()
    timestamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
    statuses = course.statuses()
    with course.gradebook() as gradebook:
        for name, size, read_bytes in _submission_files(source):
            student, reason = _student_id(name)
            if reason:
                report.skipped[name] = reason
                continue
            if size > MAX_NOTEBOOK_BYTES:  # checked before reading: a zip entry may be a bomb
                report.skipped[name] = f"larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB"
                continue
            data = read_bytes()
            if student in report.collected:
                report.skipped[name] = f"a second file for student {student}"
                continue
            target = course.submitted_dir / student / assignment_id
            if target.exists():
                shutil.rmtree(target)  # a new collection replaces the previous one
            target.mkdir(parents=True)
            (target / notebook_name).write_bytes(data)
            (target / "timestamp.txt").write_text(timestamp)
            gradebook.update_or_create_student(student)
            statuses.set(assignment_id, student, COLLECTED)
            report.collected.append(student)
    statuses.close()
    return report


def _submission_files(source: Path):
    """Yield (name, size, read_bytes) for every file in a folder or zip, in a stable order."""
    if source.is_dir():
        for path in sorted(p for p in source.iterdir() if p.is_file()):
            yield path.name, path.stat().st_size, path.read_bytes
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                parts = PurePosixPath(info.filename).parts
                if info.is_dir() or "__MACOSX" in parts:
                    continue
                yield parts[-1], info.file_size, (lambda info=info: archive.read(info))
    else:
        raise ValueError(f"{source} is neither a folder nor a zip file")


def _student_id(file_name: str) -> tuple[str, str | None]:
    if not file_name.endswith(".ipynb"):
        return "", "not a .ipynb file"
    student = file_name[: -len(".ipynb")]
    if not STUDENT_ID.match(student):
        return "", "the file name is not a usable student id (letters, digits, _ . @ -)"
    return student, None
