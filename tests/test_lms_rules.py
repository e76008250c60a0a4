"""Round trips that cannot hurt a grade: each export read back by the LMS's own import rules
(re-implemented in ``lms_importers.py`` from the source file each test names), against a
gradebook that already holds grades; and the LMS downloads named as the LMS names them."""

# ruff: noqa: F811 (the graded fixture is imported from test_export and used as a parameter)

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from lms_importers import (
    BLACKBOARD_COLUMN,
    canvas_ags_scores,
    canvas_gradebook_import,
    moodle_gradebook_import,
    moodle_worksheet_import,
)
from test_export import ADA, export, graded, rows  # noqa: F401 (graded is a fixture)

from grader.cli import main
from grader.export.graded import load_graded
from grader.load import lms
from grader.load.discover import discover
from grader.load.roster import read_roster

HELD = {"101": 5.0, "102": 20.0, "104": 15.0, "555": 9.0}  # what the LMS already holds
RIGHT = b"def hessian(X):\n    return X.T @ X / X.shape[0]\n"


# --- 1. a blank never goes out where the LMS holds a grade -----------------------------------


def test_canvas_import_keeps_the_grades_of_students_with_nothing_to_send(graded: Path) -> None:
    """canvas-lms app/models/gradebook_importer.rb (no_change_to_value?): a blank cell under a
    held grade is a change that clears it; so pending and roster-only students get no row."""
    after = canvas_gradebook_import(export(graded, "canvas", assignment_id="4711"), HELD)
    assert after == {"101": ADA, "102": 20.0, "104": 15.0, "555": 9.0}
    partial = canvas_gradebook_import(export(graded, "canvas", pending="partial"), HELD)
    assert partial["102"] == 17.0 and partial["104"] == 15.0  # points so far; 104 untouched


def test_lti_scores_never_clear_a_held_grade(graded: Path) -> None:
    """canvas-lms app/controllers/lti/ims/scores_controller.rb (ignore_score?): a Score without
    scoreGiven, or NotReady, sets the submission's score to nil: such Scores are not sent."""
    held = {"lti-ada": 1.0, "102": 20.0, "104": 15.0, "555": 9.0}
    scores = json.loads(export(graded, "lti"))
    assert canvas_ags_scores(scores, held) == {**held, "lti-ada": ADA}
    assert all("scoreGiven" in s for s in scores)
    partial = json.loads(export(graded, "lti", pending="partial"))
    after = canvas_ags_scores(partial, held)
    assert after["102"] == 17.0 and after["104"] == 15.0
    assert {s["userId"]: s["gradingProgress"] for s in partial}["102"] == "PendingManual"


