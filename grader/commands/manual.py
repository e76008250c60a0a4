"""``grader manual OUT --student S --check ID --score N``: an instructor's grade for a written
item, kept in the gradebook; results.json, the summary and the student's report follow."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from grader.publish import graded_assignment, record_manual_grade


def main(
    *,
    out: Path,
    student: str,
    check: str,
    score: float,
    comment: str = "",
    grader_name: str = "",
    course: str | None = None,
    console: Console | None = None,
) -> int:
    console = console or Console(stderr=True)
    spec = graded_assignment(out, course)
    result = record_manual_grade(out, spec, student, check, score, comment, grader_name)
    item = next(c for c in result.checks if c.id == check)
    console.print(
        f"{student}: {check} = {score:g}/{item.max_score:g}; total now "
        f"{result.score:g}/{result.max_score:g}",
        highlight=False,
    )
    return 0
