"""The export formats by name: each turns a graded folder into the text an LMS imports."""

from __future__ import annotations

from collections.abc import Callable

from grader.export import blackboard, canvas, gradescope, lti, moodle, table
from grader.export.common import ExportOptions
from grader.export.graded import Graded

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


def warnings(name: str, graded: Graded, options: ExportOptions) -> list[str]:
    """What the instructor should know before importing this file."""
    out = []
    open_items = [e for e in graded.entries if e.open_manual]
    if open_items and name != "gradescope":
        how = (
            "their grade is left empty (not graded yet in the LMS); pass --pending partial to "
            "export the points graded so far, counting the open items as 0"
            if options.pending != "partial"
            else "their grade counts the open items as 0 until they are graded"
        )
        out.append(
            f"{len(open_items)} student(s) have manual items still open "
            f"({', '.join(c.id for c in open_items[0].open_manual)}): {how}"
        )
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
    if name == "moodle" and options.variant in ("", "worksheet") and schemes - {"moodle", ""}:
        out.append(
            "these submissions were not named by a Moodle download: the worksheet's "
            "'Participant N' identifiers will only match if the ids are Moodle participant ids"
        )
    if name == "moodle" and options.variant == "gradebook":
        unkeyed = [
            e.student
            for e in graded.entries
            if not (e.person and (e.person.email or e.person.sis_id))
        ]
        if unkeyed:
            out.append(
                f"{len(unkeyed)} row(s) have neither email nor ID number for Moodle to match "
                f"(give a --roster with them): {', '.join(unkeyed[:10])}"
            )
    return out
