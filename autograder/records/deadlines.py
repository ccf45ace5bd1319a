"""Due dates, extensions and the late policy, applied when grades are exported.

Settings go in a class's own config file (`--config FILE`, never the repository's):

    c.Deadlines.due = {"01-chain-rule": "2026-03-02 23:59"}
    c.Deadlines.extensions = {"01-chain-rule": {"12345": "2026-03-05 23:59", "67890": "2d"}}
    c.Deadlines.timezone = "Europe/Berlin"   # for times without an offset ('' = this machine's)
    c.Deadlines.policy = "per-day"           # none | per-day | refuse
    c.Deadlines.penalty_per_day = 0.1        # fraction of the max score per started day late
    c.Deadlines.grace = "15m"                # lateness forgiven (both policies)

`export --due/--late-policy/--penalty-per-day/--grace/--extension` override them for one run.
The penalty is computed at export from the submission time recorded by `collect`, so a changed
deadline or a new extension needs no regrade (nbgrader's LateSubmissionPlugin fixes the penalty
at autograde time and knows no refusal).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from traitlets import Dict, Enum, Float, Unicode
from traitlets.config import Configurable

POLICIES = ("none", "per-day", "refuse")
DAY = timedelta(days=1)


class Deadlines(Configurable):
    due = Dict(help="{assignment: due date}, e.g. {'01-chain-rule': '2026-03-02 23:59'}").tag(config=True)
    extensions = Dict(help="{assignment: {student: new due date, or a delay such as '2d'}}").tag(config=True)
    timezone = Unicode("", help="IANA time zone of times written without an offset ('' = local)").tag(config=True)
    policy = Enum(POLICIES, "none", help="none, per-day (penalty per started day) or refuse").tag(config=True)
    penalty_per_day = Float(0.1, help="fraction of the max score taken per started day late").tag(config=True)
    grace = Unicode("0", help="lateness forgiven, e.g. '15m', '1h', '1d'").tag(config=True)

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.timezone) if self.timezone else datetime.now().astimezone().tzinfo

    def check(self) -> None:
        """Raise ValueError naming the first setting that cannot be read."""
        if not 0 <= self.penalty_per_day <= 1:
            raise ValueError(f"penalty per day {self.penalty_per_day:g}: a fraction of the max score, 0 to 1")
        parse_duration(self.grace)
        for assignment in self.due:
            self.due_for(assignment, "")
        for assignment, students in self.extensions.items():
            for student in students:
                self.due_for(assignment, student)

    def extension_for(self, assignment: str, student: str) -> str:
        """The student's extension as written ('2d', a date), or '' if they have none."""
        return str(self.extensions.get(assignment, {}).get(student) or "")

    def due_for(self, assignment: str, student: str) -> datetime | None:
        """The student's deadline: their extension, else the assignment's due date, else None."""
        due = parse_time(self.due[assignment], self.tz) if self.due.get(assignment) else None
        extension = self.extensions.get(assignment, {}).get(student)
        if not extension:
            return due
        if _DURATION.fullmatch(str(extension).strip()):
            if due is None:
                raise ValueError(f"extension {extension!r} for {student} in {assignment}, which has no due date")
            return due + parse_duration(extension)
        return parse_time(extension, self.tz)


@dataclass(frozen=True)
class Lateness:
    late_by: timedelta | None  # None: not late (or no deadline / no submission time)
    penalty: float = 0.0
    note: str = ""


def late_penalty(
    deadlines: Deadlines, due: datetime | None, submitted: datetime | None, raw: float | None, max_score: float
) -> Lateness:
    """How late a submission is, and the points the policy takes from its raw score."""
    if due is None or submitted is None or submitted <= due:
        return Lateness(None)
    late_by = submitted - due
    grace = parse_duration(deadlines.grace)
    if late_by <= grace:
        return Lateness(late_by, 0.0, f"late by {_human(late_by)}, within the grace period")
    raw = raw or 0.0
    if deadlines.policy == "refuse":
        return Lateness(late_by, raw, f"late by {_human(late_by)}: refused (policy: refuse after {deadlines.grace})")
    if deadlines.policy == "per-day":
        days = math.ceil(late_by / DAY)
        penalty = min(raw, days * deadlines.penalty_per_day * max_score)
        rule = f"{days} day(s) x {deadlines.penalty_per_day:g} of the max score"
        return Lateness(late_by, penalty, f"late by {_human(late_by)}: {rule}")
    return Lateness(late_by, 0.0, f"late by {_human(late_by)} (policy: none)")


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|days?|h|hours?|m|min|minutes?|s|seconds?)?", re.IGNORECASE)


def parse_duration(text) -> timedelta:
    """'2d', '36h', '15m', '90s' or a bare number of seconds -> timedelta."""
    match = _DURATION.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"not a duration: {text!r} (examples: 2d, 36h, 15m)")
    value, unit = float(match.group(1)), (match.group(2) or "s").lower()[0]
    return timedelta(seconds=value * {"d": 86400, "h": 3600, "m": 60, "s": 1}[unit])


_TIME_FORMATS = ("%Y-%m-%d-%H-%M-%S", "%Y%m%d%H%M%S", "%Y-%m-%d %H-%M-%S")


def parse_time(text: str, tz: tzinfo) -> datetime:
    """An ISO 8601 time ('2026-03-02 23:59', with or without an offset) or the LMS formats of
    _TIME_FORMATS (Blackboard's 2026-03-02-23-59-00); times without an offset are in `tz`."""
    text = str(text).strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _TIME_FORMATS:
            try:
                when = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"not a date and time: {text!r} (expected e.g. 2026-03-02 23:59)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when


def _human(delta: timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return " ".join(f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "min")) if n) or "<1min"


LMS_LAYOUTS = ("canvas", "moodle", "blackboard")  # their zip entries carry the submission time


def lateness_warnings(deadlines: Deadlines, submissions: dict, chosen: set | None = None) -> list[str]:
    """What a deadline run should not do silently: most of a class late by more than a week
    (a wrong due date or year, or times that are not submission times), and times that come
    from a plain zip's entries or from files (when the zip or the copy was made), not from an LMS.

    submissions: {(assignment, student): records.Submission}; chosen: the keys to look at."""
    warnings = []
    for assignment in sorted({a for a, _ in submissions if chosen is None or any(k[0] == a for k in chosen)}):
        keys = [k for k in submissions if k[0] == assignment and (chosen is None or k in chosen)]
        if not keys or not (deadlines.due.get(assignment) or deadlines.extensions.get(assignment)):
            continue
        late, guessed = [], []
        for key in keys:
            submission = submissions[key]
            due = deadlines.due_for(assignment, key[1])
            if submission.time and due and submission.time - due > timedelta(days=7):
                late.append(key[1])
            if submission.time_source in ("archive", "file") and submission.layout not in LMS_LAYOUTS:
                guessed.append(key[1])
        if len(late) * 2 > len(keys):
            warnings.append(
                f"{len(late)} of {len(keys)} submissions of {assignment} are late by more than a week: check the "
                "due date (--due, the year, the time zone) before handing out these grades"
            )
        if guessed:
            source = "zip entries" if any(submissions[(assignment, s)].time_source == "archive" for s in guessed) \
                else "files"  # fmt: skip
            warnings.append(
                f"the times of {len(guessed)} submission(s) of {assignment} come from the {source} (when the "
                f"download was made), not from an LMS: lateness may be wrong; collect the LMS's own download, "
                f"or drop --due for a plain folder"
            )
    return warnings
