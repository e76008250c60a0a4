"""A graded folder for the review workbench's tests, made without running any student code:
sheet3's results written to a gradebook and published as `grader grade` publishes them."""

from __future__ import annotations

import json
from pathlib import Path

from grader.assignment import Assignment
from grader.gradebook import Gradebook
from grader.model import CheckResult, RunLog, SubmissionResult
from grader.publish import publish
from grader.report.render import render_report


def make_graded_folder(out: Path, spec: Assignment, answers: dict[str, dict[str, str]]) -> Path:
    """``out`` graded for ``spec``: one student per key of ``answers`` (check id → written
    answer); every automatic check passed except ``1b.condition_number``, failed for all."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "grading.json").write_text(json.dumps({"assignment": spec.name, "hidden_seed": 1}))
    book = Gradebook(out / "gradebook.sqlite")
    run = book.start_run(spec.name, "key", 1, "process")
    for student, written in answers.items():
        checks = []
        for c in spec.checks:
            if c.manual:
                text = written.get(c.id)
                checks.append(CheckResult(c.id, "manual", 0.0, c.points, "wait", c.title, (), text))
            elif c.id == "1b.condition_number":
                checks.append(CheckResult(c.id, "failed", 0.0, c.points, "wrong", c.title))
            else:
                checks.append(CheckResult(c.id, "passed", c.points, c.points, "ok", c.title))
        result = SubmissionResult(
            student, f"{student}.ipynb", tuple(checks), spec.name, RunLog(sandbox="process")
        )
        book.record(run, "key", student, result)
        render_report(result, out / "reports", spec.course / "templates", spec.title)
    publish(book, spec, out, set(answers))
    book.close()
    return out
