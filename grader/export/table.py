"""A plain CSV for spreadsheets: one row per student, one column per check.

A check's cell is its score, or ``pending`` for a manual item not graded yet; the ``score``
column follows ``--pending`` like every LMS export, and ``pending_points`` says what is open.
"""

from __future__ import annotations

from grader.export.common import ExportOptions, delimited, grade, number
from grader.export.graded import Graded

HEADER = [
    "student",
    "name",
    "email",
    "sis_id",
    "section",
    "on_roster",
    "status",
    "late",
    "score",
    "max_score",
    "pending_points",
    "other_attempts",
]


def export(graded: Graded, options: ExportOptions) -> str:
    ids = [c.id for c in graded.checks]
    rows = [HEADER + ids]
    for entry in graded.entries:
        person = entry.person
        by_id = {c.id: c for c in entry.result.checks} if entry.result else {}
        cells = []
        for check_id in ids:
            check = by_id.get(check_id)
            if check is None:
                cells.append("")
            else:
                cells.append("pending" if check.status == "manual" else number(check.score))
        rows.append(
            [
                entry.student,
                entry.name,
                person.email if person else "",
                person.sis_id if person else "",
                person.section if person else "",
                ("yes" if person else "no") if graded.roster else "",
                entry.status,
                "yes" if entry.origin.late else "no",
                grade(entry, options),
                number(graded.max_score),
                number(entry.pending_points) if entry.result else "",
                " | ".join(entry.origin.other_attempts),
            ]
            + cells
        )
    return delimited(rows)
