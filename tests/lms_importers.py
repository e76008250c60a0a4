"""The LMSs' own import rules, re-implemented from their source, to read our files as they do.

Each function is a small Python transcription of the matching and grade-setting logic of one
importer, named after the source file it follows; the tests in ``test_lms_rules.py`` run our
exports through them against a gradebook that already holds grades.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any


class ImportAborted(Exception):
    """The LMS refuses the whole file (Moodle's ``cleanup_import``, Canvas's InvalidHeaderRow)."""


def _no_score(value: Any) -> bool:
    return value is None or str(value).strip() in ("", "-")


def canvas_gradebook_import(
    text: str, held: dict[str, float | None], names: dict[str, str] | None = None
) -> dict[str, float | None]:
    """canvas-lms ``app/models/gradebook_importer.rb``: the gradebook after a CSV upload.

    ``header?``: row 0 contains "Student", row 1 "ID", and the last student column "Section";
    a row whose first cell contains "Points Possible" is skipped (``check_for_non_student_row``);
    ``process_student`` finds the student by the ``ID`` column (then by name); for each student
    ``no_change_to_value?`` keeps the held grade only when new and current are equal or both
    blank / ``-``; any other difference is applied, so a blank under a held grade clears it.
    ``held`` maps Canvas user id to the grade Canvas holds (None: no grade).
    """
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    if not ("Student" in header[0] and "ID" in header[1] and "Section" in header[4]):
        raise ImportAborted("Invalid header row")
    result = dict(held)
    by_name = {v: k for k, v in (names or {}).items()}
    for row in rows[1:]:
        if "Points Possible" in row[0]:
            continue
        student = row[1] if row[1] in held else by_name.get(row[0])
        if student is None:
            continue  # a new student: Canvas lists it as unknown, changes nobody
        new = row[5].strip()
        current = held.get(student)
        if new == ("" if current is None else str(current)):
            continue
        if _no_score(current) and _no_score(new):
            continue
        result[student] = None if _no_score(new) else float(new)
    return result


ACCEPT_GIVEN_SCORE_TYPES = ("FullyGraded", "PendingManual")  # app/models/lti/result.rb


def canvas_ags_scores(
    scores: list[dict[str, Any]], held: dict[str, float | None]
) -> dict[str, float | None]:
    """canvas-lms ``app/controllers/lti/ims/scores_controller.rb``: the grades after each Score
    is POSTed. ``ignore_score?`` (gradingProgress not FullyGraded / PendingManual, or no
    ``scoreGiven``) makes ``score_submission`` set the submission's score to nil; otherwise the
    score is ``scoreGiven`` scaled by the line item's maximum over ``scoreMaximum``."""
    result = dict(held)
    for score in scores:
        for field in ("userId", "activityProgress", "gradingProgress", "timestamp"):
            assert field in score, f"required parameter {field} missing"
        if "scoreGiven" in score:
            assert "scoreMaximum" in score, "ScoreMaximum not supplied when ScoreGiven present."
        ignore = (
            score["gradingProgress"] not in ACCEPT_GIVEN_SCORE_TYPES or "scoreGiven" not in score
        )
        result[score["userId"]] = None if ignore else float(score["scoreGiven"])
    return result


def moodle_gradebook_import(
    text: str, map_from: str, users_by_field: dict[str, str], held: dict[str, float | None]
) -> dict[str, float | None]:
    """moodle ``grade/import/csv/classes/load_data.php``: the grades after a gradebook import
    with "Map from" ``map_from`` (a column) to the matching user field.

    ``prepare_import_grade_data`` keeps ``$this->studentid`` from row to row;
    ``map_user_data_with_value`` sets it only ``if (!empty($value))`` ("Skip invalid row with
    blank user field"), so a row with an empty key cell is imported for the previous row's
    user; no user at all on the first row aborts the import. ``update_grade_item`` turns ``''``
    or ``-`` into a null final grade. The grade column is the one after the key columns that is
    not feedback (the caller's mapping)."""
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in rows[0]]
    key = header.index(map_from)
    grade_column = next(i for i, h in enumerate(header) if i > 3 and "(feedback)" not in h)
    result = dict(held)
    student = None
    for row in rows[1:]:
        if len(row) <= 1:
            continue
        value = row[key].strip()
        if value:
            if value not in users_by_field:
                raise ImportAborted(f"usermappingerror: {value}")
            student = users_by_field[value]
        if student is None:
            raise ImportAborted("usermappingerrorusernotfound")
        grade = row[grade_column].strip()
        result[student] = None if grade in ("", "-") else float(grade)
    return result


def moodle_worksheet_import(
    text: str,
    participants: dict[str, str],
    held: dict[str, float | None],
    maximum: float,
    hiddenuser: str = "Participant ",
    strings: tuple[str, str, str] = ("Grade", "Identifier", "Last modified (grade)"),
) -> dict[str, float | None]:
    """moodle ``mod/assign/feedback/offline/importgradeslib.php`` and ``locallib.php``
    (``process_import_grades``): the grades after uploading a grading worksheet.

    ``init`` finds the columns whose header equals ``get_string('grade')``,
    ``get_string('recordid', 'assign')`` and ``get_string('lastmodifiedgrade', 'assign')`` in
    the uploading user's language, else the import fails; ``next`` strips
    ``strlen(get_string('hiddenuser', 'assign'))`` characters and looks the rest up as the
    participant's unique id; a grade that is empty, negative or above the assignment's maximum
    is skipped ("Out of range"), leaving the held one."""
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    grade_name, id_name, modified_name = strings
    if not all(name in header for name in strings):
        raise ImportAborted("invalidgradeimport")
    grade_at, id_at = header.index(grade_name), header.index(id_name)
    result = dict(held)
    for row in rows[1:]:
        unique = row[id_at][len(hiddenuser) :]
        user = participants.get(unique)
        if user is None:
            continue
        grade = row[grade_at].strip().replace(",", ".")
        if grade == "" or float(grade) < 0 or float(grade) > maximum:
            continue
        result[user] = float(grade)
    return result


BLACKBOARD_COLUMN = re.compile(
    r"^(?P<title>.+) \[Total Pts: (?P<points>[\d.]+) \w+\] \|(?P<id>\d+)$"
)
