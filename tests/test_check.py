"""The check stage: comparing returned values with expectations, and folding cases into a
scored, explained check result."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from grader.assignment import CheckSpec, Compare
from grader.check import stats
from grader.check.cases import Case
from grader.check.compare import compare_allclose, compare_normal
from grader.check.engine import judge_case, judge_check
from grader.check.stats import Normal
from grader.model import Call, Outcome, RunLog

RTOL, ATOL = 1e-7, 1e-10

# --- compare_allclose -----------------------------------------------------------------------


@pytest.mark.parametrize("rtol, atol", [(1e-7, 1e-10), (0.0, 0.0), (1e-3, 0.0), (0.0, 1e-3)])
def test_the_closeness_of_allclose_is_numpys_isclose(rtol, atol):
    """compare.py's own closeness gives np.isclose's booleans, entry by entry, at and around
    the tolerance's edge, for signed zeros and for expectations that are not finite."""
    from grader.check.compare import _close

    rng = np.random.default_rng(14)
    want = rng.normal(0, 1, (40, 30)) * 10.0 ** rng.integers(-12, 12, (40, 30))
    want[0, :4] = [0.0, -0.0, 1e-300, -1e-300]
    edge = atol + rtol * np.abs(want)
    got = want + edge * rng.choice([-1.0, 1.0], want.shape) * rng.choice(
        [0.0, 0.5, 1.0, 1 - 1e-15, 1 + 1e-15, 2.0], want.shape
    )
    assert np.array_equal(_close(got, want, rtol, atol), np.isclose(got, want, rtol, atol))
    unusual = want.copy()
    unusual[1, :3] = [np.inf, -np.inf, np.nan]
    expected = np.isclose(got, unusual, rtol, atol)
    assert np.array_equal(_close(got, unusual, rtol, atol), expected)
    assert not expected[1, :3].any()


def test_allclose_accepts_a_scalar_for_a_size_one_array_and_python_floats():
    assert compare_allclose(np.array([2.5]), 2.5, RTOL, ATOL).passed
    assert compare_allclose(np.array([[2.5]]), np.float64(2.5), RTOL, ATOL).passed
    assert compare_allclose(2.5, np.array(2.5), RTOL, ATOL).passed
    assert compare_allclose(1 + 1e-9, 1.0, RTOL, ATOL).passed


def test_allclose_accepts_lists_of_lists_and_ints():
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert compare_allclose([[1.0, 2.0], [3.0, 4.0]], expected, RTOL, ATOL).passed
    assert compare_allclose([[1, 2], [3, 4]], expected, RTOL, ATOL).passed
    assert compare_allclose(expected.astype(np.float32), expected, RTOL, ATOL).passed


def test_allclose_uses_the_relative_tolerance_it_is_given():
    expected = np.array([1000.0, -2.0])
    assert compare_allclose(expected * (1 + 5e-8), expected, RTOL, ATOL).passed
    assert not compare_allclose(expected * (1 + 5e-7), expected, RTOL, ATOL).passed
    assert compare_allclose(expected * (1 + 5e-7), expected, 1e-6, ATOL).passed


def test_allclose_wrong_shape_names_both_shapes():
    verdict = compare_allclose(np.ones((3, 3)), np.ones((4, 4)), RTOL, ATOL)
    assert not verdict.passed
    assert "4×4" in verdict.message and "3×3" in verdict.message
    assert "transposed" not in verdict.message
    verdict = compare_allclose(np.ones(3), np.ones((3, 1)), RTOL, ATOL)
    assert "vector of length 3" in verdict.message and "3×1" in verdict.message


def test_allclose_wrong_shape_mentions_transposition_when_swapped():
    verdict = compare_allclose(np.ones((2, 5)), np.ones((5, 2)), RTOL, ATOL)
    assert not verdict.passed
    assert "5×2" in verdict.message and "2×5" in verdict.message
    assert "transposed" in verdict.message


def test_allclose_reports_nan_and_where():
    got = np.array([[1.0, 2.0], [np.nan, 4.0]])
    verdict = compare_allclose(got, np.ones((2, 2)), RTOL, ATOL)
    assert not verdict.passed
    assert "nan" in verdict.message.lower() and "[1, 0]" in verdict.message
    assert "NaN" in verdict.summary


