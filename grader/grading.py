"""One submission through the pipeline: run its calls in the child, judge them, score them.

A Plan holds what is the same for every submission of a run: the checks and their cases. It is
built from the reference (instructor) or from a public bundle (student self-check).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from grader.assignment import Assignment, CheckSpec
from grader.check.cases import Case, build_cases
from grader.check.engine import (
    ReferenceLookup,
    judge_check,
    manual_check,
    pending_check,
    unreadable_check,
)
from grader.model import CheckResult, Outcome, RunLog, Submission, SubmissionResult
from grader.run.boundary import Limits, run_submission
from grader.run.launch import Launcher
from grader.run.sandbox import Sandbox

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """The checks of an assignment and the cases to run for each."""

    assignment: str
    title: str
    checks: tuple[CheckSpec, ...]
    cases: tuple[Case, ...]
    lookup: ReferenceLookup | None = None  # reference comparators; None in a self-check
    limits: Limits = field(default_factory=Limits)

    def cases_of(self, check_id: str) -> list[Case]:
        return [case for case in self.cases if case.check_id == check_id]


def grading_plan(assignment: Assignment, hidden_seed: int) -> Plan:
    """Every case (public and hidden) computed from the reference module."""
    cases = build_cases(assignment, ("public", "hidden"), hidden_seed)
    reference = assignment.reference
    return Plan(
        assignment.name,
        assignment.title,
        assignment.checks,
        tuple(cases),
        lookup=lambda name: getattr(reference, name),
        limits=assignment.limits,
    )


def grade_submission(
    submission: Submission,
    plan: Plan,
    limits: Limits | None = None,
    sandbox: Sandbox | None = None,
    launcher: Launcher | None = None,
) -> SubmissionResult:
    """Grade one submission: every check of the plan appears once in the result."""
    if submission.problem:
        return _unreadable(submission, plan, submission.problem)
    calls = [case.call for case in plan.cases]
    try:
        log, outcomes = run_submission(submission, calls, limits or plan.limits, sandbox, launcher)
    except Exception as exc:  # the grader's fault, not the student's: say so, go on, store nothing
        logger.exception("running %s", submission.path)
        return _unreadable(
            submission,
            plan,
            f"internal: the grader could not run {submission.path} ({type(exc).__name__}: "
            f"{exc}); rerun the batch to grade it",
        )
    by_case = {id(case): out for case, out in zip(plan.cases, outcomes, strict=True)}
    results = tuple(_check(spec, submission, plan, by_case, log) for spec in plan.checks)
    return SubmissionResult(submission.student, str(submission.path), results, plan.assignment, log)


def _unreadable(submission: Submission, plan: Plan, problem: str) -> SubmissionResult:
    """A result with every check failed for one reason: the submission could not be read or
    run at all."""
    checks = tuple(unreadable_check(spec, problem) for spec in plan.checks)
    return SubmissionResult(
        submission.student, str(submission.path), checks, plan.assignment, problem=problem
    )


def _check(
    spec: CheckSpec,
    submission: Submission,
    plan: Plan,
    by_case: dict[int, Outcome],
    log: RunLog,
) -> CheckResult:
    """One check's result: a written item's answer, pending (no case in a self-check's
    bundle), or its cases' outcomes judged."""
    if spec.manual:
        return manual_check(spec, submission)
    cases = plan.cases_of(spec.id)
    if not cases:  # a self-check's check that cannot run from the public bundle
        return pending_check(spec)
    try:
        return judge_check(spec, cases, [by_case[id(c)] for c in cases], log, plan.lookup)
    except Exception as exc:  # a value no comparison foresaw: this check only
        logger.exception("judging %s of %s", spec.id, submission.path)
        return unreadable_check(
            spec,
            f"The grader could not judge this answer ({type(exc).__name__}: {exc}); "
            "this is the grader's fault, and your instructor will look at it.",
        )
