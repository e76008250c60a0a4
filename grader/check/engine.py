"""Judge each case's outcome and fold the cases of a check into one scored, explained result.

A case passes only on a positive comparison; a wrong answer that matches a known mistake is
named; hidden cases are described without their inputs or expected values.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from grader.assignment import CheckSpec, Mistake
from grader.check.cases import Case, describe_call
from grader.check.compare import as_numbers, compare_allclose, compare_distribution
from grader.check.stats import DISTRIBUTIONS
from grader.model import (
    CaseResult,
    CaseStatus,
    CheckResult,
    NotPlain,
    Outcome,
    Rng,
    RunLog,
    Status,
    Submission,
    Verdict,
)

ReferenceLookup = Callable[[str], Callable[..., Verdict]]


def judge_case(
    case: Case, outcome: Outcome, spec: CheckSpec, alpha: float, lookup: ReferenceLookup | None
) -> CaseResult:
    """One case: the outcome's status, or the comparison's verdict and any named mistake."""
    if outcome.status == "missing":
        return CaseResult(case.index, case.visibility, "missing", "not defined")
    if outcome.status == "timeout":
        return CaseResult(case.index, case.visibility, "timeout", outcome.error)
    if outcome.status in ("error", "crashed"):
        return CaseResult(case.index, case.visibility, "error", outcome.error)

    verdict = _compare(case, outcome.value, alpha, lookup)
    mutated = _mutated(case, outcome) if spec.inputs_unchanged else False
    if mutated:
        mistake = next((m for m in spec.mistakes if m.detect == "input_mutated"), None)
        name = mistake.name if mistake else "changes its input"
        text = "the result is right, but " if verdict.passed else ""
        text += f"it changed the array it was given ({mutated})"
        verdict = Verdict(False, text, mistake=name, summary=text)
    elif not verdict.passed and verdict.mistake is None:
        named = _match_mistake(case, outcome.value, alpha)
        if named:
            verdict = Verdict(False, verdict.message, named, verdict.plot, verdict.summary)
    status: CaseStatus = "passed" if verdict.passed else "failed"
    message = verdict.message if case.visibility == "public" else verdict.summary
    return CaseResult(case.index, case.visibility, status, message, verdict.mistake, verdict.plot)


def _compare(case: Case, value: Any, alpha: float, lookup: ReferenceLookup | None) -> Verdict:
    if isinstance(value, NotPlain):  # no comparison, the reference's included, ever sees it
        return Verdict(False, value.reason, summary=value.reason)
    compare = case.compare
    if compare.kind == "allclose":
        return compare_allclose(value, case.expected, compare.rtol, compare.atol)
    if compare.kind in DISTRIBUTIONS:
        verdict = compare_distribution(value, case.expected, alpha)
        if compare.function and lookup is not None and not verdict.passed:
            # a picture, and words, of what the wrong values do: never a rejection by itself
            verdict = _illustrated(verdict, lookup(compare.function)(value, *case.call.args))
        return verdict
    if lookup is None:
        raise ValueError(f"case {case.check_id}#{case.index} needs the reference module")
    comparator = lookup(compare.function)
    if takes_alpha(comparator):
        return comparator(value, *case.call.args, alpha=alpha)
    return comparator(value, *case.call.args)


def takes_alpha(comparator: Callable[..., Verdict]) -> bool:
    """Whether a course's comparator has an ``alpha`` parameter (or ``**kwargs``): it is then
    given its share of the check's false-failure rate, as a distribution's test is."""
    try:
        parameters = inspect.signature(comparator).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "alpha" or p.kind is p.VAR_KEYWORD for p in parameters)


def spends_rate(case: Case, lookup: ReferenceLookup | None) -> bool:
    """A case that can fail correct work by chance: a distribution's, or a course comparator's
    that takes ``alpha``. The check's false-failure rate is shared among these."""
    if case.statistical:
        return True
    return (
        case.compare.kind == "reference"
        and lookup is not None
        and takes_alpha(lookup(case.compare.function))
    )