def test_allclose_names_the_first_differing_entry_and_the_relative_error():
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    got = np.array([[1.0, 2.0], [3.3, 4.4]])
    verdict = compare_allclose(got, expected, RTOL, ATOL)
    assert not verdict.passed
    assert "2 of 4 entries differ" in verdict.message
    assert "[1, 0]" in verdict.message
    assert "expected 3," in verdict.message and "got 3.3" in verdict.message
    assert "relative error 0.1" in verdict.message


def test_allclose_scalar_message_gives_both_values():
    verdict = compare_allclose(7.0, 8.0, RTOL, ATOL)
    assert not verdict.passed
    assert "expected 8" in verdict.message and "got 7" in verdict.message
    assert "0.12" in verdict.message  # |7 - 8| / 8


def test_allclose_hidden_summary_has_no_expected_values():
    expected = np.array([[1.23456, 2.34567], [3.45678, 4.56789]])
    verdict = compare_allclose(expected * 1.5, expected, RTOL, ATOL)
    assert not verdict.passed
    for number in ("1.23456", "2.34567", "3.45678", "4.56789", "1.85184"):
        assert number not in verdict.summary
    assert "[0, 0]" not in verdict.summary
    verdict = compare_allclose(3.0, 2.71828, RTOL, ATOL)
    assert "2.71828" in verdict.message and "2.71828" not in verdict.summary


def test_a_near_miss_shows_the_tolerance_and_digits_that_differ():
    """Issue 10: "expected 7.98689, got 7.98689" told the student nothing."""
    expected = 7.986891234
    verdict = compare_allclose(expected * (1 + 3e-7), expected, RTOL, ATOL)
    assert not verdict.passed
    found = re.search(r"expected (\S+), got (\S+) ", verdict.message)
    assert found and found[1] != found[2].rstrip(",")
    assert "the tolerance is |got − expected| ≤ 1e-10 + 1e-07·|expected|" in verdict.message
    assert "float32" in verdict.message and "finite-difference" in verdict.message
    assert "float32" in verdict.summary and "7.98" not in verdict.summary


def test_a_plain_wrong_value_gets_no_float32_hint():
    verdict = compare_allclose(np.array([1.0, 2.1]), np.array([1.0, 2.0]), RTOL, ATOL)
    assert "float32" not in verdict.message and "tolerance" in verdict.message


def test_a_matrix_near_miss_shows_differing_digits():
    expected = np.full((2, 2), 1.23456789)
    verdict = compare_allclose(
        expected.astype(np.float32).astype(float) * (1 + 1e-6), expected, RTOL, ATOL
    )
    found = re.search(r"expected (\S+), got (\S+) ", verdict.message)
    assert found and found[1] != found[2] and "float32" in verdict.message


@pytest.mark.parametrize(
    "value, words",
    [(None, "return"), ("a string", "text"), ({"H": 1.0}, "dict"), ([[1.0, 2.0], [3.0]], "lists")],
    ids=["none", "text", "dict", "ragged"],
)
def test_allclose_says_what_came_back_instead_of_numbers(value, words):
    verdict = compare_allclose(value, np.ones((2, 2)), RTOL, ATOL)
    assert not verdict.passed and words in verdict.message and verdict.summary


# --- compare_normal and the sample test ----------------------------------------------------

N_IN, N_OUT = 150, 280  # fan-in ≠ fan-out
HE = Normal((N_OUT, N_IN), 2.0 / N_IN)
ALPHA = 1e-6


def he_sample(seed: int, std: float = np.sqrt(2.0 / N_IN)) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, std, size=(N_OUT, N_IN))


def test_normal_accepts_a_correct_sample():
    verdict = compare_normal(he_sample(1), HE, ALPHA)
    assert verdict.passed, verdict.message
    assert "consistent" in verdict.message


