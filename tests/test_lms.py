"""LMS bulk downloads in: Canvas, Moodle (folders and flat), Blackboard, plain folders, a
pattern of one's own, and the roster. Zips are built by the naming rules each LMS documents
(see grader/load/lms.py for the sources)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, by_id, only

from grader.cli import main
from grader.grading import grade_submission
from grader.load import lms
from grader.load.discover import Naming, discover
from grader.load.roster import RosterError, read_roster, reconcile

RIGHT = b"def hessian(X):\n    return X.T @ X / X.shape[0]\n"
HALF = b"def hessian(X):\n    return 0.5 * X.T @ X / X.shape[0]\n"


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return path


def found(paths: list[Path], pattern: re.Pattern[str] | None = None):
    namings: list[Naming] = []
    submissions = {s.student: s for s in discover(paths, pattern, namings)}
    return submissions, namings


def hessian_score(submission, plan) -> float:
    return by_id(grade_submission(submission, only(plan, "1a.hessian")))["1a.hessian"].score


# --- names ----------------------------------------------------------------------------------


def test_canvas_names_give_the_user_id_late_marker_and_upload_order() -> None:
    plain = lms.canvas("lovelaceada_101_9001_sheet3.ipynb")
    assert plain and (plain.student, plain.name, plain.late) == ("101", "lovelaceada", False)
    late = lms.canvas("müllerjürgen_late_102_9010_My Sheet 3-2.ipynb")
    assert late and (late.student, late.late, late.original) == ("102", True, "My Sheet 3-2.ipynb")
    assert late.revision == (9010, 2)  # the attachment id, then Canvas's -N suffix
    text = lms.canvas("smithjohn_late_103_text.html")
    assert text and (text.student, text.kind, text.late) == ("103", "text", True)
    assert lms.canvas("alice.ipynb") is None
    # a name Canvas squashed to contain digits and underscores still splits at the first id
    odd = lms.canvas("o_brien2_104_9003_final_v2_17.py")
    assert odd and (odd.name, odd.student, odd.original) == ("o_brien2", "104", "final_v2_17.py")


def test_moodle_names_give_the_participant_id_in_both_variants() -> None:
    folder = lms.moodle("José Müller-Ñúñez_4242_assignsubmission_file_")
    assert folder and (folder.student, folder.name, folder.kind) == (
        "4242",
        "José Müller-Ñúñez",
        "folder",
    )
    flat = lms.moodle("Ada Lovelace_17_assignsubmission_file_sheet 3 final.ipynb")
    assert flat and (flat.student, flat.original) == ("17", "sheet 3 final.ipynb")
    blind = lms.moodle("Participant_99_assignsubmission_file_x.py")
    assert blind and blind.student == "99" and blind.name == ""  # blind marking hides the name
    text = lms.moodle("Ada Lovelace_17_assignsubmission_onlinetext_onlinetext.html")
    assert text and text.kind == "text"


def test_blackboard_names_give_the_username_and_attempt_time() -> None:
    upload = lms.blackboard("Sheet 3_ab_cd12_attempt_2026-11-20-09-15-00_sheet3.ipynb")
    assert upload and (upload.student, upload.attempt) == ("cd12", "2026-11-20-09-15-00")
    receipt = lms.blackboard("Sheet 3_cd12_attempt_2026-11-20-09-15-00.txt")
    assert receipt and receipt.kind == "receipt"
    assert lms.receipt_name("Name: Zoë Ångström (cd12)\nAssignment: Sheet 3\n") == "Zoë Ångström"


def test_detect_scheme_picks_the_scheme_that_names_the_most_entries() -> None:
    assert lms.detect_scheme(["a_1_2_x.py", "b_3_4_y.py", "readme.txt"]) == "canvas"
    assert lms.detect_scheme(["alice.ipynb", "bob.py"]) is None


def test_a_name_pattern_needs_a_student_group_and_known_groups_only() -> None:
    with pytest.raises(lms.NamePatternError, match="student"):
        lms.compile_pattern(r"(?P<who>\w+)\.py")
    with pytest.raises(lms.NamePatternError, match="not a valid regex"):
        lms.compile_pattern(r"(?P<student>\w+")
    with pytest.raises(lms.NamePatternError, match="unknown group"):
        lms.compile_pattern(r"(?P<student>\w+)-(?P<week>\d)")
    pattern = lms.compile_pattern(r"hw3-(?P<student>[a-z]+)-v(?P<attempt>\d+)")
    identity = lms.by_pattern("hw3-ada-v2.py", pattern)
    assert identity and (identity.student, identity.attempt) == ("ada", "2")


# --- bulk downloads, end to end through discover --------------------------------------------


def test_a_canvas_zip_grades_the_latest_upload_and_keeps_late_and_text_entries(
    tmp_path: Path, plan
) -> None:
    path = make_zip(
        tmp_path / "sheet-3 submissions.zip",
        {
            "lovelaceada_101_9001_sheet3.py": RIGHT,
            "müllerjürgen_late_102_9002_My Sheet 3.py": HALF,  # first upload: wrong
            "müllerjürgen_late_102_9010_My Sheet 3-1.py": RIGHT,  # re-upload: right
            "smithjohn_103_text.html": b"<p>I typed my answers here</p>",
            "__MACOSX/._lovelaceada_101_9001_sheet3.py": b"junk",
        },
    )
    submissions, [naming] = found([path])
    assert naming.scheme == "canvas" and "Canvas user id" in naming.describe()
    assert sorted(submissions) == ["101", "102", "103"]
    ada, jurgen, john = submissions["101"], submissions["102"], submissions["103"]
    assert not ada.late and jurgen.late and ada.scheme == "canvas"
    assert jurgen.other_attempts == (f"{path}!müllerjürgen_late_102_9002_My Sheet 3.py",)
    assert hessian_score(jurgen, plan) == 10  # the -1 file, uploaded last, is graded
    assert john.problem and "text entry" in john.problem and "_text.html" in john.problem
    assert hessian_score(john, plan) == 0  # graded 0 with the reason, never dropped


def test_a_moodle_zip_with_submission_folders(tmp_path: Path, plan) -> None:
    path = make_zip(
        tmp_path / "moodle.zip",
        {
            "José Müller_4242_assignsubmission_file_/sheet3.py": RIGHT,
            "José Müller_4242_assignsubmission_file_/data/notes.txt": b"notes",
            "Ada Lovelace_17_assignsubmission_file_/Sheet 3 (1).ipynb": _notebook(HALF),
            "Ada Lovelace_17_assignsubmission_onlinetext_/onlinetext.html": b"<p>hi</p>",
        },
    )
    submissions, [naming] = found([path])
    assert naming.scheme == "moodle" and not naming.unnamed
    assert sorted(submissions) == ["17", "4242"]
    jose, ada = submissions["4242"], submissions["17"]
    assert (jose.display_name, ada.display_name) == ("José Müller", "Ada Lovelace")
    assert hessian_score(jose, plan) == 10 and hessian_score(ada, plan) == 0
    assert ada.problem is None and ada.other_attempts  # the online text is listed, not graded


def test_a_moodle_zip_in_the_flat_variant_and_as_one_wrapped_folder(tmp_path: Path, plan) -> None:
    path = make_zip(
        tmp_path / "flat.zip",
        {
            "course-sheet3/José Müller_4242_assignsubmission_file_sheet 3.py": RIGHT,
            "course-sheet3/Ada Lovelace_17_assignsubmission_file_helper.py": b"x = 1\n",
            "course-sheet3/Ada Lovelace_17_assignsubmission_file_sheet3.ipynb": _notebook(RIGHT),
        },
    )
    submissions, [naming] = found([path])
    assert naming.scheme == "moodle"
    assert sorted(submissions) == ["17", "4242"]
    assert hessian_score(submissions["17"], plan) == 10  # the notebook, not the helper module
    assert submissions["17"].other_attempts == (
        f"{path}!course-sheet3/Ada Lovelace_17_assignsubmission_file_helper.py",
    )


def test_a_single_moodle_folder_is_not_unwrapped(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "one.zip", {"Ada Lovelace_17_assignsubmission_file_/a.py": RIGHT})
    submissions, _ = found([path])
    assert list(submissions) == ["17"]


def test_a_blackboard_zip_grades_the_latest_attempt_and_reads_names_from_receipts(
    tmp_path: Path, plan
) -> None:
    receipt = (
        "Name: Zoë Ångström (zang01)\nAssignment: Sheet 3\n"
        "Date Submitted: Friday, 20 November 2026 09:15:00 o'clock GMT\n"
        "Current Grade: Needs Grading\n\nFiles:\n\tOriginal filename: sheet3.py\n"
    ).encode()
    path = make_zip(
        tmp_path / "gradebook_SHEET3.zip",
        {
            "Sheet 3_zang01_attempt_2026-11-20-09-15-00.txt": receipt,
            "Sheet 3_zang01_attempt_2026-11-20-09-15-00_sheet3.py": RIGHT,
            "Sheet 3_zang01_attempt_2026-11-21-18-02-07.txt": receipt,
            "Sheet 3_zang01_attempt_2026-11-21-18-02-07_sheet3.py": HALF,
            "Sheet 3_bwayne_attempt_2026-11-19-10-00-00.txt": b"Name: Bruce Wayne (bwayne)\n",
        },
    )
    submissions, [naming] = found([path])
    assert naming.scheme == "blackboard"
    zoe, bruce = submissions["zang01"], submissions["bwayne"]
    assert zoe.display_name == "Zoë Ångström" and zoe.attempt == "2026-11-21-18-02-07"
    assert hessian_score(zoe, plan) == 0  # the later attempt counts, even when it is worse
    assert zoe.other_attempts == (f"{path}!Sheet 3_zang01_attempt_2026-11-20-09-15-00_sheet3.py",)
    assert bruce.problem and "only the submission receipt" in bruce.problem
    assert bruce.display_name == "Bruce Wayne"


def test_an_extracted_canvas_download_in_a_plain_folder(tmp_path: Path) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "lovelaceada_101_9001_sheet3.py").write_bytes(RIGHT)
    (folder / "babbagecharles_late_102_9002_sheet3.py").write_bytes(RIGHT)
    (folder / "notes for TAs.txt").write_text("grade kindly")
    submissions, [naming] = found([folder])
    assert naming.scheme == "canvas" and naming.unnamed == ("notes for TAs.txt",)
    assert "did not fit" in naming.describe() and "notes for TAs.txt" in naming.describe()
    assert submissions["102"].late
    assert submissions["notes for TAs"].problem  # not dropped: reported as not a submission


def test_unknown_naming_falls_back_to_file_names_and_says_so(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "mixed.zip", {"week3-ada.py": RIGHT, "week3-bob.py": RIGHT})
    submissions, [naming] = found([path])
    assert sorted(submissions) == ["week3-ada", "week3-bob"]
    assert naming.scheme == "files" and "--name-pattern" in naming.describe()
    pattern = lms.compile_pattern(r"week3-(?P<student>[a-z]+)")
    named, [by_pattern] = found([path], pattern)
    assert sorted(named) == ["ada", "bob"] and by_pattern.scheme == "pattern"


def test_a_single_canvas_file_named_on_the_command_line_gets_its_id(tmp_path: Path) -> None:
    path = tmp_path / "lovelaceada_late_101_9001_sheet3.py"
    path.write_bytes(RIGHT)
    [submission] = discover([path])
    assert (submission.student, submission.late) == ("101", True)


def _notebook(code: bytes) -> bytes:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(code.decode())]
    return nbformat.writes(notebook).encode()


# --- roster ---------------------------------------------------------------------------------


def test_a_canvas_gradebook_export_serves_as_a_roster(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        "Student,ID,SIS User ID,SIS Login ID,Section,Sheet 3 (55)\n"
        "    Points Possible,,,,,100\n"
        '"Lovelace, Ada",101,S-1,ada,Mon,\n'
        '"Müller, Jürgen",102,S-2,jm,Tue,\n',
        encoding="utf-8-sig",
    )
    roster = read_roster(path)
    assert [s.id for s in roster.students] == ["101", "102"]
    ada = roster.match("101")
    assert ada and (ada.name, ada.sis_id, ada.login_id, ada.section) == (
        "Lovelace, Ada",
        "S-1",
        "ada",
        "Mon",
    )
    assert ada.given_and_family == ("Ada", "Lovelace")
    assert roster.match("JM") is roster.match("102")  # by login id, case-insensitive


def test_a_moodle_worksheet_serves_as_a_roster_and_reconcile_reports_both_ways(
    tmp_path: Path,
) -> None:
    path = tmp_path / "worksheet.csv"
    path.write_text(
        "Identifier,Full name,Email address,Status\n"
        "Participant 17,Ada Lovelace,ada@uni.example,Submitted\n"
        "Participant 18,Nemo Nobody,nemo@uni.example,No submission\n",
        encoding="utf-8",
    )
    roster = read_roster(path)
    matched = reconcile(roster, ["17", "99"])
    assert list(matched.matched) == ["17"] and matched.unmatched == ("99",)
    assert [s.id for s in matched.missing] == ["18"]
    lines = " ".join(matched.describe(roster))
    assert "Nemo Nobody (18)" in lines and "not on the roster" in lines and "99" in lines


def test_a_roster_without_an_id_column_or_with_duplicates_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("name,email\nAda,ada@x\n")
    with pytest.raises(RosterError, match="no id column"):
        read_roster(path)
    path.write_text("id,name\n1,Ada\n1,Bob\n")
    with pytest.raises(RosterError, match="more than once"):
        read_roster(path)
    with pytest.raises(RosterError, match="no such roster"):
        read_roster(tmp_path / "missing.csv")


# --- the command line -----------------------------------------------------------------------


def test_grade_a_canvas_zip_with_a_roster_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_zip(
        tmp_path / "canvas.zip",
        {
            "lovelaceada_101_9001_sheet3.py": RIGHT,
            "zzzunknown_late_555_9002_sheet3.py": HALF,
        },
    )
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email\n101,Ada Lovelace,ada@x\n104,Nemo Nobody,nemo@x\n")
    out = tmp_path / "out"
    argv = ["grade", str(path), "--out", str(out), "--roster", str(roster), "--seed", "5"]
    assert main([*argv, "--course", str(ROOT)]) == 0
    err = capsys.readouterr().err
    assert "Canvas user id" in err
    assert "Nemo Nobody (104)" in err and "not on the roster" in err and "555" in err
    results = {r["student"]: r for r in json.loads((out / "results.json").read_text())}
    assert sorted(results) == ["101", "555"]  # the unmatched one is graded, never dropped
    assert all(
        set(r) == {"student", "submission", "score", "max_score", "checks"}
        for r in results.values()
    )  # the contract's keys only; LMS data lives beside
    side = json.loads((out / "submissions.json").read_text())
    late = {s["student"]: s["late"] for s in side["submissions"]}
    assert late == {"101": False, "555": True}
    assert [s["id"] for s in side["roster"]["students"]] == ["101", "104"]


def test_grade_refuses_a_bad_name_pattern_or_roster_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.py").write_bytes(RIGHT)
    out = str(tmp_path / "out")
    assert main(["grade", str(tmp_path), "--out", out, "--name-pattern", "(?P<x>a)"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "student" in err
    assert main(["grade", str(tmp_path), "--out", out, "--roster", str(tmp_path / "no.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no.csv" in err
