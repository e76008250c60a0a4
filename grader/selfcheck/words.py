"""The words of a self-check, shared by ``grader check`` and ``Notebook().check`` so that a
student reads the same thing in the terminal and in Jupyter."""

from __future__ import annotations

from collections.abc import Sequence

from grader.model import CheckResult

MARKS = {
    "passed": "✓",
    "failed": "✗",
    "error": "!",
    "timeout": "⏱",
    "missing": "?",
    "manual": "✎",
    "pending": "…",
}
STYLES = {
    "passed": "green",
    "failed": "red",
    "error": "red",
    "timeout": "yellow",
    "missing": "yellow",
    "manual": "cyan",
    "pending": "cyan",
}


def points(check: CheckResult) -> str:
    """ "7/10", or "–/8" for an item graded by hand or after submission."""
    if check.status in ("manual", "pending"):
        return f"–/{check.max_score:g}"
    return f"{check.score:g}/{check.max_score:g}"


def automatic(checks: Sequence[CheckResult]) -> list[CheckResult]:
    """The automatic checks that ran here (not manual items, not pending checks)."""
    return [c for c in checks if c.status not in ("manual", "pending")]


def pending(checks: Sequence[CheckResult]) -> list[CheckResult]:
    """The automatic checks that cannot run from the public bundle."""
    return [c for c in checks if c.status == "pending"]


def all_passed(checks: Sequence[CheckResult]) -> bool:
    """True when there is at least one automatic check that ran and every one passed (a
    pending check is nothing the student can fix here; the summary names its points)."""
    scored = automatic(checks)
    return bool(scored) and all(c.status == "passed" for c in scored)


def summary(checks: Sequence[CheckResult]) -> str:
    """The closing line: how many checks pass on the public cases, and what comes later."""
    scored = automatic(checks)
    passed = sum(c.status == "passed" for c in scored)
    score = sum(c.score for c in scored)
    top = sum(c.max_score for c in scored)
    later = pending(checks)
    waiting = ""
    if later:
        points = sum(c.max_score for c in later)
        ids = ", ".join(c.id for c in later)
        waiting = (
            f" {len(later)} more automatic check{'s' if len(later) > 1 else ''} ({ids}) "
            f"cannot run here: graded after you submit: {points:g} points."
        )
    return (
        f"{passed} of {len(scored)} checks pass on the public cases "
        f"({score:g}/{top:g} points).{waiting} Hidden cases and written answers are graded "
        "after you submit."
    )


def not_loaded(load_error: str) -> str:
    """Said once, above the checks, when the student's code could not be loaded at all."""
    return f"Your code could not be loaded: {load_error}. No check could run."
