"""Errors for people (issue 9, item 14): one line naming the file and the fix, exit 2, never a
traceback, and course mistakes found before any submission is graded."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.cli import main
from grader.errors import UserError

HOSTILE = Path(__file__).parent / "hostile"


@pytest.fixture
def course(tmp_path: Path) -> Path:
    shutil.copytree(HOSTILE / "course", tmp_path / "course")
    return tmp_path / "course"


@pytest.fixture
def submissions(tmp_path: Path) -> Path:
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(HOSTILE / "submissions" / "good.py", folder / "good.py")
    return folder


def _grade(course: Path, paths: list[Path], out: Path, *extra: str) -> list[str]:
    argv = ["grade", *map(str, paths), "--out", str(out), "--assignment", "hostile"]
    return [*argv, "--course", str(course), "--sandbox", "process", "--seed", "5", *extra]


def _one_line_error(capsys: pytest.CaptureFixture[str], code: int) -> str:
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    [line] = [line for line in err.splitlines() if line.startswith("grader: error:")]
    return line


def test_every_error_for_people_shares_one_base_class() -> None:
    from grader.assignment import RubricError
    from grader.gradebook import GradebookError
    from grader.load.discover import UsageError
    from grader.load.lms import NamePatternError
    from grader.master import MasterError
    from grader.run.sandbox import SandboxError

    for error in (MasterError, RubricError, GradebookError, UsageError, NamePatternError):
        assert issubclass(error, UserError)
    assert issubclass(SandboxError, UserError)


def test_out_pointing_at_a_file(course, submissions, tmp_path, capsys) -> None:
    out = tmp_path / "results.txt"
    out.write_text("mine")
    line = _one_line_error(capsys, main(_grade(course, [submissions], out)))
    assert str(out) in line and "must be a folder" in line
    assert out.read_text() == "mine"


def test_export_o_pointing_at_a_folder_leaves_no_temporary_file(
    course, submissions, tmp_path, capsys
) -> None:
    out = tmp_path / "out"
    assert main(_grade(course, [submissions], out)) == 0
    target = tmp_path / "exports"
    target.mkdir()
    capsys.readouterr()
    line = _one_line_error(capsys, main(["export", str(out), "--format", "csv", "-o", str(target)]))
    assert str(target) in line and "give a file's path" in line
    assert list(target.iterdir()) == [] and not list(tmp_path.glob(".exports*"))


def test_a_corrupt_gradebook(course, submissions, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "gradebook.sqlite").write_bytes(b"this is not a database" * 100)
    line = _one_line_error(capsys, main(_grade(course, [submissions], out)))
    assert str(out / "gradebook.sqlite") in line and "move it away" in line


def test_an_empty_folder_is_nothing_to_grade(course, tmp_path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    line = _one_line_error(capsys, main(_grade(course, [empty], tmp_path / "out")))
    assert str(empty) in line and "no submission found" in line


def test_a_template_typo_stops_a_batch_with_workers_before_any_result_is_kept(
    course, submissions, tmp_path, capsys
):
    """The workers start, and get their first submissions, before the templates are checked:
    a broken one still stops the batch with nothing kept, no report, and no worker left."""
    for number in range(8):
        shutil.copy(submissions / "good.py", submissions / f"good{number}.py")
    (course / "templates").mkdir()
    (course / "templates" / "report.md.j2").write_text("# {{ r.title }}\n\n{{ r.scroe }}\n")
    out = tmp_path / "out"
    line = _one_line_error(capsys, main(_grade(course, [submissions], out, "--workers", "2")))
    assert f"{course / 'templates' / 'report.md.j2'}:3" in line and "scroe" in line
    assert not (out / "results.json").exists() and not (out / "reports").exists()
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM check_results").fetchone() == (0,)
    assert not multiprocessing.active_children()


def test_a_template_typo_is_found_before_any_grading(course, submissions, tmp_path, capsys):
    (course / "templates").mkdir()
    (course / "templates" / "report.md.j2").write_text("# {{ r.title }}\n\n{{ r.scroe }}\n")
    out = tmp_path / "out"
    line = _one_line_error(capsys, main(_grade(course, [submissions], out)))
    assert f"{course / 'templates' / 'report.md.j2'}:3" in line and "scroe" in line
    assert "fix the template" in line
    assert not (out / "results.json").exists() and not (out / "reports").exists()

    (course / "templates" / "report.md.j2").write_text("{% if r.title %}\n")  # unclosed block
    line = _one_line_error(capsys, main(_grade(course, [submissions], out)))
    assert str(course / "templates" / "report.md.j2") in line and "fix the template" in line


def test_a_case_generator_returning_the_wrong_type(course, submissions, tmp_path, capsys):
    reference = course / "reference" / "hostile.py"
    reference.write_text(
        reference.read_text().replace(
            "return (rng.normal(size=(4, 3)), rng.normal(size=(4, 3)))",
            "return [rng.normal(size=(4, 3)), rng.normal(size=(4, 3))]",
        )
    )
    out = tmp_path / "out"
    line = _one_line_error(capsys, main(_grade(course, [submissions], out)))
    assert str(reference) in line and "pair_cases must return a tuple" in line
    assert not (out / "results.json").exists()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_says_how_many_were_graded_and_a_rerun_continues(course, tmp_path, workers):
    """SIGINT to the grader's process group (its workers too), as a terminal's Ctrl-C sends it."""
    folder = tmp_path / "slow"
    folder.mkdir()
    slow = (
        (HOSTILE / "submissions" / "good.py")
        .read_text()
        .replace("def add(a, b):\n", "def add(a, b):\n    import time\n    time.sleep(0.4)\n")
    )
    for number in range(12):
        (folder / f"s{number:02d}.py").write_text(slow)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", *_grade(course, [folder], out, "--workers", workers)]
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, start_new_session=True, env=env
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "reports").glob("*.md"))) < 2:
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2, err
    assert "Traceback" not in err
    [line] = [line for line in err.splitlines() if line.startswith("grader: error:")]
    graded = int(line.split("interrupted: ")[1].split()[0])
    assert 2 <= graded < 12 and "run the same command again to grade the rest" in line
    assert not list(tmp_path.glob("grader-*"))  # the workers' scratch went with them

    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"Grading {12 - graded} of 12 submission(s)" in again.stderr
    results = json.loads((out / "results.json").read_text())
    assert [r["score"] for r in results] == [30.0] * 12
