"""The categorical kind: a sample of values from a finite set with given probabilities, tested
by the exact binomial count of each value at the stated false-failure rate, with named reasons
for values outside the set and for dependent draws; its JSON form, its mistake matching, and a
course using it graded and self-checked from its public bundle.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

from grader import Notebook
from grader.assignment import load_assignment
from grader.bundle import _decode, _encode, write_bundle
from grader.check import stats
from grader.check.stats import DISTRIBUTIONS, Categorical, distribution_from_json
from grader.grading import grade_submission, grading_plan
from grader.load.discover import read_submission

VALUES = (0.0, 1.0, 2.0, 5.0)
PROBABILITIES = (0.1, 0.2, 0.3, 0.4)
SHAPE = (40, 50)
DICE = Categorical(SHAPE, VALUES, PROBABILITIES)


def draw(rng: np.random.Generator, probabilities=PROBABILITIES, shape=SHAPE) -> np.ndarray:
    return rng.choice(np.array(VALUES), size=shape, p=probabilities)


def upper_bound(trials: int, rate: float, tail: float = 1e-4) -> int:
    """The largest count of rejections an honest test at ``rate`` exceeds with probability
    below ``tail``: Binomial(trials, rate) is at most this count but for ``tail``."""
    return int(scipy_stats.binom.isf(tail, trials, rate))


def test_categorical_is_a_member_of_the_registry() -> None:
    assert DISTRIBUTIONS["categorical"] is Categorical


def rejection_rate(m: int, p: float, q: float, level: float) -> float:
    """The exact probability that the share test of a value of probability p rejects at
    ``level`` when the value is drawn with probability q: the binomial mass of the counts it
    rejects."""
    counts = np.arange(m + 1)
    rejected = [stats._binomial(int(c), m, p) < level for c in counts]
    return float(scipy_stats.binom.pmf(counts, m, q)[rejected].sum())


def within(count: int, trials: int, rate: float, tail: float = 5e-5) -> bool:
    """``count`` is a plausible draw of Binomial(trials, rate): in neither tail beyond ``tail``."""
    low = scipy_stats.binom.ppf(tail, trials, rate)
    return bool(low <= count <= scipy_stats.binom.isf(tail, trials, rate))


def test_correct_samples_fail_at_most_at_the_stated_rate() -> None:
    """2,000 seeded correct samples at alpha = 0.01: the count of failures of the whole test is
    at most Binomial(2000, 0.01) (the union bound), and each value's share test, at the full
    0.01, rejects as often as its exact rejection probability says, within a two-sided binomial
    bound (the test is exact, not merely conservative)."""
    rng = np.random.default_rng(14)
    trials, alpha = 2000, 0.01
    failed = 0
    shares = dict.fromkeys(VALUES, 0)
    for _ in range(trials):
        evidence = DICE.test(draw(rng), alpha)
        failed += not evidence.passed
        for value in VALUES:
            shares[value] += evidence.p_values[f"share of {value:g}"] < alpha
    assert failed <= upper_bound(trials, alpha)
    m = int(np.prod(SHAPE))
    for value, p in zip(VALUES, PROBABILITIES, strict=True):
        rate = rejection_rate(m, p, p, alpha)
        assert 0.005 < rate <= alpha
        assert within(shares[value], trials, rate), (value, shares[value], rate)


def test_rare_values_need_no_pooling() -> None:
    """The counts are exact for any expected count: 2,000 correct samples of 200 entries, two
    of whose four values expect 2 and 4 entries, fail at most at the rate; a rare value drawn
    five times too often is seen."""
    probabilities = (0.68, 0.29, 0.01, 0.02)
    sparse = Categorical((200,), VALUES, probabilities)
    rng = np.random.default_rng(15)
    failed = sum(
        not sparse.test(draw(rng, probabilities, (200,)), 0.01).passed for _ in range(2000)
    )
    assert failed <= upper_bound(2000, 0.01)
    often = draw(rng, (0.6, 0.29, 0.05, 0.06), (200,))
    assert sparse.test(often, 0.01).failed in ("share of 2", "share of 5")


def test_power_against_a_named_wrong_distribution() -> None:
    """Probabilities reversed (0.4, 0.3, 0.2, 0.1) are rejected by a share test every time; a
    small shift (0.12, 0.2, 0.3, 0.38) is seen by the share of 0 exactly as often as its
    binomial law predicts at the test's level, within a two-sided binomial bound."""
    rng = np.random.default_rng(16)
    reversed_ = PROBABILITIES[::-1]
    for _ in range(200):
        assert DICE.test(draw(rng, reversed_), 1e-6).failed.startswith("share of")

    shifted = (0.12, 0.2, 0.3, 0.38)
    trials, alpha = 400, 0.01
    level = DICE.test(draw(rng), alpha).level  # alpha / T, T = 7 tests
    power = rejection_rate(int(np.prod(SHAPE)), 0.1, 0.12, level)
    assert 0.2 < power < 0.8  # a test of the power, not of a certainty
    seen = sum(
        DICE.test(draw(rng, shifted), alpha).p_values["share of 0"] < level for _ in range(trials)
    )
    assert within(seen, trials, power), (seen, power)


def test_a_value_outside_the_set_fails_with_a_named_reason() -> None:
    sample = draw(np.random.default_rng(1))
    sample[3, 7] = 3.0
    evidence = DICE.test(sample, 1e-6)
    assert evidence.failed == "values"
    assert evidence.rejected[0].words == "1 of 2,000 values are none of 0, 1, 2, 5 (seen: 3)"


