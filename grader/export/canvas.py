"""Canvas: the gradebook import CSV (Grades → Import).

Format as Canvas's importer reads it (canvas-lms ``app/models/gradebook_importer.rb``):
the header starts ``Student, ID, SIS User ID, SIS Login ID`` and ends the student columns with
``Section``; an assignment column is ``Title (assignment id)`` (``Assignment.title_and_id``),
or the bare title, matched by title or else created as a new assignment; a row whose first cell
holds ``Points Possible`` sets points, not a student. A student is found by ``ID`` (the Canvas
user id, the one a "Download Submissions" zip names files by), else SIS User ID, SIS Login ID,
else the name. An empty grade cell is not "no grade": ``no_change_to_value?`` treats a blank
(or ``-``) under a grade Canvas holds as a change, and the upload clears that grade. So a student
with nothing to send has no row at all (``grader/export/common.py``, ``unsent``).
Canvas's own export writes the same header (checked against the OSU "Import a CSV file to
Carmen grades" guide: Student or ID or SIS User ID, SIS Login ID, Section, the assignment).
"""

from __future__ import annotations

from grader.export.common import ExportOptions, delimited, grade, number, unsent
from grader.export.graded import Graded

HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def column(graded: Graded, options: ExportOptions) -> str:
    title = options.title_of(graded)
    return f"{title} ({options.assignment_id})" if options.assignment_id else title


def export(graded: Graded, options: ExportOptions) -> str:
    rows = [HEADER + [column(graded, options)]]
    rows.append(["Points Possible", "", "", "", "", number(graded.max_score)])
    for entry in graded.entries:
        if unsent(entry, options):
            continue
        person = entry.person
        rows.append(
            [
                entry.name or entry.student,
                person.id if person else entry.student,
                person.sis_id if person else "",
                person.login_id if person else "",
                person.section if person else "",
                grade(entry, options),
            ]
        )
    return delimited(rows)
