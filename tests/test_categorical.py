"""The categorical kind: a sample of values from a finite set with given probabilities, tested
by Pearson's χ² goodness of fit (sparse cells pooled) at the stated false-failure rate, with
named reasons for values outside the set and for dependent draws; its JSON form, its mistake
matching, and a course using it graded and self-checked from its public bundle.
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
from grader.check.stats import DISTRIBUTIONS, Categorical, distribution_from_json, pooled_cells
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


def test_correct_samples_fail_at_most_at_the_stated_rate() -> None:
    """2,000 seeded correct samples at alpha = 0.01: the count of failures of the whole test is
    at most Binomial(2000, 0.01) (the union bound), and the χ² test alone, at the full 0.01, is
    rejected at its nominal rate within a two-sided binomial bound (it is not trivially
    conservative)."""
    rng = np.random.default_rng(14)
    trials, alpha = 2000, 0.01
    failed = fitted = 0
    for _ in range(trials):
        evidence = DICE.test(draw(rng), alpha)
        failed += not evidence.passed
        fitted += evidence.p_values["shares of the values"] < alpha
    assert failed <= upper_bound(trials, alpha)
    low = int(scipy_stats.binom.ppf(5e-5, trials, alpha))
    assert low <= fitted <= upper_bound(trials, alpha, 5e-5)


def test_pooled_sparse_cells_keep_the_rate() -> None:
    """Values expecting fewer than 5 entries are pooled: 2,000 correct samples of 200 entries,
    two of whose four values expect 2 and 4 entries, still fail at most at the rate."""
    probabilities = (0.68, 0.29, 0.01, 0.02)
    sparse = Categorical((200,), VALUES, probabilities)
    assert pooled_cells(probabilities, 200) == [(0,), (1,), (2, 3)]
    rng = np.random.default_rng(15)
    failed = sum(
        not sparse.test(draw(rng, probabilities, (200,)), 0.01).passed for _ in range(2000)
    )
    assert failed <= upper_bound(2000, 0.01)


def test_pooling_joins_a_still_sparse_pool_to_the_least_likely_cell() -> None:
    assert pooled_cells((0.9, 0.06, 0.02, 0.02), 100) == [(0,), (1, 2, 3)]
    assert pooled_cells((0.25, 0.25, 0.25, 0.25), 100) == [(0,), (1,), (2,), (3,)]


def test_power_against_a_named_wrong_distribution() -> None:
    """Probabilities reversed (0.4, 0.3, 0.2, 0.1) are rejected by the χ² test every time;
    a small shift (0.12, 0.2, 0.3, 0.38) is rejected as often as the noncentral χ² law
    predicts at the test's level, within a two-sided binomial bound."""
    rng = np.random.default_rng(16)
    reversed_ = PROBABILITIES[::-1]
    for _ in range(200):
        evidence = DICE.test(draw(rng, reversed_), 1e-6)
        assert evidence.failed == "shares of the values"

    shifted = (0.12, 0.2, 0.3, 0.38)
    trials, alpha = 400, 0.01
    level = DICE.test(draw(rng), alpha).level  # alpha / T, T = 4 tests
    m = int(np.prod(SHAPE))
    noncentrality = m * sum((q - p) ** 2 / p for q, p in zip(shifted, PROBABILITIES, strict=True))
    power = float(scipy_stats.ncx2.sf(scipy_stats.chi2.isf(level, 3), 3, noncentrality))
    assert 0.2 < power < 0.8  # a test of the power, not of a certainty
    rejected = sum(
        DICE.test(draw(rng, shifted), alpha).p_values["shares of the values"] < level
        for _ in range(trials)
    )
    low = scipy_stats.binom.ppf(5e-5, trials, power)
    assert low <= rejected <= scipy_stats.binom.isf(5e-5, trials, power)


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
        ((0, 1, 2), (0.95, 0.04, 0.01), (10,), "the goodness-of-fit test needs a larger sample"),
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
