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
from grader.model import Outcome, Submission, SubmissionResult
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
        checks = tuple(unreadable_check(spec, submission.problem) for spec in plan.checks)
        return SubmissionResult(
            submission.student,
            str(submission.path),
            checks,
            plan.assignment,
            problem=submission.problem,
        )
    calls = [case.call for case in plan.cases]
    try:
        log, outcomes = run_submission(submission, calls, limits or plan.limits, sandbox, launcher)
    except Exception as exc:  # the grader's fault, not the student's: say so, go on, store nothing
        problem = (
            f"internal: the grader could not run {submission.path} ({type(exc).__name__}: "
            f"{exc}); rerun the batch to grade it"
        )
        logger.exception("running %s", submission.path)
        checks = tuple(unreadable_check(spec, problem) for spec in plan.checks)
        return SubmissionResult(
            submission.student, str(submission.path), checks, plan.assignment, problem=problem
        )
    by_case: dict[int, Outcome] = {
        id(case): out for case, out in zip(plan.cases, outcomes, strict=True)
    }
    results = []
    for spec in plan.checks:
        if spec.manual:
            results.append(manual_check(spec, submission))
            continue
        cases = plan.cases_of(spec.id)
        if not cases:  # a self-check's check that cannot run from the public bundle
            results.append(pending_check(spec))
            continue
        try:
            results.append(
                judge_check(spec, cases, [by_case[id(c)] for c in cases], log, plan.lookup)
            )
        except Exception as exc:  # a value no comparison foresaw: this check only
            logger.exception("judging %s of %s", spec.id, submission.path)
            results.append(
                unreadable_check(
                    spec,
                    (
                        f"The grader could not judge this answer ({type(exc).__name__}: {exc}); "
                        "this is the grader's fault, and your instructor will look at it."
                    ),
                )
            )
    return SubmissionResult(
        submission.student, str(submission.path), tuple(results), plan.assignment, log
    )