def _illustrated(verdict: Verdict, picture: Verdict) -> Verdict:
    """A failed statistical verdict with the plot of an illustration (the depth curve), and its
    words where it went wrong too. The illustration is drawn only for values the tests already
    rejected, so it can never fail correct work."""
    if picture.passed:
        return Verdict(
            verdict.passed, verdict.message, verdict.mistake, picture.plot, verdict.summary
        )
    return Verdict(
        False,
        f"{verdict.message}; and {picture.message}",
        verdict.mistake,
        picture.plot,
        f"{verdict.summary}; and {picture.summary}",
    )


def _match_mistake(case: Case, value: Any, alpha: float) -> str | None:
    """The known wrong answer that this value matches, by the check's own comparison. A wrong
    distribution is named only when it explains the whole evidence (the value passes every test
    against it) and no other known mistake does too (on a square matrix fan-in and fan-out
    coincide, so such a case names nothing rather than a guess)."""
    if case.compare.kind in DISTRIBUTIONS:
        array, _ = as_numbers(value)
        if array is None:
            return None
        names = {name for name, wrong in case.variants if wrong.explains(array, alpha)}
        return names.pop() if len(names) == 1 else None
    for name, wrong in case.variants:
        if compare_allclose(value, wrong, case.compare.rtol, case.compare.atol).passed:
            return name
    return None


def _mutated(case: Case, outcome: Outcome) -> str:
    """Which argument came back changed, or "" when every one is as it was sent."""
    if outcome.args_after is None:
        return ""
    sent = [a for a in case.call.args if not isinstance(a, Rng)]  # as the child sends back
    for number, (before, after) in enumerate(zip(sent, outcome.args_after, strict=False), 1):
        if not _same(before, after):
            return f"argument {number} was modified in place"
    return ""


def _same(before: Any, after: Any) -> bool:
    """Equal values, element by element for lists (of arrays of different shapes too)."""
    if isinstance(before, (list, tuple)):
        return (
            isinstance(after, (list, tuple))
            and len(before) == len(after)
            and all(_same(b, a) for b, a in zip(before, after, strict=True))
        )
    try:
        return bool(np.array_equal(np.asarray(before), np.asarray(after)))
    except (TypeError, ValueError):
        return False


def judge_check(
    spec: CheckSpec,
    cases: list[Case],
    outcomes: list[Outcome],
    log: RunLog,
    lookup: ReferenceLookup | None = None,
) -> CheckResult:
    """All cases of one automatic check → its status, score and feedback."""
    statistical = sum(1 for c in cases if spends_rate(c, lookup))
    alpha = spec.compare.false_failure_rate / max(statistical, 1)
    results = [judge_case(c, o, spec, alpha, lookup) for c, o in zip(cases, outcomes, strict=True)]
    status = _status(results)
    score = check_score(spec, results)
    feedback = _feedback(spec, cases, results, status, log)
    return CheckResult(spec.id, status, score, spec.points, feedback, spec.title, tuple(results))


def check_score(spec: CheckSpec, results: list[CaseResult]) -> float:
    """A check's points. "all": every case, public and hidden, must pass. "proportional": the
    share of *hidden* cases passed, so answers right only on the public inputs (a table of
    the public answers) earn nothing; public cases are there for feedback. A plan with no hidden
    case (the student's self-check) previews the points from its public cases."""
    if not results:
        return 0.0
    if spec.scoring == "all":
        return spec.points if all(r.status == "passed" for r in results) else 0.0
    scored = [r for r in results if r.visibility == "hidden"] or results
    return round(spec.points * sum(r.status == "passed" for r in scored) / len(scored), 2)


def manual_check(spec: CheckSpec, submission: Submission) -> CheckResult:
    """A manual item: it waits for an instructor, with the student's written answer quoted."""
    answer = submission.answers.get(spec.id)
    feedback = (
        "Graded by hand by an instructor."
        if answer
        else "Graded by hand by an instructor. No written answer was found for this item."
    )
    return CheckResult(spec.id, "manual", 0.0, spec.points, feedback, spec.title, (), answer)