def test_dependent_draws_fail_by_the_independence_tests() -> None:
    rng = np.random.default_rng(2)
    rows_alike = np.tile(draw(rng, shape=(50,)), (40, 1))
    assert DICE.test(rows_alike, 1e-6).failed == "independence along columns, lag 1"
    same = draw(rng)
    assert DICE.stacked(3).test(np.stack([same] * 3), 1e-6).failed == "independence between calls"


def test_mistakes_are_matched_by_the_same_tests() -> None:
    sample = draw(np.random.default_rng(3), PROBABILITIES[::-1])
    assert Categorical(SHAPE, VALUES, PROBABILITIES[::-1]).explains(sample, 1e-6)
    assert not DICE.explains(sample, 1e-6)
    assert not Categorical((50, 40), VALUES, PROBABILITIES[::-1]).explains(sample, 1e-6)


def test_the_json_form_goes_through_the_bundle() -> None:
    assert distribution_from_json(json.loads(json.dumps(DICE.to_json()))) == DICE
    assert _decode(json.loads(json.dumps(_encode(DICE)))) == DICE
    assert Categorical([20, 2], [0, 1], [0.5, 0.5]) == Categorical((20, 2), (0.0, 1.0), (0.5, 0.5))


@pytest.mark.parametrize(
    ("values", "probabilities", "shape", "message"),
    [
        ((0, 1), (0.5, 0.3, 0.2), (100,), "2 values and 3 probabilities"),
        ((1,), (1.0,), (100,), "two or more values"),
        ((0, 1, 1), (0.2, 0.3, 0.5), (100,), "finite and distinct"),
        ((0, 1), (0.7, 0.2), (100,), "positive and sum to 1"),
        ((0, 1), (1.0, 0.0), (100,), "positive and sum to 1"),
    ],
)
def test_an_expectation_that_cannot_be_tested_is_an_author_error(
    values, probabilities, shape, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Categorical(shape, values, probabilities)


# --- a course using it: labels drawn from a softmax ------------------------------------------

REFERENCE = """
import numpy as np
from grader.api import Categorical, Rng


def _softmax(logits):
    e = np.exp(logits - np.max(logits))
    return e / e.sum()


def sample_labels(logits, n, rng):
    return rng.choice(len(logits), size=n, p=_softmax(np.asarray(logits)))


def labels_distribution(logits, n, rng=None):
    return Categorical((n,), range(len(logits)), tuple(_softmax(np.asarray(logits))))


def labels_uniform(logits, n, rng=None):
    return Categorical((n,), range(len(logits)), (1 / len(logits),) * len(logits))


def public(rng):
    return (np.array([0.5, 1.5, -1.0, 0.0]), 3000, Rng(int(rng.integers(2**31))))


def hidden(rng):
    return {"args": (rng.normal(size=5), 4000, Rng(int(rng.integers(2**31)))), "repeat": 3}
"""

RUBRIC = """
schema: 1
assignment: labels
checks:
  - id: q1
    function: sample_labels
    expected: labels_distribution
    points: 3
    scoring: all
    compare: {kind: categorical}
    cases:
      - {generator: public, visibility: public, seed: 1}
      - {generator: hidden, visibility: hidden}
    mistakes:
      - name: logits ignored
        message: every label is drawn with the same probability; apply the softmax to the logits.
        variant: labels_uniform
"""

STUDENTS = {
    "correct": "import numpy as np\n\ndef sample_labels(logits, n, rng):\n"
    "    e = np.exp(logits - np.max(logits))\n"
    "    return rng.choice(len(logits), size=n, p=e / e.sum())\n",
    "uniform": "import numpy as np\n\ndef sample_labels(logits, n, rng):\n"
    "    return rng.integers(len(logits), size=n)\n",
}


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("labels")
    (root / "rubrics").mkdir()
    (root / "reference").mkdir()
    (root / "rubrics" / "labels.yaml").write_text(textwrap.dedent(RUBRIC), encoding="utf-8")
    (root / "reference" / "labels.py").write_text(REFERENCE, encoding="utf-8")
    for name, source in STUDENTS.items():
        (root / f"{name}.py").write_text(source, encoding="utf-8")
    return root


@pytest.mark.parametrize(("name", "mistake"), [("correct", None), ("uniform", "logits ignored")])
def test_a_categorical_check_is_graded_with_its_mistake_named(
    course: Path, name: str, mistake: str | None
) -> None:
    plan = grading_plan(load_assignment("labels", course), hidden_seed=7)
    check = grade_submission(read_submission(course / f"{name}.py"), plan).checks[0]
    assert check.status == ("passed" if mistake is None else "failed"), check.feedback
    assert {c.mistake for c in check.cases} == {mistake}
    if mistake:
        assert "known mistake, logits ignored: every label is drawn" in check.feedback


@pytest.mark.parametrize(("name", "mistake"), [("correct", None), ("uniform", "logits ignored")])
def test_a_categorical_check_runs_in_the_self_check_from_the_public_bundle(
    course: Path, tmp_path: Path, name: str, mistake: str | None
) -> None:
    bundle = write_bundle(load_assignment("labels", course), tmp_path / "labels.public.json")
    assert '"kind": "categorical"' in bundle.read_text(encoding="utf-8")
    namespace: dict = {}
    exec(compile(STUDENTS[name], name, "exec"), namespace)  # the student's own kernel
    checked = Notebook(bundle).check_all(namespace)["q1"]
    assert checked.status == ("passed" if mistake is None else "failed"), checked.feedback
    assert [c.mistake for c in checked.cases] == [mistake]