def test_the_export_command_says_who_was_left_out_and_why(
    graded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The instructor learns of every student without a row (gradebook_importer.rb would clear
    their grade on a blank): a count, the reasons, and a side file listing them."""
    target = tmp_path / "canvas.csv"
    assert main(["export", str(graded), "--format", "canvas", "-o", str(target)]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "3 student(s) left out" in err and "--pending partial" in err
    assert "manual item(s) still open" in err and "on the roster without a submission" in err
    side = list(csv.DictReader(io.StringIO((graded / "left-out-canvas.csv").read_text())))
    assert {r["student"] for r in side} == {"102", "555", "104"}
    assert "roster" in next(r for r in side if r["student"] == "104")["reason"]


# --- 2. Moodle gradebook: a row Moodle cannot key lands on the previous student ---------------


def test_moodle_gradebook_never_writes_a_row_moodle_would_give_to_another_student(
    graded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """moodle grade/import/csv/classes/load_data.php (map_user_data_with_value keeps the
    previous row's studentid when the email cell is empty): 555 has no email, so no row."""
    users = {"ada@uni.example": "101", "jm@uni.example": "102", "nemo@uni.example": "104"}
    text = export(graded, "moodle", variant="gradebook", pending="partial")
    after = moodle_gradebook_import(text, "Email address", users, HELD)
    assert after == {"101": ADA, "102": 17.0, "104": 15.0, "555": 9.0}
    argv = ["export", str(graded), "--format", "moodle", "--variant", "gradebook"]
    assert main([*argv, "--pending", "partial"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "neither email nor ID number" in err and "555" in err and "--roster" in err
    side = (graded / "left-out-moodle.csv").read_text()
    assert "555" in side and "previous row" in side


# --- 3. Blackboard ---------------------------------------------------------------------------


def test_blackboard_username_comes_from_the_receipt_not_from_splitting_on_underscores(
    tmp_path: Path,
) -> None:
    """Blackboard Assignment File Download: Assignment_username_attempt_TIME and a .txt
    receipt "Name: Jo Smith (jo_smith)" (the file name alone cannot tell where the assignment
    ends; vangef/BBGradebookOrganiser utils/organiser.py takes the last _ field)."""
    stamp, later = "2026-11-20-10-00-00", "2026-11-21-09-30-00"
    path = tmp_path / "gradebook.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"Sheet_3_jo_smith_attempt_{stamp}_sheet3.py", RIGHT)
        archive.writestr(
            f"Sheet_3_jo_smith_attempt_{stamp}.txt",
            "Name: Jo Smith (jo_smith)\nAssignment: Sheet_3\nDate Submitted: ...\n",
        )
        archive.writestr(f"Sheet_3_ann_lee_attempt_{later}_sheet3.py", RIGHT)  # no receipt
    found = {s.student: s for s in discover([path])}
    assert set(found) == {"jo_smith", "ann_lee"}
    assert found["jo_smith"].display_name == "Jo Smith"


def test_a_grade_center_download_as_roster_matches_by_username(tmp_path: Path) -> None:
    """Blackboard Grade Center Work Offline download: Last Name, First Name, Username, Student
    ID, ...; the upload matches students by Username (Blackboard help, "Work Offline")."""
    roster = tmp_path / "gc.csv"
    roster.write_text(
        '"Last Name","First Name","Username","Student ID","Last Access","Availability",'
        '"Sheet 3 [Total Pts: 100 Score] |1702852"\n'
        '"Smith","Jo","jo_smith","20231234","2026-11-20","Available",""\n'
    )
    student = read_roster(roster).students[0]
    assert (student.id, student.sis_id, student.first_name) == ("jo_smith", "20231234", "Jo")


def test_blackboard_header_follows_the_grade_center_form(graded: Path) -> None:
    """Blackboard Grade Center download header: 'Title [Total Pts: 100 Score] |1702852'
    (nbeaver/offline-grades-upload readme.rst shows the id after '|'); no row for a student
    with nothing to send (the importer is closed source: no blank is risked)."""
    table = rows(export(graded, "blackboard", assignment_id="1702852"), "\t")
    match = BLACKBOARD_COLUMN.match(table[0][3])
    assert match and (match["title"], match["points"], match["id"]) == ("Sheet 3", "30", "1702852")
    assert {r[2] for r in table[1:]} == {"101"}


# --- 4. Canvas downloads and ids ------------------------------------------------------------


def test_canvas_upper_case_late_marker_and_anonymous_downloads(tmp_path: Path) -> None:
    """canvas-lms lib/content_zipper.rb (get_filename): [name, "LATE" if late, id].join("_"),
    the id "anon_<anonymous_id>" under anonymous grading, then _<attachment id>_<file>."""
    late = lms.canvas("smithjo_LATE_123_456_sheet3.ipynb")
    assert late and (late.student, late.name, late.late) == ("123", "smithjo", True)
    path = tmp_path / "submissions.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("anon_aB3x9_900_sheet3.py", b"x = 1\n")
        archive.writestr("LATE_anon_aB3x9_901_sheet3.py", RIGHT)  # the same student, later
        archive.writestr("anon_Zq81k_902_sheet3.py", RIGHT)
    found = {s.student: s for s in discover([path])}
    assert set(found) == {"anon_aB3x9", "anon_Zq81k"}  # one per student, not one per file
    assert found["anon_aB3x9"].late and len(found["anon_aB3x9"].other_attempts) == 1
    assert str(found["anon_aB3x9"].path).endswith("901_sheet3.py")


@pytest.mark.parametrize(
    ("format", "value"),
    [("canvas", "_123_1"), ("blackboard", "_664617_1"), ("moodle", "7"), ("lti", "7")],
)
def test_assignment_id_is_checked_per_lms(
    graded: Path, format: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """canvas-lms Assignment.title_and_id reads digits in 'Title (id)'; Blackboard's column id
    is the digits after '|'; Moodle and LTI take none: a one-line error, nothing written."""
    argv = ["export", str(graded), "--format", format, "--assignment-id", value]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--assignment-id" in err


# --- 5. Moodle worksheet ---------------------------------------------------------------------


def test_a_german_moodle_worksheet_serves_as_roster(tmp_path: Path) -> None:
    """moodle mod/assign/feedback/offline/importgradeslib.php strips get_string('hiddenuser')
    from the Identifier (German 'Teilnehmer/in', projectestac/moodle-langpacks de/assign.php),
    whose column is get_string('recordid') ('ID'); 'Bestwertung' is the maximum grade."""
    roster = tmp_path / "bewertungen.csv"
    roster.write_text(
        "ID,Vollständiger Name,E-Mail-Adresse,Status,Bewertung,Bestwertung\n"
        "Teilnehmer/in101,Ada Lovelace,ada@uni.example,Abgegeben,,30\n"
    )
    student = read_roster(roster).students[0]
    assert (student.id, student.name, student.email) == ("101", "Ada Lovelace", "ada@uni.example")
    assert student.max_grade == "30"
    spanish = tmp_path / "calificaciones.csv"
    spanish.write_text(
        "Identificador,Nombre completo,Calificación máxima\nParticipante 7,Eva,100\n"
    )
    assert read_roster(spanish).students[0].id == "7"


def test_moodle_worksheet_warns_when_moodle_would_skip_grades_above_its_maximum(
    graded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """moodle mod/assign/feedback/offline/locallib.php (process_import_grades skips a grade
    above the assignment's maximum: "Out of range"): a worksheet roster saying 10 is warned of."""
    roster = tmp_path / "worksheet.csv"
    roster.write_text(
        "Identifier,Full name,Email address,Maximum grade\n"
        "Participant 101,Ada Lovelace,ada@uni.example,10.00\n"
        "Participant 102,Jürgen Müller,jm@uni.example,10.00\n"
    )
    text = export(graded, "moodle")
    participants = {"101": "101", "102": "102", "104": "104"}
    after = moodle_worksheet_import(text, participants, HELD, maximum=10.0)
    assert after["101"] == HELD["101"]  # what Moodle does: ADA > 10 is silently dropped
    assert moodle_worksheet_import(text, participants, HELD, maximum=30.0)["101"] == ADA
    argv = ["export", str(graded), "--format", "moodle", "--roster", str(roster)]
    assert main(argv) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert "maximum grade as 10" in err and "out of 30" in err


def test_moodle_worksheet_has_no_row_for_a_student_with_nothing_to_send(graded: Path) -> None:
    """moodle importgradeslib.php / locallib.php: the worksheet's rows are matched by
    'Participant N'; a pending or roster-only student has no row, so nothing is risked."""
    table = rows(export(graded, "moodle"))
    assert [r[0] for r in table[1:]] == ["Participant 101"]
    after = moodle_worksheet_import(export(graded, "moodle"), {"101": "101"}, HELD, 30.0)
    assert after == {**HELD, "101": ADA}


# --- 6. spreadsheet formulas -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("format", "variant", "delimiter"),
    [
        ("canvas", "", ","),
        ("moodle", "", ","),
        ("moodle", "gradebook", ","),
        ("blackboard", "", "\t"),
        ("csv", "", ","),
    ],
)
def test_no_cell_of_any_export_starts_a_formula(
    graded: Path, tmp_path: Path, format: str, variant: str, delimiter: str
) -> None:
    """OWASP "CSV Injection": a cell starting with = + - @ tab or CR that is not a number is
    prefixed with ' in every CSV/TSV export; numbers stay numbers."""
    roster = tmp_path / "evil.csv"
    roster.write_text(
        "id,first_name,last_name,email,sis_id,section\n"
        '101,"=HYPERLINK(""http://x"")","+cmd|\' /C calc\'!A0",ada@uni.example,@SUM(1),-2+3\n'
    )
    loaded = load_graded(graded, read_roster(roster))
    from grader.export.common import ExportOptions
    from grader.export.formats import FORMATS

    text = FORMATS[format](loaded, ExportOptions(variant=variant, pending="partial"))
    cells = [c for r in csv.reader(io.StringIO(text), delimiter=delimiter) for c in r]
    for cell in cells:
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
            float(cell)  # only a number may start so
    assert any(c.startswith("'=HYPERLINK") or c.startswith("'+cmd") for c in cells)


def test_anonymous_canvas_ids_never_reach_the_gradebook_import(tmp_path: Path) -> None:
    """canvas-lms app/models/gradebook_importer.rb (process_student: the ID column as a user
    id, then SIS ids, then the name): an anon_ id matches nobody, so it gets no row."""
    folder = tmp_path / "out"
    folder.mkdir()
    check = {"id": "1a.hessian", "status": "passed", "score": 10.0, "max_score": 10.0}
    entry = {"student": "anon_aB3x9", "submission": "x.py", "score": 10.0, "max_score": 10.0}
    (folder / "results.json").write_text(json.dumps([{**entry, "checks": [check]}]))
    table = rows(export(folder, "canvas"))
    assert [r[1] for r in table[2:]] == []
    from grader.export.common import ExportOptions
    from grader.export.formats import left_out

    dropped = left_out("canvas", load_graded(folder), ExportOptions())
    assert [(e.student, "SpeedGrader" in why) for e, why in dropped] == [("anon_aB3x9", True)]
