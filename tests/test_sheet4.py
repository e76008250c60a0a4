"""The second assignment (the course examples/sheet4: its rubric and reference), written with
the authoring guide alone: graded and self-checked on the submissions in
examples/sheet4/submissions/, with statistical checks that are not Normal (a Bernoulli mask,
categorical labels) and a comparator of the course's own.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pytest
from conftest import ROOT, by_id
from rich.console import Console

from grader import Notebook
from grader.assignment import Assignment, load_assignment
from grader.bundle import write_bundle
from grader.commands import check as check_command
from grader.grading import Plan, grade_submission, grading_plan
from grader.load.discover import read_submission

COURSE = ROOT / "examples" / "sheet4"  # a course folder of its own
FIXTURES = COURSE / "submissions"
AUTOMATIC = 38  # of the rubric's 42: 4 are a written answer

# fixture -> (check id -> (status, the known mistake named on its cases, or None))
EXPECTED = {
    "correct": {},
    "not_rescaled": {
        "3a.dropout_mask": ("failed", "the mask not rescaled"),
        "4.sample_labels": ("failed", "every class equally likely"),
    },
    "swapped": {
        "1.softmax_grad": ("failed", "a sum instead of a mean"),
        "3a.dropout_mask": ("failed", "keep and drop swapped"),
        "4.sample_labels": ("failed", "labels counted from 1"),
    },
    "unstable": {"2b.logsumexp_stable": ("failed", "exp overflowing")},
    "shared_mask": {"3a.dropout_mask": ("failed", None), "4.sample_labels": ("failed", None)},
}


@pytest.fixture(scope="module")
def sheet4() -> Assignment:
    return load_assignment("sheet4", COURSE)


@pytest.fixture(scope="module")
def plan(sheet4: Assignment) -> Plan:
    return grading_plan(sheet4, hidden_seed=20261202)


@pytest.fixture(scope="module")
def bundle(sheet4: Assignment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bundle(sheet4, tmp_path_factory.mktemp("bundle") / "sheet4.public.json")


def _functions(name: str) -> dict:
    spec = importlib.util.spec_from_file_location(f"sheet4_{name}", FIXTURES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_submission_is_graded_with_its_mistakes_named(plan: Plan, name: str) -> None:
    result = grade_submission(read_submission(FIXTURES / f"{name}.py"), plan)
    checks = by_id(result)
    wrong = EXPECTED[name]
    for check_id, check in checks.items():
        if check.status == "manual":
            continue
        if check_id not in wrong:
            assert check.status == "passed", (check_id, check.feedback)
            assert check.score == check.max_score
            continue
        status, mistake = wrong[check_id]
        assert check.status == status and check.score == 0, check.feedback
        assert {case.mistake for case in check.cases} == {mistake}, check.feedback
        if mistake:
            spec = next(spec for spec in plan.checks if spec.id == check_id)
            message = next(m.message for m in spec.mistakes if m.name == mistake)
            assert f"known mistake, {mistake}: {message}" in check.feedback
    lost = sum(checks[c].max_score for c in wrong)
    assert sum(c.score for c in checks.values()) == AUTOMATIC - lost


def test_a_shared_mask_is_caught_by_the_exact_independence_test(plan: Plan) -> None:
    result = grade_submission(read_submission(FIXTURES / "shared_mask.py"), plan)
    feedback = by_id(result)["3a.dropout_mask"].feedback
    assert "independence along columns" in feedback or "independence between calls" in feedback


def test_the_self_check_shows_the_check_it_cannot_run(bundle: Path) -> None:
    """The reference comparator's check is shown as graded after submission, with its points,
    and they are not counted among the points that passed."""
    nb = Notebook(bundle)
    checked = nb.check_all(_functions("correct"))
    assert checked["2b.logsumexp_stable"].status == "pending"
    assert "Graded after you submit: 6 points" in checked["2b.logsumexp_stable"].feedback
    assert checked.passed and checked.score == checked.max_score == AUTOMATIC - 6
    text = str(checked)
    assert "4 of 4 checks pass on the public cases (32/32 points)" in text
    assert "(2b.logsumexp_stable) cannot run here: graded after you submit: 6 points" in text
    assert "graded after you submit: 6 points" in checked._repr_html_()


@pytest.mark.parametrize("name", ["not_rescaled", "swapped"])
@pytest.mark.parametrize("check_id", ["3a.dropout_mask", "4.sample_labels"])
def test_the_self_check_names_the_distribution_mistakes(
    bundle: Path, name: str, check_id: str
) -> None:
    checked = Notebook(bundle).check_all(_functions(name))
    check = checked[check_id]
    assert check.status == "failed"
    assert {c.mistake for c in check.cases} == {EXPECTED[name][check_id][1]}
    assert not checked.passed


def test_grader_check_on_a_file_shows_every_automatic_check(bundle: Path) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    code = check_command.main(
        submission=FIXTURES / "unstable.py", assignment="sheet4", bundle=bundle, console=console
    )
    text = out.getvalue()
    assert code == 0  # the one wrong function is in the check no self-check can run
    assert "2b.logsumexp_stable" in text and "pending" in text and "–/6" in text
    assert "graded after you submit: 6 points" in text
    out.truncate(0)
    assert (
        check_command.main(
            submission=FIXTURES / "swapped.py", assignment="sheet4", bundle=bundle, console=console
        )
        == 1
    )
    assert "keep and drop swapped" in out.getvalue()


def test_no_line_of_the_engine_names_the_assignment() -> None:
    for path in (ROOT / "grader").rglob("*"):
        if path.is_file() and path.suffix in (".py", ".j2", ".html", ".md", ".json"):
            assert "sheet4" not in path.read_text(encoding="utf-8"), path


def test_the_handout_readme_names_the_checks_run_only_after_submission(bundle: Path) -> None:
    from grader.bundle import read_bundle
    from grader.handout import student_readme

    text = student_readme(read_bundle(bundle), "", None, bundle.name)
    assert "`2b.logsumexp_stable` (6)" in text and "pending" in text
    assert "`1.softmax_grad`" not in text.split("run only after you submit")[1].split("\n")[0]
