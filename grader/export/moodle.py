"""Moodle: the assignment's offline grading worksheet, and the gradebook CSV import.

Worksheet (Assignment → "Upload grading worksheet"), as Moodle's importer reads it
(``mod/assign/feedback/offline/importgradeslib.php``): columns are found by their header,
``Identifier`` (``Participant N``; the importer strips the ``Participant `` prefix and looks N
up with ``get_user_id_for_uniqueid``, the same id the "Download all submissions" folders are
named by), ``Grade``, ``Last modified (grade)`` (read with ``strtotime``; a grade older than
Moodle's current one is skipped) and each feedback plugin's field, ``Feedback comments``. The
other columns are those of Moodle's own worksheet download (``gradingtable.php``) and are
ignored on import.

Gradebook (Grades → Import → CSV file, ``grade/import/csv``): free column names; on import the
instructor maps one column to the user ("Map from" ``Email address`` or ``ID number``, "Map to"
useremail or useridnumber) and the grade column to the grade item, the feedback column to its
feedback. The columns follow Moodle's plain-text grade export.
"""

from __future__ import annotations

from grader.export.common import ExportOptions, comment, delimited, grade, number
from grader.export.graded import Graded

WORKSHEET = [
    "Identifier",
    "Full name",
    "Email address",
    "Status",
    "Grade",
    "Maximum Grade",
    "Grade can be changed",
    "Last modified (grade)",
    "Feedback comments",
]
GRADEBOOK = ["First name", "Last name", "ID number", "Email address"]


def export(graded: Graded, options: ExportOptions) -> str:
    if options.variant in ("", "worksheet"):
        return worksheet(graded, options)
    return gradebook(graded, options)


def worksheet(graded: Graded, options: ExportOptions) -> str:
    modified = options.now.strftime("%Y-%m-%d %H:%M:%S %z")  # strtotime reads it exactly
    rows = [WORKSHEET]
    for entry in graded.entries:
        person = entry.person
        rows.append(
            [
                f"Participant {entry.student if entry.result else person.id if person else ''}",
                entry.name,
                person.email if person else "",
                "Submitted for grading" if entry.result else "No submission",
                grade(entry, options),
                number(graded.max_score),
                "Yes",
                modified if entry.result else "",
                comment(entry, graded.max_score, options) if entry.result else "",
            ]
        )
    return delimited(rows)


def gradebook(graded: Graded, options: ExportOptions) -> str:
    title = options.title_of(graded)
    rows = [GRADEBOOK + [title, f"{title} (feedback)"]]
    for entry in graded.entries:
        person = entry.person
        first, last = person.given_and_family if person else ("", entry.origin.display_name)
        rows.append(
            [
                first,
                last,
                person.sis_id if person else "",
                person.email if person else "",
                grade(entry, options),
                comment(entry, graded.max_score, options) if entry.result else "",
            ]
        )
    return delimited(rows)
