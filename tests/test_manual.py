"""Manual grades and overrides: what an instructor enters is kept in the gradebook, survives
every regrade, and reaches results.json, the summary, the student's whole report and the
exports alike."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import ROOT

from grader.cli import main
from grader.load.discover import UsageError
from grader.publish import clear_override, graded_assignment, record_override

EXAMPLES = ("alice", "bob", "carol", "dave")  # an even class; carol's report has a chart


@pytest.fixture(scope="module")
def graded_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("manual")
    (root / "class").mkdir()
    for name in EXAMPLES:
        shutil.copy(ROOT / "submissions" / f"{name}.ipynb", root / "class")
    assert grade(root / "class", root / "out") == 0
    return root


@pytest.fixture
def out(graded_once: Path, tmp_path: Path) -> Path:
    """A fresh copy of the graded folder (and its class), for a test to change."""
    shutil.copytree(graded_once, tmp_path / "copy")
    return tmp_path / "copy" / "out"


def grade(folder: Path, out: Path, *extra: str) -> int:
    argv = ["grade", str(folder), "--out", str(out), "--seed", "3", "--course", str(ROOT)]
    return main([*argv, *extra])


def results_of(out: Path) -> dict[str, dict]:
    return {r["student"]: r for r in json.loads((out / "results.json").read_text())}


def check_of(out: Path, student: str, check: str) -> dict:
    return {c["id"]: c for c in results_of(out)[student]["checks"]}[check]


def report(out: Path, student: str) -> str:
    return (out / "reports" / f"{student}.html").read_text(encoding="utf-8")


def manual(out: Path, *argv: str) -> int:
    return main(["manual", str(out), *argv])


def what_a_report_shows(page: str) -> tuple[int, int, int]:
    return (
        page.count("<svg"),
        page.count("What your code printed"),
        page.count('class="answer-label"'),
    )


# --- 8. grader manual republishes the whole report -------------------------------------------


def test_grader_manual_republishes_the_whole_report(out: Path) -> None:
    """The printed output, the charts and every written answer, the graded one included."""
    before = what_a_report_shows(report(out, "carol"))
    assert before[0] >= 1 and before[1] == 1 and before[2] == 3
    argv = ["--student", "carol", "--check", "2a.proof", "--score", "7", "--comment", "Neat."]
    assert manual(out, *argv) == 0
    page = report(out, "carol")
    assert what_a_report_shows(page) == before
    assert "Neat." in page and (out / "reports" / "carol.md").read_text().count("Neat.") == 1


# --- 9. --regrade keeps every manual grade ---------------------------------------------------


def test_regrade_keeps_manual_grades_in_results_summary_and_reports(out: Path) -> None:
    argv = ["--student", "bob", "--check", "1b.derivation", "--score", "5", "--comment", "Close."]
    assert manual(out, *argv) == 0
    assert grade(out.parent / "class", out, "--regrade") == 0
    derivation = check_of(out, "bob", "1b.derivation")
    assert (derivation["score"], derivation["feedback"]) == (5.0, "Close.")
    assert "Close." in report(out, "bob") and "Close." in (out / "reports" / "bob.md").read_text()
    summary = (out / "reports" / "summary.html").read_text()
    assert f"<strong>{results_of(out)['bob']['score']:g}</strong>" in summary


def test_the_reports_grading_writes_are_the_ones_the_gradebook_gives_back(
    out: Path, tmp_path: Path
) -> None:
    """A regrade writes each report from the fresh result with the stored manual grades and
    overrides applied, not decoded again: byte for byte what the stored result renders."""
    from grader.gradebook import Gradebook
    from grader.publish import write_report

    assert manual(out, "--student", "bob", "--check", "1b.derivation", "--score", "5") == 0
    argv = ["--student", "carol", "--check", "1a.hessian", "--score", "4", "--override"]
    assert manual(out, *argv, "--reason", "By hand.") == 0
    assert grade(out.parent / "class", out, "--regrade") == 0
    spec = graded_assignment(out, ROOT)
    book = Gradebook(out / "gradebook.sqlite")
    try:
        for student in EXAMPLES:
            stored = book.result(spec.name, student)
            assert stored is not None
            for written in write_report(stored, spec, tmp_path):
                assert (out / "reports" / written.name).read_bytes() == written.read_bytes()
    finally:
        book.close()
    assert "By hand." in report(out, "carol")


# --- 10. overrides ---------------------------------------------------------------------------


def test_an_override_is_kept_shown_survives_regrades_and_is_exported(out: Path) -> None:
    before = check_of(out, "bob", "1a.hessian")
    argv = ["--student", "bob", "--check", "1a.hessian", "--score", "4", "--override"]
    assert manual(out, *argv, "--reason", "Hard-coded the test matrix.", "--grader", "TA") == 0
    after = check_of(out, "bob", "1a.hessian")
    assert after["score"] == 4.0 and after["status"] == before["status"]  # the check's verdict
    assert after["override"] == {
        "original_score": before["score"],
        "reason": "Hard-coded the test matrix.",
        "by": "TA",
    }
    total = results_of(out)["bob"]["score"]
    for page in (report(out, "bob"), (out / "reports" / "bob.md").read_text()):
        assert "overridden" in page and "Hard-coded the test matrix." in page
    summary = (out / "reports" / "summary.html").read_text()
    assert "Hard-coded the test matrix." in summary and "overridden" in summary
    assert grade(out.parent / "class", out, "--regrade") == 0
    assert check_of(out, "bob", "1a.hessian")["score"] == 4.0  # survives the regrade
    assert "Hard-coded the test matrix." in report(out, "bob")
    target = out.parent / "grades.csv"
    assert main(["export", str(out), "--format", "csv", "-o", str(target)]) == 0
    line = next(r for r in target.read_text().splitlines() if r.startswith("bob,"))
    assert ",4," in line  # the 1a.hessian cell: exported like any score
    assert manual(out, "--student", "bob", "--check", "1a.hessian", "--clear-override") == 0
    cleared = check_of(out, "bob", "1a.hessian")
    assert cleared["score"] == before["score"] and "override" not in cleared
    assert results_of(out)["bob"]["score"] == round(total - 4.0 + before["score"], 6)


@pytest.mark.parametrize(
    ("student", "check", "score", "reason", "words"),
    [
        ("nobody", "1a.hessian", 1.0, "why", "nobody"),
        ("bob", "9z.nothing", 1.0, "why", "not a check"),
        ("bob", "2a.proof", 1.0, "why", "manual item"),
        ("bob", "1a.hessian", 11.0, "why", "between 0 and 10"),
        ("bob", "1a.hessian", -1.0, "why", "between 0 and 10"),
        ("bob", "1a.hessian", 5.0, "  ", "reason"),
    ],
)
def test_a_wrong_override_is_refused_and_nothing_is_stored(
    out: Path, student: str, check: str, score: float, reason: str, words: str
) -> None:
    spec = graded_assignment(out, str(ROOT))
    with pytest.raises(UsageError, match=words):
        record_override(out, spec, student, check, score, reason)
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM overrides").fetchone() == (0,)
    if student == "bob" and check == "2a.proof":
        with pytest.raises(UsageError, match="manual item"):
            clear_override(out, spec, student, check)


def test_the_override_cli_refuses_mixed_flags_in_one_line(
    out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--student", "bob", "--check", "1a.hessian"]
    assert manual(out, *base, "--score", "3", "--override") == 2  # no reason
    assert manual(out, *base, "--clear-override", "--score", "3") == 2
    assert manual(out, *base, "--score", "3", "--reason", "x") == 2  # reason without override
    err = capsys.readouterr().err
    assert err.count("\n") == 3 and "reason" in err


# --- 12. the terminal's median ---------------------------------------------------------------


def test_the_terminal_median_of_an_even_class_is_the_mean_of_the_middle_two(
    graded_once: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scores = sorted(r["score"] for r in results_of(graded_once / "out").values())
    assert len(scores) == 4 and scores[1] != scores[2]
    assert grade(graded_once / "class", tmp_path / "again") == 0
    err = " ".join(capsys.readouterr().err.split())
    assert f"median {(scores[1] + scores[2]) / 2:g}," in err
