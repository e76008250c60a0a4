"""Expectations as an open family: the rubric's kinds come from the distribution registry,
Bernoulli is a member with exact tests, a course's comparator receives its share of the
false-failure rate, and a mistake can be named by a comparator's verdict alone.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from grader.assignment import COMPARATORS, RubricError, load_assignment
from grader.bundle import _decode, _encode
from grader.check.cases import build_cases
from grader.check.stats import DISTRIBUTIONS, Bernoulli, Uniform, distribution_from_json
from grader.grading import grade_submission, grading_plan
from grader.load.discover import read_submission

KEEP = 0.7
MASK = Bernoulli((60, 120), KEEP, 1 / KEEP)


def correct_mask(rng: np.random.Generator, shape=(60, 120)) -> np.ndarray:
    return (rng.random(shape) < KEEP) / KEEP


def test_the_rubric_kinds_are_the_registry_members() -> None:
    assert COMPARATORS == ("allclose", *DISTRIBUTIONS, "reference")
    assert {"normal", "bernoulli", "uniform"} <= set(DISTRIBUTIONS)


def test_bernoulli_fails_correct_masks_at_most_at_its_level() -> None:
    """At alpha = 0.05, 400 correct masks (seeded) fail at most 0.05 each; counting 40 or more
    failures would happen with probability below 1e-4 under an honest test."""
    rng = np.random.default_rng(13)
    failures = sum(not MASK.test(correct_mask(rng), 0.05).passed for _ in range(400))
    assert failures < 40
    stacked = MASK.stacked(3)
    failures = sum(
        not stacked.test(correct_mask(rng, (3, 60, 120)), 0.05).passed for _ in range(200)
    )
    assert failures < 22  # P(Binomial(200, 0.05) ≥ 22) < 1e-3


@pytest.mark.parametrize(
    ("wrong", "rejected_by"),
    [
        (lambda rng: (rng.random((60, 120)) < KEEP) * 1.0, "values"),  # not rescaled
        (lambda rng: (rng.random((60, 120)) < 1 - KEEP) / KEEP, "share drawn"),  # swapped
        (lambda rng: np.tile(rng.random(120) < KEEP, (60, 1)) / KEEP, "independence along columns"),
        (
            lambda rng: np.repeat(rng.random((60, 60)) < KEEP, 2, axis=1) / KEEP,
            "independence along rows",
        ),
    ],
)
def test_bernoulli_rejects_wrong_masks_by_the_right_test(wrong, rejected_by: str) -> None:
    evidence = MASK.test(wrong(np.random.default_rng(5)), 1e-6)
    assert not evidence.passed and evidence.failed.startswith(rejected_by), evidence.failed


def test_a_fixed_seed_is_caught_between_calls() -> None:
    same = correct_mask(np.random.default_rng(0))
    evidence = MASK.stacked(3).test(np.stack([same] * 3), 1e-6)
    assert evidence.failed == "independence between calls"


def test_bernoulli_mistakes_are_matched_by_the_same_tests() -> None:
    sample = (np.random.default_rng(2).random((60, 120)) < KEEP) * 1.0
    assert Bernoulli((60, 120), KEEP, 1.0).explains(sample, 1e-6)
    assert not MASK.explains(sample, 1e-6)
    assert not Bernoulli((120, 60), KEEP, 1.0).explains(sample, 1e-6)  # shape too


def test_bernoulli_goes_through_the_bundle_as_json() -> None:
    assert distribution_from_json(MASK.to_json()) == MASK
    assert _decode(_encode(MASK)) == MASK
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        Bernoulli((2, 2), 1.0)


# --- a tiny course: a comparator with alpha, verdict-named mistakes -------------------------

REFERENCE = """
import numpy as np
from grader.api import Bernoulli, Rng, Verdict

SEEN = []

def mask(n, rng):
    return (rng.random((n, n)) < 0.5) * 2.0

def mask_distribution(n, rng=None):
    return Bernoulli((n, n), 0.5, 2.0)

def not_a_distribution(n, rng=None):
    return np.zeros((n, n))

def cases(rng):
    return (40, Rng(int(rng.integers(2**31))))

def judge(value, n, rng, alpha):
    SEEN.append(alpha)
    evidence = Bernoulli((n, n), 0.5, 2.0).test(np.asarray(value, dtype=float), alpha)
    if evidence.passed:
        return Verdict(True, "fine", summary="fine")
    mistake = "zeros and ones" if evidence.failed == "values" else None
    return Verdict(False, evidence.failed, mistake=mistake, summary=evidence.failed)