WRONG_SAMPLES = {
    "LeCun": (lambda rng: rng.normal(0, np.sqrt(1 / N_IN), (N_OUT, N_IN)), "variance"),
    "std as variance": (lambda rng: rng.normal(0, 2 / N_IN, (N_OUT, N_IN)), "variance"),
    "uniform, right variance": (
        lambda rng: rng.uniform(-np.sqrt(6 / N_IN), np.sqrt(6 / N_IN), (N_OUT, N_IN)),
        "tails beyond 2σ",
    ),
    "sorted": (
        lambda rng: np.sort(rng.normal(0, np.sqrt(2 / N_IN), N_OUT * N_IN)).reshape(N_OUT, N_IN),
        "independence between rows",
    ),
    "sorted within rows": (
        lambda rng: np.sort(rng.normal(0, np.sqrt(2 / N_IN), (N_OUT, N_IN)), axis=1),
        "independence between columns",
    ),
    "second half of the rows a copy of the first": (
        lambda rng: np.tile(rng.normal(0, np.sqrt(2 / N_IN), (N_OUT // 2, N_IN)), (2, 1)),
        "independence between rows",
    ),
    "entries two apart correlated at 0.5": (
        lambda rng: (lambda a: (a + np.roll(a, 2, axis=1)) / np.sqrt(2))(
            rng.normal(0, np.sqrt(2 / N_IN), (N_OUT, N_IN))
        ),
        "independence along rows, lag 2",
    ),
    "constant zeros": (lambda rng: np.zeros((N_OUT, N_IN)), "variance"),
}


@pytest.mark.parametrize("name", list(WRONG_SAMPLES))
def test_normal_rejects_a_wrong_sample_naming_the_failing_test(name):
    make, failing = WRONG_SAMPLES[name]
    sample = make(np.random.default_rng(3))
    result = stats.test_normal_sample(sample, HE, ALPHA)
    assert result.failed == failing, result.p_values
    verdict = compare_normal(sample, HE, ALPHA)
    assert not verdict.passed
    assert f"the {failing} test rejects" in verdict.message
    assert f"the {failing} test rejects" in verdict.summary


def test_normal_rejects_repeated_rows():
    sample = np.tile(np.random.default_rng(3).normal(0, np.sqrt(2 / N_IN), N_IN), (N_OUT, 1))
    result = stats.test_normal_sample(sample, HE, ALPHA)
    assert not result.passed
    assert result.p_values["independence along columns, lag 1"] < 1e-100
    assert result.p_values["independence between rows"] < 1e-100


def test_normal_names_independence_for_repeated_rows():
    sample = np.tile(np.random.default_rng(0).normal(0, np.sqrt(2 / N_IN), N_IN), (N_OUT, 1))
    assert stats.test_normal_sample(sample, HE, ALPHA).failed == "independence between rows"
    verdict = compare_normal(sample, HE, ALPHA)
    assert "rows 1 and 2 are correlated (r = 1): one is a copy of the other" in verdict.message


def test_a_matrix_that_ignores_its_generator_fails_between_calls():
    """Four calls returning the same matrix: each alone is a perfect N(0, 2/n) sample."""
    one = he_sample(5)
    verdict = compare_normal(np.stack([one] * 4), HE.stacked(4), ALPHA)
    assert not verdict.passed
    assert "the independence between calls test rejects" in verdict.message
    assert "the same matrix every time" in verdict.message and "`rng`" in verdict.message
    assert compare_normal(np.stack([he_sample(s) for s in range(4)]), HE.stacked(4), ALPHA).passed


def test_the_variance_test_speaks_of_the_ratio_and_the_tails_test_of_counts():
    verdict = compare_normal(he_sample(2, np.sqrt(3.0 / N_IN)), HE, ALPHA)
    assert "the variance test rejects" in verdict.message
    assert re.search(r"the variance is 1\.[45]\d*× the expected one", verdict.message)
    heavy = np.random.default_rng(2).standard_t(3, (N_OUT, N_IN)) * np.sqrt(2 / N_IN / 3)
    verdict = compare_normal(heavy, HE, ALPHA)
    assert "the tails are heavier than a normal's" in verdict.message, verdict.message


def test_a_distribution_round_trips_through_its_json_form():
    assert stats.distribution_from_json(HE.to_json()) == HE
    assert HE.to_json()["kind"] == "normal"
    with pytest.raises(ValueError, match="unknown distribution kind 'cauchy'"):
        stats.distribution_from_json({"kind": "cauchy"})
    assert isinstance(HE, stats.Distribution)


def test_normal_wrong_shape_mentions_transposition():
    verdict = compare_normal(he_sample(1).T, HE, ALPHA)
    assert not verdict.passed
    assert "280×150" in verdict.message and "150×280" in verdict.message
    assert "transposed" in verdict.message


def test_normal_refuses_nan():
    sample = he_sample(1)
    sample[3, 4] = np.nan
    assert not compare_normal(sample, HE, ALPHA).passed


# --- judge_check: statuses, scores, feedback ------------------------------------------------


@pytest.fixture(scope="module")
def hessian_check(sheet3, plan):
    return sheet3.check("1a.hessian"), plan.cases_of("1a.hessian")


def right(case: Case) -> Outcome:
    return Outcome("ok", value=np.asarray(case.expected))


def wrong(case: Case, factor: float = 1.5) -> Outcome:
    return Outcome("ok", value=np.asarray(case.expected) * factor)


def test_judge_check_all_right_passes_with_full_points(hessian_check):
    spec, cases = hessian_check
    result = judge_check(spec, cases, [right(c) for c in cases], RunLog())
    assert result.status == "passed" and result.score == spec.points == result.max_score
    assert all(r.status == "passed" for r in result.cases)
    assert "all 5 cases passed" in result.feedback


def test_judge_check_gives_proportional_credit_when_one_case_fails(hessian_check):
    spec, cases = hessian_check
    assert spec.scoring == "proportional" and len(cases) == 5
    outcomes = [right(c) for c in cases]
    outcomes[3] = wrong(cases[3])
    result = judge_check(spec, cases, outcomes, RunLog())
    assert result.status == "failed"
    assert [c.visibility for c in cases] == ["public"] * 2 + ["hidden"] * 3
    assert result.score == pytest.approx(round(spec.points * 2 / 3, 2))  # from hidden cases
    assert "4 of 5 cases passed" in result.feedback
    assert "the points come from the hidden cases (2 of 3 passed)" in result.feedback
    assert [r.status for r in result.cases] == ["passed"] * 3 + ["failed", "passed"]


def test_answers_right_only_on_the_public_inputs_earn_nothing(hessian_check):
    """A lookup table of the public cases' expected outputs: every public case passes, every
    hidden one fails, and the check scores 0 (issue 10, item 7)."""
    spec, cases = hessian_check
    outcomes = [right(c) if c.visibility == "public" else wrong(c) for c in cases]
    result = judge_check(spec, cases, outcomes, RunLog())
    assert result.status == "failed" and result.score == 0
    assert "the public ones are there for your feedback" in result.feedback


def test_a_self_check_without_hidden_cases_says_where_the_points_come_from(hessian_check):
    spec, cases = hessian_check
    public = [c for c in cases if c.visibility == "public"]
    outcomes = [right(public[0]), wrong(public[1])]
    result = judge_check(spec, public, outcomes, RunLog())
    assert result.score == pytest.approx(spec.points / 2)
    assert "your points come from the hidden cases, graded after you submit" in result.feedback


def test_judge_check_all_or_nothing_scoring(hessian_check):
    spec, cases = hessian_check
    outcomes = [right(c) for c in cases]
    outcomes[0] = wrong(cases[0])
    result = judge_check(replace(spec, scoring="all"), cases, outcomes, RunLog())
    assert result.status == "failed" and result.score == 0
    assert "Every case must pass for these points (all or nothing); 4 of 5 did." in result.feedback


def test_judge_check_names_a_known_mistake(hessian_check):
    spec, cases = hessian_check
    result = judge_check(spec, cases, [wrong(c, 0.5) for c in cases], RunLog())
    assert result.status == "failed" and result.score == 0
    assert "the ½ factor kept" in result.feedback
    assert all(r.mistake == "the ½ factor kept" for r in result.cases)


def test_judge_check_hidden_cases_are_described_without_their_values(hessian_check):
    spec, cases = hessian_check
    outcomes = [right(c) for c in cases]
    hidden = next(i for i, c in enumerate(cases) if c.visibility == "hidden")
    outcomes[hidden] = wrong(cases[hidden], 1.001)
    result = judge_check(spec, cases, outcomes, RunLog())
    message = result.cases[hidden].message
    assert result.cases[hidden].status == "failed" and "wrong value" in message
    expected = np.asarray(cases[hidden].expected)
    for number in (f"{expected.flat[0]:.6g}", f"{expected.flat[0] * 1.001:.6g}"):
        assert number not in message and number not in result.feedback
    assert "hidden" in result.feedback


@pytest.mark.parametrize(
    "statuses, expected",
    [
        (["missing", "error", "timeout", "wrong", "ok"], "missing"),
        (["ok", "error", "timeout", "wrong", "ok"], "error"),
        (["ok", "crashed", "timeout", "wrong", "ok"], "error"),
        (["ok", "ok", "timeout", "wrong", "ok"], "timeout"),
        (["ok", "ok", "ok", "wrong", "ok"], "failed"),
        (["ok"] * 5, "passed"),
    ],
)
def test_status_precedence_missing_error_timeout_failed(hessian_check, statuses, expected):
    spec, cases = hessian_check
    outcomes = []
    for case, status in zip(cases, statuses):
        if status == "ok":
            outcomes.append(right(case))
        elif status == "wrong":
            outcomes.append(wrong(case))
        else:
            outcomes.append(Outcome(status, error=f"it {status}"))
    result = judge_check(spec, cases, outcomes, RunLog())
    assert result.status == expected
    passed = statuses[2:].count("ok")  # the three hidden cases carry the points
    assert result.score == pytest.approx(round(spec.points * passed / 3, 2))


def test_error_and_timeout_feedback_passes_on_what_happened(hessian_check):
    spec, cases = hessian_check
    outcomes = [Outcome("error", error="raised ValueError: bad shape (cell 2, line 4)")] * 5
    result = judge_check(spec, cases, outcomes, RunLog())
    assert result.status == "error" and result.score == 0
    assert "ValueError: bad shape (cell 2, line 4)" in result.feedback


# --- the input-mutation detection ----------------------------------------------------------


@pytest.fixture(scope="module")
def center_check(sheet3, plan):
    spec = sheet3.check("1c.center")
    assert spec.inputs_unchanged
    return spec, plan.cases_of("1c.center")


def test_an_unchanged_input_passes(center_check):
    spec, cases = center_check
    case = cases[0]
    assert case.call.return_args
    outcome = Outcome("ok", value=case.expected, args_after=(case.call.args[0].copy(),))
    assert judge_case(case, outcome, spec, ALPHA, None).status == "passed"


def test_a_changed_input_fails_and_names_the_mistake_even_with_the_right_result(center_check):
    spec, cases = center_check
    case = cases[0]
    centred = case.call.args[0] - case.call.args[0].mean(axis=0)
    outcome = Outcome("ok", value=centred, args_after=(centred,))
    result = judge_case(case, outcome, spec, ALPHA, None)
    assert result.status == "failed" and result.mistake == "centering in place"
    assert "the result is right" in result.message and "argument 1" in result.message
    check = judge_check(spec, cases, [outcome] * len(cases), RunLog())
    assert check.score == 0 and "centering in place" in check.feedback


def _with_return_args(spec, cases):
    spec = replace(spec, inputs_unchanged=True)
    case = replace(cases[0], call=replace(cases[0].call, return_args=True))
    return spec, case


def test_mutation_detection_is_not_fooled_by_scalar_arguments(sheet3, plan):
    spec, case = _with_return_args(
        sheet3.check("1c.centered_min_error"), plan.cases_of("1c.centered_min_error")
    )
    outcome = Outcome("ok", value=case.expected, args_after=tuple(case.call.args))
    assert judge_case(case, outcome, spec, ALPHA, None).status == "passed"


def test_mutation_detection_handles_a_list_of_differently_shaped_arrays(sheet3, plan):
    spec, case = _with_return_args(
        sheet3.check("2a.preactivation_variances"), plan.cases_of("2a.preactivation_variances")
    )
    outcome = Outcome("ok", value=case.expected, args_after=tuple(case.call.args))
    assert judge_case(case, outcome, spec, ALPHA, None).status == "passed"


def test_outcome_without_returned_arguments_is_not_a_mutation(center_check):
    spec, cases = center_check
    outcome = Outcome("ok", value=cases[0].expected, args_after=None)
    assert judge_case(cases[0], outcome, spec, ALPHA, None).status == "passed"


def test_a_call_description_names_the_function_and_argument_shapes(hessian_check):
    spec, cases = hessian_check
    outcomes = [wrong(c) for c in cases]
    result = judge_check(spec, cases, outcomes, RunLog())
    n, d = cases[0].call.args[0].shape
    assert re.search(rf"hessian\(array {n}×{d}\)", result.feedback)


def test_a_timeout_case_keeps_its_message():
    case = Case("x", 0, "public", Call("f"), compare=Compare(), expected=1.0)
    spec = CheckSpec(id="x", points=1, function="f")
    result = judge_case(case, Outcome("timeout", error="`f` did not finish"), spec, ALPHA, None)
    assert result.status == "timeout" and "did not finish" in result.message


# --- the public bundle's form of a distribution ---------------------------------------------


def test_a_bundle_carries_distributions_in_their_own_json_form_and_reads_the_old_one():
    from grader import bundle

    encoded = bundle._encode(HE)
    assert encoded == {
        "__distribution__": {"kind": "normal", "shape": [280, 150], "var": 2.0 / 150, "mean": 0.0}
    }
    assert bundle._decode(encoded) == HE
    old = {"__normal__": {"shape": [280, 150], "var": 2.0 / 150, "mean": 0.0}}  # schema 1
    assert bundle._decode(old) == HE
    assert bundle.SCHEMA in bundle.READS and 1 in bundle.READS
