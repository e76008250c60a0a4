"""LMS exports out: each format parsed back and checked against its specification (the sources
are named in each module of grader/export/)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import ROOT

from grader.cli import main
from grader.export.common import ExportOptions, number
from grader.export.formats import FORMATS
from grader.export.graded import load_graded
from grader.load.roster import read_roster

CHECKS = [
    {"id": "1a.hessian", "max_score": 10.0, "title": "Hessian", "manual": False, "hidden": False},
    {
        "id": "1b.derivation",
        "max_score": 8.0,
        "title": "Derivation",
        "manual": True,
        "hidden": False,
    },
    {"id": "2a.secret", "max_score": 12.0, "title": "Secret", "manual": False, "hidden": True},
]
THIRD = 10 / 3  # 3.3333333333333335: a float that must survive the trip through text
ADA = round(10.0 + 6.5 + THIRD, 6)  # results.json's score: the checks' sum, to 6 decimals
NOW = datetime(2026, 11, 27, 23, 15, 1, 250000, tzinfo=timezone.utc)


def result(student: str, hessian: float, derivation: tuple[str, float], secret: float) -> dict:
    checks = [
        ("1a.hessian", "passed" if hessian == 10 else "failed", hessian, 10.0),
        ("1b.derivation", *derivation, 8.0),
        ("2a.secret", "passed" if secret == 12 else "failed", secret, 12.0),
    ]
    return {
        "student": student,
        "submission": f"canvas.zip!{student}.ipynb",
        "score": round(sum(c[2] for c in checks), 6),
        "max_score": 30.0,
        "checks": [
            {"id": i, "status": s, "score": sc, "max_score": m, "feedback": f"{i}: feedback"}
            for i, s, sc, m in checks
        ],
    }


@pytest.fixture
def graded(tmp_path: Path) -> Path:
    """A graded folder of three Canvas submissions: one fully graded, one with its manual item
    open (and late), one not on the roster; the roster has one student who sent nothing."""
    folder = tmp_path / "out"
    folder.mkdir()
    results = [
        result("101", 10.0, ("passed", 6.5), THIRD),  # manual item graded: 6.5
        result("102", 5.0, ("manual", 0.0), 12.0),  # manual item still open
        result("555", 0.0, ("manual", 0.0), 0.0),  # not on the roster
    ]
    (folder / "results.json").write_text(json.dumps(results))
    side = {
        "schema": 1,
        "assignment": "sheet3",
        "title": "Sheet 3",
        "checks": CHECKS,
        "submissions": [
            {
                "student": r["student"],
                "submission": r["submission"],
                "scheme": "canvas",
                "display_name": "",
                "late": r["student"] == "102",
                "attempt": "",
                "other_attempts": [],
                "problem": None,
            }
            for r in results
        ],
        "roster": {
            "path": "roster.csv",
            "students": [
                {
                    "id": "101",
                    "name": "Lovelace, Ada",
                    "email": "ada@uni.example",
                    "sis_id": "S-101",
                    "login_id": "ada",
                    "section": "Mon",
                    "lti_id": "lti-ada",
                },
                {
                    "id": "102",
                    "name": "Jürgen Müller",
                    "email": "jm@uni.example",
                    "sis_id": "S-102",
                    "login_id": "jm",
                    "section": "Tue",
                },
                {
                    "id": "104",
                    "name": "Nemo Nobody",
                    "email": "nemo@uni.example",
                    "sis_id": "S-104",
                    "login_id": "nemo",
                    "section": "Mon",
                },
            ],
        },
    }
    (folder / "submissions.json").write_text(json.dumps(side))
    return folder


def export(folder: Path, name: str, **options) -> str:
    return FORMATS[name](load_graded(folder), ExportOptions(now=NOW, **options))


def rows(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def test_number_round_trips_floats_without_exponents() -> None:
    for value in (76.0, 0.0, THIRD, 1 / 7, 12.5, 1e-7, 99.99999999999999):
        text = number(value)
        assert float(text) == value and "e" not in text
    assert number(76.0) == "76"


def test_load_graded_joins_results_roster_and_lms_metadata(graded: Path) -> None:
    loaded = load_graded(graded)
    by = {e.student: e for e in loaded.entries}
    assert list(by) == ["101", "102", "555", "104"]  # roster-only students last
    assert by["102"].origin.late and by["102"].status == "pending manual"
    assert by["555"].person is None and by["104"].result is None
    assert by["104"].status == "no submission" and by["101"].status == "graded"
    assert loaded.max_score == 30.0


def test_canvas_gradebook_csv(graded: Path) -> None:
    table = rows(export(graded, "canvas", assignment_id="4711"))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Sheet 3 (4711)"]
    assert table[1][0] == "Points Possible" and float(table[1][5]) == 30.0
    body = {r[1]: r for r in table[2:]}
    assert body["101"][:5] == ["Lovelace, Ada", "101", "S-101", "ada", "Mon"]
    assert float(body["101"][5]) == ADA  # the exact float, read back
    assert set(body) == {"101"}  # 102 and 555 are open, 104 sent nothing: no row, no blank
    partial = {r[1]: r for r in rows(export(graded, "canvas", pending="partial"))[2:]}
    assert float(partial["102"][5]) == 17.0 and float(partial["555"][5]) == 0.0
    assert "104" not in partial
    assert rows(export(graded, "canvas"))[0][5] == "Sheet 3"  # no id: matched by title


def test_moodle_offline_grading_worksheet(graded: Path) -> None:
    table = rows(export(graded, "moodle"))
    header = table[0]
    for column in ("Identifier", "Grade", "Last modified (grade)", "Feedback comments"):
        assert column in header  # the columns Moodle's importer looks up by name
    body = {r[header.index("Identifier")]: dict(zip(header, r, strict=True)) for r in table[1:]}
    assert set(body) == {"Participant 101"}  # the others have nothing to send: no row
    ada = body["Participant 101"]
    assert float(ada["Grade"]) == ADA and ada["Maximum grade"] == "30"
    assert ada["Last modified (grade)"] == "2026-11-27 23:15:01 +0000"
    partial = rows(export(graded, "moodle", pending="partial"))
    body = {r[header.index("Identifier")]: dict(zip(header, r, strict=True)) for r in partial[1:]}
    assert set(body) == {"Participant 101", "Participant 102", "Participant 555"}
    jurgen = body["Participant 102"]
    assert float(jurgen["Grade"]) == 17.0
    assert "PENDING manual grading: 1b.derivation" in jurgen["Feedback comments"]
    assert "late" in jurgen["Feedback comments"]


def test_moodle_gradebook_variant_keyed_by_email_and_id_number(graded: Path) -> None:
    table = rows(export(graded, "moodle", variant="gradebook", pending="partial"))
    assert table[0] == [
        "First name",
        "Last name",
        "ID number",
        "Email address",
        "Sheet 3",
        "Sheet 3 (feedback)",
    ]
    body = {r[3]: r for r in table[1:]}
    assert body["ada@uni.example"][:3] == ["Ada", "Lovelace", "S-101"]
    assert body["jm@uni.example"][:2] == ["Jürgen", "Müller"]
    assert float(body["jm@uni.example"][4]) == 17.0
    assert "counts them as 0" in body["jm@uni.example"][5]  # partial says so, in the file
    assert "nemo@uni.example" not in body and len(body) == 2  # 104 sent nothing; 555 unkeyed


def test_blackboard_grade_center_upload_is_tab_delimited(graded: Path) -> None:
    text = export(graded, "blackboard", assignment_id="664617", pending="partial")
    table = rows(text, "\t")
    header = ["Last Name", "First Name", "Username", "Sheet 3 [Total Pts: 30 Score] |664617"]
    assert table[0] == header
    assert all(len(r) == 4 for r in table) and "," not in text.splitlines()[0]
    body = {r[2]: r for r in table[1:]}
    assert body["101"][:2] == ["Lovelace", "Ada"]
    assert float(body["101"][3]) == ADA
    assert float(body["102"][3]) == 17.0 and "104" not in body


def test_lti_ags_score_objects(graded: Path) -> None:
    scores = {s["userId"]: s for s in json.loads(export(graded, "lti"))}
    assert set(scores) == {"lti-ada"}  # the roster's LTI id; the others have nothing to send
    ada = scores["lti-ada"]
    assert set(ada) == {
        "userId",
        "scoreGiven",
        "scoreMaximum",
        "comment",
        "timestamp",
        "activityProgress",
        "gradingProgress",
    }
    assert ada["scoreGiven"] == ADA and ada["scoreMaximum"] == 30.0
    assert (ada["activityProgress"], ada["gradingProgress"]) == ("Completed", "FullyGraded")
    assert ada["timestamp"] == "2026-11-27T23:15:01.250+00:00"
    partial = {s["userId"]: s for s in json.loads(export(graded, "lti", pending="partial"))}
    assert set(partial) == {"lti-ada", "102", "555"}  # 104 sent nothing: never a Score
    assert partial["102"]["scoreGiven"] == 17.0 and partial["102"]["scoreMaximum"] == 30.0
    assert partial["102"]["gradingProgress"] == "PendingManual"
    assert "1b.derivation" in partial["102"]["comment"]


def test_gradescope_results_per_the_autograder_spec(graded: Path) -> None:
    documents = json.loads(export(graded, "gradescope"))
    assert [d["extra_data"]["student"] for d in documents] == ["101", "102", "555"]
    jurgen = documents[1]
    assert set(jurgen) >= {"score", "output", "tests"}
    tests = {t["number"]: t for t in jurgen["tests"]}
    assert tests["1a.hessian"]["score"] == 5.0 and tests["1a.hessian"]["status"] == "failed"
    assert tests["1a.hessian"]["visibility"] == "visible"
    assert tests["2a.secret"]["visibility"] == "after_published"  # hidden until published
    manual = tests["1b.derivation"]
    assert "score" not in manual and "max_score" not in manual  # pending, not a zero
    assert "by hand" in manual["name"] and "by hand" in jurgen["output"]
    assert jurgen["score"] == 17.0  # the automatic checks only
    for test in jurgen["tests"]:
        assert set(test) <= {
            "name",
            "number",
            "score",
            "max_score",
            "status",
            "output",
            "visibility",
        }
        assert test.get("status", "passed") in ("passed", "failed")
    ada_tests = {t["number"]: t for t in documents[0]["tests"]}
    assert ada_tests["1b.derivation"]["score"] == 6.5  # graded by hand already: a real score


def test_csv_one_row_per_student_one_column_per_check(graded: Path) -> None:
    table = rows(export(graded, "csv"))
    header = table[0]
    assert header[-3:] == ["1a.hessian", "1b.derivation", "2a.secret"]
    body = {r[0]: dict(zip(header, r, strict=True)) for r in table[1:]}
    assert float(body["101"]["2a.secret"]) == THIRD and float(body["101"]["1b.derivation"]) == 6.5
    assert body["102"]["1b.derivation"] == "pending" and body["102"]["pending_points"] == "8"
    assert body["102"]["late"] == "yes" and body["102"]["status"] == "pending manual"
    assert body["555"]["on_roster"] == "no" and body["104"]["status"] == "no submission"
    assert body["104"]["score"] == "" and body["104"]["1a.hessian"] == ""


def test_a_roster_given_at_export_replaces_the_recorded_one(graded: Path, tmp_path: Path) -> None:
    roster = tmp_path / "new.csv"
    roster.write_text("id,name\n555,Late Joiner\n")
    loaded = load_graded(graded, read_roster(roster))
    by = {e.student: e for e in loaded.entries}
    assert by["555"].name == "Late Joiner" and by["101"].person is None
    assert set(by) == {"101", "102", "555"}


def test_export_command_writes_files_and_refuses_wrong_usage(
    graded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "canvas.csv"
    assert main(["export", str(graded), "--format", "canvas", "-o", str(target)]) == 0
    assert rows(target.read_text(encoding="utf-8"))[0][0] == "Student"
    err = capsys.readouterr().err
    assert "left out" in err and "--assignment-id" in err
    assert main(["export", str(graded), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("student,name")
    assert main(["export", str(graded), "--format", "canvas", "--variant", "gradebook"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["export", str(tmp_path / "nowhere"), "--format", "csv"]) == 2
    assert "nowhere" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["export", str(empty), "--format", "lti"]) == 2
    assert "grader grade" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(graded), "--format", "excel"])
    assert exit_info.value.code == 2


def test_grade_then_export_a_canvas_round_trip(tmp_path: Path) -> None:
    """The README's Canvas round trip on two tiny submissions and a roster."""
    right = b"def hessian(X):\n    return X.T @ X / X.shape[0]\n"
    zip_path = tmp_path / "submissions.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("lovelaceada_101_9001_sheet3.py", right)
        archive.writestr("babbagecharles_late_102_9002_sheet3.py", b"x = 1\n")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section\n"
        + '"Lovelace, Ada",101,S1,ada,A\n'
        + '"Nobody, Nemo",104,S4,nemo,A\n'
    )
    out = tmp_path / "out"
    grade = ["grade", str(zip_path), "--out", str(out), "--roster", str(roster), "--seed", "1"]
    assert main([*grade, "--course", str(ROOT)]) == 0
    target = tmp_path / "canvas.csv"
    argv = ["export", str(out), "--format", "canvas", "--assignment-id", "9", "-o", str(target)]
    assert main([*argv, "--pending", "partial"]) == 0
    body = {r[1]: r for r in rows(target.read_text())[2:]}
    assert set(body) == {"101", "102"}  # 104 sent nothing: no row, Canvas keeps its grade
    assert float(body["101"][5]) == 10.0 and float(body["102"][5]) == 0.0
    assert body["101"][0] == "Lovelace, Ada"
