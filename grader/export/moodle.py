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

from grader.export.common import ExportOptions, comment, delimited, grade, number, unsent
from grader.export.graded import Graded, GradedEntry

WORKSHEET = [
    "Identifier",
    "Full name",
    "Email address",
    "Status",
    "Grade",
    "Maximum grade",
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
    """The worksheet in an English Moodle's words: the importer finds its columns by
    ``get_string`` in the uploading user's language (``importgradeslib.php``, ``init``), so
    upload it with the interface in English. A student with nothing to send has no row (the
    importer skips an empty grade, but no row is the same in every Moodle)."""
    modified = options.now.strftime("%Y-%m-%d %H:%M:%S %z")  # strtotime reads it exactly
    rows = [WORKSHEET]
    for entry in graded.entries:
        if unsent(entry, options):
            continue
        person = entry.person
        rows.append(
            [
                f"Participant {entry.student}",
                entry.name,
                person.email if person else "",
                "Submitted for grading",
                grade(entry, options),
                number(graded.max_score),
                "Yes",
                modified,
                comment(entry, graded.max_score, options),
            ]
        )
    return delimited(rows)


def gradebook_unsent(entry: GradedEntry, options: ExportOptions) -> str:
    """Why this student gets no row in the gradebook CSV ("" when they get one).

    Besides :func:`unsent`: a row with neither email nor ID number. Moodle maps the row's user
    from the chosen column and, when that cell is empty, keeps the previous row's user
    (``grade/import/csv/classes/load_data.php``: ``map_user_data_with_value`` sets
    ``$this->studentid`` only ``if (!empty($value))``), so the grade would land on the wrong
    student."""
    reason = unsent(entry, options)
    if reason:
        return reason
    person = entry.person
    if not (person and (person.email or person.sis_id)):
        return (
            "neither email nor ID number for Moodle to match: Moodle would give this grade to "
            "the previous row's student; pass a --roster with Email address or ID number"
        )
    return ""


def gradebook(graded: Graded, options: ExportOptions) -> str:
    title = options.title_of(graded)
    rows = [GRADEBOOK + [title, f"{title} (feedback)"]]
    for entry in graded.entries:
        if gradebook_unsent(entry, options):
            continue
        person = entry.person
        assert person is not None
        first, last = person.given_and_family
        rows.append(
            [
                first,
                last,
                person.sis_id,
                person.email,
                grade(entry, options),
                comment(entry, graded.max_score, options),
            ]
        )
    return delimited(rows)


def maximum_warnings(graded: Graded) -> list[str]:
    """A warning when the worksheet given as roster has another maximum grade than this
    assignment's total: Moodle's worksheet import skips a grade above its maximum without a
    word (``mod/assign/feedback/offline/locallib.php``, ``process_import_grades``: "Out of
    range")."""
    if graded.roster is None:
        return []
    maxima = set()
    for student in graded.roster.students:
        try:  # Moodle writes the maximum with the site's decimal separator
            maxima.add(float(student.max_grade.replace(",", ".")))
        except ValueError:
            continue
    wrong = sorted(m for m in maxima if abs(m - graded.max_score) > 1e-9)
    if not wrong:
        return []
    said = ", ".join(number(m) for m in wrong)
    return [
        f"the Moodle worksheet {graded.roster.path} gives the maximum grade as {said}, but this "
        f"assignment is out of {number(graded.max_score)}: Moodle skips every grade above its "
        f"maximum without a word; set the Moodle assignment's maximum grade to "
        f"{number(graded.max_score)} before uploading"
    ]
