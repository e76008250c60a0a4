"""The export formats by name: each turns a graded folder into the text an LMS imports."""

from __future__ import annotations

import re
from collections.abc import Callable

from grader.export import blackboard, canvas, gradescope, lti, moodle, table
from grader.export.common import ExportOptions, unsent
from grader.export.graded import Graded, GradedEntry
from grader.load.discover import UsageError

Exporter = Callable[[Graded, ExportOptions], str]

FORMATS: dict[str, Exporter] = {
    "canvas": canvas.export,
    "moodle": moodle.export,
    "blackboard": blackboard.export,
    "gradescope": gradescope.export,
    "lti": lti.export,
    "csv": table.export,
}
VARIANTS = {"moodle": ("worksheet", "gradebook")}


UNSENT: dict[str, Callable[[GradedEntry, ExportOptions], str]] = {
    "canvas": canvas.canvas_unsent,
    "moodle": unsent,
    "blackboard": unsent,
    "lti": unsent,
}
ASSIGNMENT_IDS = {
    # Canvas: the number in the assignment's URL (``Assignment.title_and_id`` reads digits).
    "canvas": (re.compile(r"\d+"), "a Canvas assignment id is digits, e.g. 4711"),
    # Blackboard: the Column ID after ``|`` in the Grade Center download's header.
    "blackboard": (
        re.compile(r"\d+"),
        "a Blackboard column id is the digits after '|' in the column's header, e.g. 1702852",
    ),
}


def check_assignment_id(name: str, assignment_id: str) -> None:
    """Refuse an ``--assignment-id`` the LMS would not read, in one line."""
    if not assignment_id:
        return
    if name not in ASSIGNMENT_IDS:
        raise UsageError(f"--assignment-id does not apply to --format {name}; leave it out")
    pattern, what = ASSIGNMENT_IDS[name]
    if not pattern.fullmatch(assignment_id):
        raise UsageError(f"--assignment-id {assignment_id!r}: {what}")


def left_out(name: str, graded: Graded, options: ExportOptions) -> list[tuple[GradedEntry, str]]:
    """The students this export writes no row for, each with the reason."""
    rule = UNSENT.get(name)
    if name == "moodle" and options.variant == "gradebook":
        rule = moodle.gradebook_unsent
    if rule is None:
        return []
    return [(e, why) for e in graded.entries if (why := rule(e, options))]


def warnings(name: str, graded: Graded, options: ExportOptions) -> list[str]:
    """What the instructor should know before importing this file."""
    out = []
    if name in ("canvas", "blackboard") and not options.assignment_id:
        where = (
            "Canvas matches the column by title, or creates a new assignment"
            if name == "canvas"
            else "Blackboard creates a new text column worth 0 points"
        )
        out.append(
            f"no --assignment-id: {where}; the id is in the {name.title()} export of the "
            "gradebook's column header"
        )
    schemes = {e.origin.scheme for e in graded.entries if e.result is not None}
    if name == "moodle" and options.variant in ("", "worksheet"):
        if schemes - {"moodle", ""}:
            out.append(
                "these submissions were not named by a Moodle download: the worksheet's "
                "'Participant N' identifiers will only match if the ids are Moodle participant ids"
            )
        out += moodle.maximum_warnings(graded)
    if options.pending == "partial" and any(e.open_manual for e in graded.entries):
        count = sum(bool(e.open_manual) for e in graded.entries)
        out.append(
            f"--pending partial: {count} student(s) with manual items still open get the points "
            "graded so far, counting the open items as 0 until they are graded"
        )
    return out
