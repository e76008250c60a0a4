"""What every LMS export shares: its options, how a grade is written, how pending work is said."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone

from grader.export.graded import Graded, GradedEntry

PENDING = ("blank", "partial")


@dataclass(frozen=True)
class ExportOptions:
    """Choices an export may need; each format reads the ones it uses."""

    assignment_id: str = ""  # the LMS's id of the assignment (column id, line item)
    title: str = ""  # the assignment's title in the LMS; default: the rubric's title
    pending: str = "blank"  # blank: no grade while manual items are open; partial: graded points
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


def grade(entry: GradedEntry, options: ExportOptions) -> str:
    """The grade cell: the score, or empty when there is none to give.

    Empty for a roster student without a submission, and, unless ``--pending partial``, for a
    student whose manual items are still open: an LMS shows an empty grade as not graded yet,
    where a number would count the open items as zero without saying so.
    """
    if entry.result is None:
        return ""
    if entry.open_manual and options.pending != "partial":
        return ""
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


def delimited(rows: list[list[str]], delimiter: str = ",") -> str:
    """Rows as CSV text (RFC 4180 quoting; ``\\r\\n`` line ends, as spreadsheets write them)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue()


def iso_time(moment: datetime) -> str:
    """ISO 8601 with milliseconds and offset (LTI asks for sub-second precision)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")
