"""``grader manual OUT --student S --check ID --score N``: an instructor's grade for a written
item, kept in the gradebook; results.json, the summary and the student's report follow.

With ``--override --reason TEXT`` the score replaces an automatic check's own (kept across
regrades, shown as overridden); ``--clear-override`` gives the check its own score back.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from grader.load.discover import UsageError
from grader.publish import clear_override, graded_assignment, record_manual_grade, record_override


def main(
    *,
    out: Path,
    student: str,
    check: str,
    score: float | None = None,
    comment: str = "",
    grader_name: str = "",
    course: str | None = None,
    override: bool = False,
    reason: str = "",
    clear: bool = False,
    console: Console | None = None,
) -> int:
    console = console or Console(stderr=True)
    if clear and (override or score is not None):
        raise UsageError("--clear-override takes no --score or --override; give it alone")
    if not clear and score is None:
        raise UsageError("--score is required (or --clear-override to undo an override)")
    if reason and not override:
        raise UsageError("--reason goes with --override; a written item's feedback is --comment")
    spec = graded_assignment(out, course)
    if clear:
        result = clear_override(out, spec, student, check)
        what = "override cleared"
    elif override:
        assert score is not None
        result = record_override(out, spec, student, check, score, reason, grader_name)
        what = "overridden"
    else:
        assert score is not None
        result = record_manual_grade(out, spec, student, check, score, comment, grader_name)
        what = "graded"
    item = next(c for c in result.checks if c.id == check)
    console.print(
        f"{student}: {check} {what}, {item.score:g}/{item.max_score:g}; total now "
        f"{result.score:g}/{result.max_score:g}",
        highlight=False,
    )
    return 0
