"""``grader gradescope``: the same rubric inside a Gradescope autograder, writing results.json
as Gradescope's "Autograder Specifications" define it."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

from grader.cli import main
from grader.export.graded import CheckInfo, GradedEntry, Origin
from grader.export.gradescope import results
from grader.model import CheckResult, SubmissionResult

TOP_KEYS = {"score", "output", "tests", "extra_data"}
TEST_KEYS = {"name", "number", "score", "max_score", "status", "output", "visibility"}
HESSIAN = "import numpy as np\n\ndef hessian(X):\n    return X.T @ X / X.shape[0]\n"


def run(tmp_path: Path, files: dict[str, str], *extra: str) -> tuple[int, dict]:
    submission = tmp_path / "autograder" / "submission"
    submission.mkdir(parents=True)
    for name, text in files.items():
        (submission / name).write_text(text)
    target = tmp_path / "autograder" / "results" / "results.json"
    argv = ["gradescope", "--submission", str(submission), "--results", str(target)]
    code = main([*argv, "--course", str(ROOT), "--seed", "3", *extra])
    return code, json.loads(target.read_text())


def test_a_submission_is_graded_into_gradescope_results(tmp_path: Path) -> None:
    code, data = run(tmp_path, {"sheet3.py": HESSIAN, "README.md": "my notes"})
    assert code == 0
    assert set(data) <= TOP_KEYS and {"score", "tests", "output"} <= set(data)
    tests = {t["number"]: t for t in data["tests"]}
    assert len(tests) == 11  # every check of the rubric, manual ones included
    hessian = tests["1a.hessian"]
    assert set(hessian) == TEST_KEYS
    assert (hessian["score"], hessian["max_score"], hessian["status"]) == (10.0, 10.0, "passed")
    missing = tests["1b.condition_number"]
    assert (missing["score"], missing["status"]) == (0.0, "failed")
    assert "condition_number" in missing["output"]  # the feedback says what was missing
    proof = tests["2a.proof"]
    assert "score" not in proof and "by hand" in proof["name"]  # pending, never a zero
    assert data["score"] == sum(t.get("score", 0) for t in data["tests"]) == 10.0
    assert "2a.proof (10 pts)" in data["output"]
    assert {t["visibility"] for t in data["tests"]} == {"visible"}


def test_an_unreadable_submission_is_graded_zero_with_the_reason(tmp_path: Path) -> None:
    code, data = run(tmp_path, {"a.py": HESSIAN, "b.py": HESSIAN})
    assert code == 0
    assert data["score"] == 0.0 and "exactly one" in data["output"]


def test_a_missing_submission_folder_still_writes_results(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    argv = ["gradescope", "--submission", str(tmp_path / "none"), "--results", str(target)]
    assert main([*argv, "--course", str(ROOT)]) == 0
    data = json.loads(target.read_text())
    assert data["score"] == 0.0 and "nothing was submitted" in data["output"]


def test_a_misconfigured_autograder_tells_the_student_to_tell_the_instructor(
    tmp_path: Path,
) -> None:
    code, data = run(tmp_path, {"sheet3.py": HESSIAN}, "--assignment", "sheet99")
    assert code == 1
    assert data["score"] == 0.0 and data["tests"] == [] and "instructor" in data["output"]


def test_hidden_checks_are_hidden_until_published() -> None:
    checks = (
        CheckResult("pub", "passed", 2.0, 2.0, "fine"),
        CheckResult("sec", "failed", 0.5, 3.0, "hidden cases: 1 of 6 passed"),
    )
    entry = GradedEntry("s1", SubmissionResult("s1", "x.py", checks), origin=Origin())
    data = results(entry, (CheckInfo("pub", 2.0, "Public"), CheckInfo("sec", 3.0, hidden=True)))
    visibility = {t["number"]: t["visibility"] for t in data["tests"]}
    assert visibility == {"pub": "visible", "sec": "after_published"}
    assert data["score"] == 2.5


@pytest.mark.parametrize("path", ["setup.sh", "run_autograder"])
def test_the_readme_documents_the_gradescope_scripts(path: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## LMS round trips") :]
    assert path in section and "grader gradescope" in section


def test_the_autograder_zip_runs_as_gradescope_runs_it(tmp_path: Path) -> None:
    """Gradescope "Autograder Specifications": setup.sh and run_autograder at the zip's root,
    unpacked into /autograder/source; run_autograder grades /autograder/submission into
    /autograder/results/results.json. Here the layout lives under a temporary AUTOGRADER_ROOT."""
    target = tmp_path / "autograder.zip"
    assert main(["gradescope", "--build", str(target), "--course", str(ROOT), "--seed", "7"]) == 0
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        root = tmp_path / "autograder"
        archive.extractall(root / "source")
    assert {"setup.sh", "run_autograder", "pyproject.toml"} <= set(names)
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert "rubrics/sheet3.yaml" in names and "reference/sheet3.py" in names
    assert not [n for n in names if n.split("/")[0] in ("tests", "bench", "submissions")]
    assert not [n for n in names if "__pycache__" in n or n.endswith("_master.ipynb")]
    (root / "submission").mkdir()
    (root / "submission" / "sheet3.py").write_text(HESSIAN)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the zip's own grader
    done = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env={**env, "AUTOGRADER_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    tests = {t["number"]: t for t in data["tests"]}
    assert tests["1a.hessian"]["status"] == "passed" and data["score"] == 10.0
    assert "--seed 7" in (root / "source" / "run_autograder").read_text()
