"""What every LMS export shares: its options, how a grade is written, how pending work is said."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

from grader.defaults import DEFAULT_PENDING
from grader.export.graded import Graded, GradedEntry

PENDING = ("blank", "partial")


@dataclass(frozen=True)
class ExportOptions:
    """Choices an export may need; each format reads the ones it uses."""

    assignment_id: str = ""  # the LMS's id of the assignment (column id, line item)
    title: str = ""  # the assignment's title in the LMS; default: the rubric's title
    pending: str = DEFAULT_PENDING  # blank: none while manual items are open; partial: so far
    variant: str = ""  # moodle: worksheet (default) | gradebook
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def title_of(self, graded: Graded) -> str:
        return self.title or graded.title or graded.assignment


def number(value: float) -> str:
    """A score as text that reads back as the same float: ``76``, ``3.3333333333333335``."""
    if not math.isfinite(value):
        raise ValueError(f"score {value!r} is not a finite number")
    text = repr(float(value))
    if "e" in text or "E" in text:  # never scientific notation in a spreadsheet cell
        text = f"{value:.20f}".rstrip("0")
    return text[:-2] if text.endswith(".0") else text.rstrip(".")


def unsent(entry: GradedEntry, options: ExportOptions) -> str:
    """Why this student gets no row in an LMS file ("" when they get one).

    A roster student without a submission, and, unless ``--pending partial``, a student whose
    manual items are still open. An empty cell is not "no grade" to an LMS: Canvas's importer
    clears the grade it holds (canvas-lms ``app/models/gradebook_importer.rb``,
    ``no_change_to_value?``), Moodle's gradebook import sets a null grade
    (``grade/import/csv/classes/load_data.php``, ``update_grade_item``), and an AGS Score without
    ``scoreGiven`` sets Canvas's score to nil (``app/controllers/lti/ims/scores_controller.rb``,
    ``ignore_score?``). Only a missing row leaves the LMS's grade alone.
    """
    if entry.result is None:
        return "on the roster without a submission"
    if entry.open_manual and options.pending != "partial":
        items = ", ".join(c.id for c in entry.open_manual)
        return f"manual item(s) still open ({items}); --pending partial sends the points so far"
    return ""


def grade(entry: GradedEntry, options: ExportOptions) -> str:
    """The grade cell: the score, or empty when there is none to give (the LMS formats leave
    such a student out altogether, see :func:`unsent`; the plain csv keeps the row)."""
    if unsent(entry, options):
        return ""
    assert entry.result is not None
    return number(entry.result.score)


def pending_note(entry: GradedEntry) -> str:
    """A sentence naming the manual items still open, or ""."""
    if not entry.open_manual:
        return ""
    items = ", ".join(f"{c.id} ({number(c.max_score)} pts)" for c in entry.open_manual)
    return f"PENDING manual grading: {items}, not yet graded."


def comment(entry: GradedEntry, max_score: float, options: ExportOptions) -> str:
    """A short comment for a student's grade: the score, what is pending, the LMS's notes."""
    if entry.result is None:
        return "No submission."
    parts = []
    if entry.origin.problem:
        parts.append(f"Submission could not be read: {entry.origin.problem.rstrip('.')}.")
    graded = sum(c.max_score for c in entry.result.checks if c.status != "manual")
    parts.append(
        f"Automatic and graded items: {number(entry.result.score)} of {number(graded)} points "
        f"(assignment total {number(max_score)})."
    )
    note = pending_note(entry)
    if note:
        parts.append(note)
        if options.pending == "partial":
            parts.append("Until then this grade counts them as 0.")
    if entry.origin.late:
        parts.append("Marked late by the LMS.")
    return " ".join(parts)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: str) -> str:
    """A cell a spreadsheet cannot run: one that starts with ``=``, ``+``, ``-``, ``@``, a tab
    or a carriage return and is not a number gets a leading ``'`` (OWASP, "CSV Injection").
    Student-controlled text (names, feedback) reaches these files."""
    if not cell.startswith(_FORMULA_START):
        return cell
    try:
        float(cell)
    except ValueError:
        return "'" + cell
    return cell


def delimited(rows: list[list[str]], delimiter: str = ",") -> str:
    """Rows as CSV text (RFC 4180 quoting; ``\\r\\n`` line ends, as spreadsheets write them),
    every cell neutralised against formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows([neutralised(str(cell)) for cell in row] for row in rows)
    return buffer.getvalue()


def iso_time(moment: datetime) -> str:
    """ISO 8601 with milliseconds and offset (LTI asks for sub-second precision)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")