"""

RUBRIC = """
schema: 1
assignment: x
checks:
  - id: q1
    function: mask
    expected: mask_distribution
    points: 4
    compare: {kind: bernoulli, false_failure_rate: 1.0e-4}
    cases:
      - {generator: cases, visibility: public, seed: 1}
      - generator: cases
        visibility: hidden
        count: 3
        compare: {kind: reference, function: judge}
    mistakes:
      - name: zeros and ones
        message: the mask is not rescaled.
"""


def _course(tmp_path: Path, rubric: str = RUBRIC) -> Path:
    (tmp_path / "rubrics").mkdir(exist_ok=True)
    (tmp_path / "reference").mkdir(exist_ok=True)
    (tmp_path / "rubrics" / "x.yaml").write_text(textwrap.dedent(rubric), encoding="utf-8")
    (tmp_path / "reference" / "x.py").write_text(REFERENCE, encoding="utf-8")
    return tmp_path


def test_a_course_comparator_receives_its_share_of_the_rate(tmp_path: Path) -> None:
    assignment = load_assignment("x", _course(tmp_path))
    plan = grading_plan(assignment, hidden_seed=3)
    student = tmp_path / "s.py"
    student.write_text(
        "import numpy as np\ndef mask(n, rng):\n    return (rng.random((n, n)) < 0.5) * 1.0\n"
    )
    result = grade_submission(read_submission(student), plan)
    check = result.checks[0]
    # one Bernoulli case and three comparator cases taking alpha share the check's 1e-4
    assert assignment.reference.SEEN == [pytest.approx(1e-4 / 4)] * 3
    # named by the comparator's verdict on its cases; the Bernoulli case has no variant to match
    assert [c.mistake for c in check.cases] == [None] + ["zeros and ones"] * 3
    assert "known mistake, zeros and ones: the mask is not rescaled." in check.feedback


def test_a_mistake_without_variant_needs_a_reference_comparator(tmp_path: Path) -> None:
    rubric = RUBRIC.replace("        compare: {kind: reference, function: judge}\n", "")
    with pytest.raises(RubricError, match="named by a comparator of kind `reference`"):
        load_assignment("x", _course(tmp_path, rubric))


def test_an_unknown_kind_lists_the_registry(tmp_path: Path) -> None:
    rubric = RUBRIC.replace("kind: bernoulli", "kind: poisson")
    with pytest.raises(
        RubricError, match="not one of allclose, normal, bernoulli, uniform, categorical, reference"
    ):
        load_assignment("x", _course(tmp_path, rubric))


def test_an_expectation_of_the_wrong_kind_is_refused(tmp_path: Path) -> None:
    rubric = RUBRIC.replace("expected: mask_distribution", "expected: not_a_distribution")
    assignment = load_assignment("x", _course(tmp_path, rubric))
    with pytest.raises(RubricError, match="needs a Bernoulli from the reference"):
        build_cases(assignment, ("public",))


# --- Uniform ---------------------------------------------------------------------------------

UNIFORM = Uniform((60, 100), -0.5, 0.5)


def test_uniform_fails_correct_samples_at_most_at_its_level() -> None:
    """400 seeded correct samples at alpha = 0.05: 40 or more failures would happen with
    probability below 1e-4 under an honest test."""
    rng = np.random.default_rng(17)
    failures = sum(
        not UNIFORM.test(rng.uniform(-0.5, 0.5, (60, 100)), 0.05).passed for _ in range(400)
    )
    assert failures < 40


@pytest.mark.parametrize(
    ("wrong", "rejected_by"),
    [
        (lambda rng: rng.uniform(-0.4, 0.4, (60, 100)), "share below 0.1"),  # range shrunk
        (lambda rng: rng.uniform(-1.0, 1.0, (60, 100)), "range"),  # range too wide
        (lambda rng: np.tile(rng.uniform(-0.5, 0.5, 100), (60, 1)), "independence along col"),
    ],
)
def test_uniform_rejects_wrong_samples_by_the_right_test(wrong, rejected_by: str) -> None:
    evidence = UNIFORM.test(wrong(np.random.default_rng(8)), 1e-6)
    assert not evidence.passed and evidence.failed.startswith(rejected_by), evidence.failed


def test_uniform_matches_mistakes_and_goes_through_the_bundle() -> None:
    sample = np.random.default_rng(4).uniform(-0.4, 0.4, (60, 100))
    assert Uniform((60, 100), -0.4, 0.4).explains(sample, 1e-6)
    assert not UNIFORM.explains(sample, 1e-6)
    assert _decode(_encode(UNIFORM)) == UNIFORM == distribution_from_json(UNIFORM.to_json())
