"""Gradescope: ``results.json`` as the Gradescope autograder specification defines it.

Gradescope autograder docs, "Autograder Specifications" (gradescope-autograders.readthedocs.io
/en/latest/specs/): a top-level ``score`` (optional; overrides the sum of the tests), ``output``
(shown to the student), ``tests``: each with ``name``, ``number``, ``score``, ``max_score``,
``status`` (``passed`` or ``failed``), ``output`` and ``visibility`` (``visible``, ``hidden``,
``after_due_date``, ``after_published``), and ``extra_data`` for anything else.

Here: one test per automatic check; a check whose cases are all hidden is ``after_published``.
A manual item still open is a test without a score, saying it waits for grading by hand, so it
is visible and never counted as zero. ``grader gradescope`` writes one such object for the
submission it grades; ``grader export --format gradescope`` writes a JSON array of them, one
per student, each with the student's id in ``extra_data``.
"""

from __future__ import annotations

import json
from typing import Any

from grader.export.common import ExportOptions, number
from grader.export.graded import CheckInfo, Graded, GradedEntry


def results(entry: GradedEntry, checks: tuple[CheckInfo, ...]) -> dict[str, Any]:
    """The Gradescope results object of one graded submission."""
    assert entry.result is not None
    info = {c.id: c for c in checks}
    tests = []
    for check in entry.result.checks:
        meta = info.get(check.id, CheckInfo(check.id, check.max_score))
        name = f"{check.id}: {meta.title}" if meta.title else check.id
        test: dict[str, Any] = {"name": name, "number": check.id}
        if check.status == "manual":
            test["name"] = f"{name} (graded by hand)"
            test["output"] = (
                f"Graded by hand after the deadline ({number(check.max_score)} points); "
                "not part of the autograder score."
            )
            test["visibility"] = "visible"
        else:
            test["score"] = check.score
            test["max_score"] = check.max_score
            test["status"] = "passed" if check.status == "passed" else "failed"
            test["output"] = check.feedback
            test["visibility"] = "after_published" if meta.hidden else "visible"
        tests.append(test)
    automatic = [c for c in entry.result.checks if c.status != "manual"]
    score = round(sum(c.score for c in automatic), 6)
    top = round(sum(c.max_score for c in automatic), 6)
    lines = [f"Autograder score: {number(score)} of {number(top)} points."]
    if entry.origin.problem:
        lines.insert(0, entry.origin.problem)
    pending = [c for c in entry.result.checks if c.status == "manual"]
    if pending:
        lines.append(
            "Graded by hand later: "
            + ", ".join(f"{c.id} ({number(c.max_score)} pts)" for c in pending)
            + "."
        )
    return {
        "score": score,
        "output": "\n".join(lines),
        "tests": tests,
        "extra_data": {
            "student": entry.student,
            "status_by_check": {c.id: c.status for c in entry.result.checks},
        },
    }


def export(graded: Graded, options: ExportOptions) -> str:
    """A JSON array: one results object per graded student (roster-only students are left out,
    Gradescope has no row for a student who submitted nothing)."""
    out = [results(e, graded.checks) for e in graded.entries if e.result is not None]
    return json.dumps(out, indent=2, ensure_ascii=False) + "\n"