def pending_check(spec: CheckSpec) -> CheckResult:
    """An automatic check with no case in the plan: in a self-check, one whose cases need the
    instructor's reference (a course's own comparator). Shown, never counted as passed."""
    feedback = (
        f"Graded after you submit: {spec.points:g} points. This check's cases are judged by "
        "the instructor's own comparison, which the self-check does not have."
    )
    return CheckResult(spec.id, "pending", 0.0, spec.points, feedback, spec.title)


def unreadable_check(spec: CheckSpec, problem: str) -> CheckResult:
    """A check of a submission that could not be read at all."""
    if spec.manual:
        return CheckResult(spec.id, "manual", 0.0, spec.points, problem, spec.title)
    return CheckResult(spec.id, "error", 0.0, spec.points, problem, spec.title)


def _status(results: list[CaseResult]) -> Status:
    statuses = {r.status for r in results}
    if statuses == {"passed"}:
        return "passed"
    worst_first: tuple[Status, ...] = ("missing", "error", "timeout")
    for status in worst_first:
        if status in statuses:
            return status
    return "failed"


def _feedback(
    spec: CheckSpec, cases: list[Case], results: list[CaseResult], status: str, log: RunLog
) -> str:
    name = f"`{spec.function}`"
    total = len(results)
    if status == "passed":
        secret = sum(r.visibility == "hidden" for r in results)
        extra = f" ({total - secret} public, {secret} hidden)" if secret else ""
        return f"{name} looks good: all {total} cases passed{extra}."
    if status == "missing":
        text = (
            f"No function {name} was found. Define it at the top level of your notebook or "
            f"module, with exactly this name."
        )
        if log.cell_errors:
            cells = ", ".join(str(cell) for cell, _ in log.cell_errors)
            text += (
                f" Note that code cell(s) {cells} raised an error: if {name} is defined "
                "there, that is why it is missing."
            )
        if log.load_error:
            text += f" Your code could not be loaded: {log.load_error}."
        return text

    lines = []
    mistakes = [r.mistake for r in results if r.mistake]
    if mistakes:
        known = _mistake(spec, mistakes[0])
        lines.append(
            f"This looks like a known mistake, {known.name}: {known.message}"
            if known
            else f"This looks like a known mistake: {mistakes[0]}."
        )
    failing = [(c, r) for c, r in zip(cases, results, strict=True) if r.status != "passed"]
    public = [(c, r) for c, r in failing if r.visibility == "public"]
    hidden = [r for _, r in failing if r.visibility == "hidden"]
    if public:
        case, result = public[0]
        more = f" ({len(public) - 1} more public case(s) alike)" if len(public) > 1 else ""
        lines.append(
            f"Case {result.index + 1}, {describe_call(case.call)}: {_what_happened(result)}{more}."
        )
    if hidden:
        count = sum(r.visibility == "hidden" for r in results)
        lines.append(
            f"{len(hidden)} of {count} hidden cases did not pass; the first: "
            f"{_what_happened(hidden[0])}."
        )
    lines.append(_how_scored(spec, results))
    return " ".join(lines)


def _how_scored(spec: CheckSpec, results: list[CaseResult]) -> str:
    """How this check's points came about, in one sentence."""
    passed = sum(r.status == "passed" for r in results)
    total = len(results)
    if spec.scoring == "all":
        return f"Every case must pass for these points (all or nothing); {passed} of {total} did."
    hidden = [r for r in results if r.visibility == "hidden"]
    if not hidden:
        return (
            f"{passed} of {total} public cases passed; your points come from the hidden cases, "
            "graded after you submit."
        )
    right = sum(r.status == "passed" for r in hidden)
    return (
        f"{passed} of {total} cases passed; the points come from the hidden cases ({right} of "
        f"{len(hidden)} passed), the public ones are there for your feedback."
    )


def _what_happened(result: CaseResult) -> str:
    if result.status == "error" and result.message.startswith("raised NotImplementedError"):
        return "it is not implemented yet (it still raises NotImplementedError)"
    return result.message.rstrip(".")


def _mistake(spec: CheckSpec, name: str) -> Mistake | None:
    return next((m for m in spec.mistakes if m.name == name), None)
