"""End to end: the commands as instructors and students type them, on the bundled examples."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.cli import main
from tests.conftest import ROOT

CONTRACT_IDS = [
    "1a.hessian",
    "1a.hessian_gaussian",
    "1b.condition_number",
    "1b.derivation",
    "1c.center",
    "1c.centered_min_error",
    "1c.explanation",
    "2a.he_init",
    "2a.preactivation_variances",
    "2a.proof",
    "2b.tanh_init",
]
STATUSES = {"passed", "failed", "error", "timeout", "missing", "manual"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's first command, run once for the module."""
    out = tmp_path_factory.mktemp("out")
    assert main(["grade", str(ROOT / "submissions"), "--out", str(out), "--seed", "7"]) == 0
    return out


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release")
    args = ["release", "sheet3", "--out", str(out), "--course", str(ROOT), "--no-wheel"]
    assert main(args) == 0  # the wheel is tested in test_release.py
    return out


def test_grade_writes_results_per_the_contract(graded: Path) -> None:
    results = json.loads((graded / "results.json").read_text())
    examples = sorted(p for p in (ROOT / "submissions").iterdir() if not p.name.startswith("."))
    assert len(results) == len(examples)
    for entry in results:
        assert set(entry) == {"student", "submission", "score", "max_score", "checks"}
        assert [c["id"] for c in entry["checks"]] == CONTRACT_IDS
        assert entry["max_score"] == 100.0
        assert entry["score"] == pytest.approx(sum(c["score"] for c in entry["checks"]))
        for check in entry["checks"]:
            assert set(check) == {"id", "status", "score", "max_score", "feedback"}
            assert check["status"] in STATUSES
            assert 0 <= check["score"] <= check["max_score"]
            assert check["feedback"]


def test_grade_scores_the_examples_as_their_authors_meant(graded: Path) -> None:
    results = {r["student"]: r for r in json.loads((graded / "results.json").read_text())}
    assert results["alice"]["score"] == 76.0  # everything automatic right; 24 manual points wait
    assert results["erin"]["score"] == 76.0  # loops, einsum, lists, np.random: all correct styles
    bob = {c["id"]: c for c in results["bob"]["checks"]}
    assert bob["1a.hessian"]["status"] == "failed"
    assert "½ factor" in bob["1a.hessian"]["feedback"]  # the seed's mistake, named
    manual = [c for r in results.values() for c in r["checks"] if c["id"] == "2a.proof"]
    assert {c["status"] for c in manual} == {"manual"}


def test_grade_writes_a_report_per_student_and_a_summary(graded: Path) -> None:
    results = json.loads((graded / "results.json").read_text())
    for entry in results:
        html = (graded / "reports" / f"{entry['student']}.html").read_text()
        assert "1a.hessian" in html
        for remote in ('src="http', 'href="http', "url(http", "@import", "<script src"):
            assert remote not in html  # self-contained: nothing fetched from a network
        assert (graded / "reports" / f"{entry['student']}.md").exists()
    assert (graded / "reports" / "summary.html").exists()


def test_grade_records_the_hidden_seed_and_reuses_it(graded: Path) -> None:
    record = json.loads((graded / "grading.json").read_text())
    assert record["hidden_seed"] == 7 and record["assignment"] == "sheet3"
    assert record["course"] == str(ROOT)  # so `grader manual` and `review` need no --course


def test_check_passes_a_correct_notebook(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(ROOT / "submissions" / "alice.ipynb")]) == 0
    assert "8 of 8 checks pass" in capsys.readouterr().out


def test_check_fails_and_names_the_seed_mistake(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(ROOT / "submissions" / "bob.ipynb")]) == 1
    assert "½ factor" in capsys.readouterr().out


def test_release_writes_a_stub_notebook_that_checks_cleanly(
    released: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook = released / "sheet3.ipynb"
    assert main(["check", str(notebook), "--bundle", str(released / "sheet3.public.json")]) == 1
    out = capsys.readouterr().out
    assert "Traceback" not in out
    assert out.count("NotImplementedError") >= 8  # every function reports its stub, cleanly
    text = notebook.read_text()
    assert "BEGIN SOLUTION" not in text and "X.T @ X" not in text


def test_release_bundle_holds_no_reference_code_and_no_hidden_case(released: Path, sheet3) -> None:
    bundle = json.loads((released / "sheet3.public.json").read_text())
    assert {c["visibility"] for c in bundle["cases"]} == {"public"}
    text = (released / "sheet3.public.json").read_text()
    assert "def " not in text and "import " not in text  # no code at all
    reference = sheet3.reference
    own_names = [
        name
        for name in dir(reference)
        if callable(getattr(reference, name))
        and getattr(getattr(reference, name), "__module__", "") == reference.__name__
    ]
    student_functions = {spec.function for spec in sheet3.checks}
    private = [name for name in own_names if name not in student_functions]
    assert private and not [name for name in private if f'"{name}' in text]
    public_counts = {}
    for spec in sheet3.checks:
        public_counts[spec.id] = sum(s.count for s in spec.cases if s.visibility == "public")
    for check_id, count in public_counts.items():
        assert sum(c["check_id"] == check_id for c in bundle["cases"]) == count


def test_check_works_from_a_student_folder_without_the_course(
    released: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A student has the notebook and the bundle, nothing else: no rubric, no reference."""
    for name in ("sheet3.ipynb", "sheet3.public.json"):
        shutil.copy(released / name, tmp_path / name)
    shutil.copy(ROOT / "submissions" / "alice.ipynb", tmp_path / "mine.ipynb")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GRADER_COURSE", str(tmp_path))  # no rubrics/ here
    assert main(["check", "mine.ipynb"]) == 0


def test_wrong_usage_and_missing_paths_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grade", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["grade"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["check", str(tmp_path / "missing.ipynb")]) == 2


def test_a_broken_file_is_graded_not_fatal(tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "zed.ipynb").write_text("{ not json")
    shutil.copy(ROOT / "submissions" / "alice.ipynb", folder / "alice.ipynb")
    out = tmp_path / "out"
    assert main(["grade", str(folder), "--out", str(out), "--seed", "1"]) == 0
    results = {r["student"]: r for r in json.loads((out / "results.json").read_text())}
    assert results["alice"]["score"] == 76.0
    assert results["zed"]["score"] == 0.0
    assert all("zed.ipynb" in c["feedback"] for c in results["zed"]["checks"])


def test_the_installed_console_script_runs() -> None:
    """`grader` on PATH and `python -m grader` are the same program."""
    for command in (["grader", "--version"], [sys.executable, "-m", "grader", "--version"]):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 0 and "grader" in done.stdout


def test_master_notebook_scores_full_automatic_marks(tmp_path: Path, plan) -> None:
    """The instructor's master notebook and the reference module agree."""
    from grader.grading import grade_submission
    from grader.load.discover import read_submission

    master = ROOT / "reference" / "sheet3_master.ipynb"
    nbformat.validate(nbformat.read(master, as_version=4))
    result = grade_submission(read_submission(master), plan)
    assert result.score == 76.0
    assert {c.id for c in result.checks if c.answer} == {
        "1b.derivation",
        "1c.explanation",
        "2a.proof",
    }
