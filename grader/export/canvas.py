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
from grader.export.graded import Graded, GradedEntry

HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def column(graded: Graded, options: ExportOptions) -> str:
    title = options.title_of(graded)
    return f"{title} ({options.assignment_id})" if options.assignment_id else title


def canvas_unsent(entry: GradedEntry, options: ExportOptions) -> str:
    """Why this student gets no row ("" when they get one): :func:`unsent`, or an anonymous
    id. ``process_student`` finds a student by the ``ID`` column (a Canvas user id), then SIS
    ids, then the name; an ``anon_`` id of an anonymous download (``content_zipper.rb``) and no
    name match nobody, so such a grade could only go astray or nowhere."""
    reason = unsent(entry, options)
    if reason:
        return reason
    if entry.student.startswith("anon_") and not (
        entry.person and entry.person.id != entry.student
    ):
        return (
            "an anonymous Canvas id, which the gradebook import cannot match: enter it in "
            "SpeedGrader, or give a --roster mapping it to the Canvas user id"
        )
    return ""


def export(graded: Graded, options: ExportOptions) -> str:
    rows = [HEADER + [column(graded, options)]]
    rows.append(["Points Possible", "", "", "", "", number(graded.max_score)])
    for entry in graded.entries:
        if canvas_unsent(entry, options):
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
