"""``grader manual OUT --student S --check ID --score N``: an instructor's grade for a written
item, kept in the gradebook; results.json, the summary and the student's report follow."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from grader.assignment import load_assignment
from grader.commands.grade import publish
from grader.gradebook import Gradebook
from grader.load.discover import UsageError
from grader.report.render import render_report


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
    record = out / "grading.json"
    if not record.exists():
        raise UsageError(f"{out}: not a graded folder (no grading.json); run grader grade first")
    spec = load_assignment(json.loads(record.read_text(encoding="utf-8"))["assignment"], course)
    item = next((c for c in spec.checks if c.id == check), None)
    if item is None or not item.manual:
        manual = ", ".join(c.id for c in spec.checks if c.manual)
        raise UsageError(f"{check!r} is not a manual item of {spec.name}; these are: {manual}")
    if not 0 <= score <= item.points:
        raise UsageError(f"a score for {check} is between 0 and {item.points:g}, not {score:g}")
    book = Gradebook(out / "gradebook.sqlite")
    try:
        students = {r.student for r in book.results(spec.name)}
        if student not in students:
            raise UsageError(f"{out}: no graded submission of student {student!r}")
        book.set_manual_grade(spec.name, student, check, score, comment, grader_name)
        results = publish(book, spec, out, students)
    finally:
        book.close()
    result = next(r for r in results if r.student == student)
    render_report(result, out / "reports", spec.course / "templates", spec.title)
    console.print(
        f"{student}: {check} = {score:g}/{item.points:g}; total now "
        f"{result.score:g}/{result.max_score:g}",
        highlight=False,
    )
    return 0
