"""Which assignment a command is about, when nobody says: the bundle beside the submission,
then the graded folder's grading.json, then a course holding a single rubric; ``--assignment``
only where that is ambiguous, and a graded folder remembers its course."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from grader.cli import main
from grader.infer import AmbiguousAssignment, infer_assignment
from grader.publish import graded_assignment


def course_with(tmp_path: Path, *names: str) -> Path:
    """A course whose rubrics are sheet3's under other names (``assignment:`` renamed)."""
    course = tmp_path / "course"
    (course / "rubrics").mkdir(parents=True)
    shutil.copytree(ROOT / "reference", course / "reference")
    text = (ROOT / "rubrics" / "sheet3.yaml").read_text(encoding="utf-8")
    for name in names:
        renamed = text.replace("assignment: sheet3", f"assignment: {name}")
        (course / "rubrics" / f"{name}.yaml").write_text(renamed, encoding="utf-8")
    return course


def test_a_course_with_one_rubric_needs_no_assignment(tmp_path: Path) -> None:
    course = course_with(tmp_path, "only")
    assert infer_assignment(course=course) == "only"
    assert infer_assignment("given", course=course) == "given"  # an explicit name wins


def test_two_rubrics_are_ambiguous_and_the_error_lists_them(tmp_path: Path) -> None:
    course = course_with(tmp_path, "sheet5", "sheet6")
    with pytest.raises(AmbiguousAssignment, match="sheet5, sheet6; pass --assignment NAME"):
        infer_assignment(course=course)


def test_the_cli_says_so_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    course = course_with(tmp_path, "sheet5", "sheet6")
    submission = shutil.copy(ROOT / "submissions" / "alice.ipynb", tmp_path / "alice.ipynb")
    argv = ["grade", str(submission), "--out", str(tmp_path / "out"), "--course", str(course)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sheet5, sheet6" in err and "--assignment" in err
    assert not (tmp_path / "out" / "results.json").exists()


def test_the_bundle_beside_the_submission_names_it(tmp_path: Path) -> None:
    course = course_with(tmp_path, "sheet5", "sheet6")  # ambiguous on its own
    folder = tmp_path / "handout"
    folder.mkdir()
    (folder / "sheet6.public.json").write_text("{}")
    submission = folder / "mine.ipynb"
    assert infer_assignment(submission=submission, course=course) == "sheet6"
    (folder / "sheet5.public.json").write_text("{}")  # two bundles: the notebook's name says
    assert infer_assignment(submission=folder / "sheet5.ipynb", course=course) == "sheet5"
    with pytest.raises(AmbiguousAssignment, match="sheet5, sheet6"):
        infer_assignment(submission=submission, course=course)


def test_check_finds_the_assignment_from_the_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A student's folder as `grader release` hands it out: no --assignment, no course."""
    assert main(["release", "sheet3", "--out", str(tmp_path), "--no-wheel"]) == 0
    submission = shutil.copy(ROOT / "submissions" / "alice.ipynb", tmp_path / "alice.ipynb")
    capsys.readouterr()
    assert main(["check", str(submission), "--course", str(course_with(tmp_path, "a", "b"))]) == 0
    assert "8 of 8 checks pass" in capsys.readouterr().out


def test_grading_json_names_the_assignment_and_the_course(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`grader manual` and `grader review` read a graded folder with no --course: the course
    is the one grading.json records, even run from elsewhere."""
    course = course_with(tmp_path, "sheetx", "sheety")
    out = tmp_path / "out"
    out.mkdir()
    (out / "grading.json").write_text(
        json.dumps({"assignment": "sheetx", "course": str(course), "hidden_seed": 1})
    )
    monkeypatch.chdir(tmp_path)
    assert infer_assignment(out=out, course=course) == "sheetx"
    spec = graded_assignment(out)
    assert spec.name == "sheetx" and spec.course == course.resolve()


def test_an_old_grading_json_without_a_course_still_reads(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "grading.json").write_text(json.dumps({"assignment": "sheet3", "hidden_seed": 1}))
    assert graded_assignment(out, ROOT).name == "sheet3"
