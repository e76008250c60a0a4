"""What the workbench's pages show, built from the workbench state: plain dicts for the
templates, each written answer already rendered (sanitized HTML with MathML)."""

from __future__ import annotations

from typing import Any

from grader.model import CheckResult, SubmissionResult
from grader.report.render import STATUS_SYMBOLS, STATUS_WORDS, safe_filename
from grader.review.answers import render_answer
from grader.review.state import Workbench


def index_view(bench: Workbench) -> dict[str, Any]:
    """The manual items with their progress, and the students."""
    queue = bench.queue()
    checks = []
    for spec in bench.manual_checks:
        rows = [i for i in queue if i["check"] == spec.id]
        checks.append(
            {
                "id": spec.id,
                "title": spec.title,
                "points": spec.points,
                "graded": sum(i["graded"] for i in rows),
                "count": len(rows),
                "groups": len({i["group"] for i in rows}),
            }
        )
    students: dict[str, dict[str, Any]] = {}
    for row in queue:
        entry = students.setdefault(
            row["student"], {"student": row["student"], "graded": 0, "count": 0}
        )
        entry["graded"] += row["graded"]
        entry["count"] += 1
    return {"title": bench.spec.title, "checks": checks, "students": list(students.values())}


def grade_view(bench: Workbench, check_id: str) -> dict[str, Any]:
    """One check, every student's answer in turn: one panel per group of identical answers."""
    spec = bench.check(check_id)
    rows = bench.queue(check_id)
    results = {r.student: r for r in bench.results()}
    manual = {c.id for c in bench.manual_checks}
    groups: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["group"], []).append(row)
    panels = []
    for number, members in enumerate(groups.values(), start=1):
        first = members[0]
        panels.append(
            {
                "number": number,
                "members": members,
                "students": [m["student"] for m in members],
                "versions": {m["student"]: m["version"] for m in members},
                "answered": first["answered"],
                "answer_html": render_answer(first["answer"]) if first["answered"] else "",
                "answer": first["answer"],
                "related": {
                    m["student"]: related_results(results[m["student"]], check_id, manual)
                    for m in members
                },
                "form": _form(first),
                "all_graded": all(m["graded"] for m in members),
                "same_grade": len({(m["score"], m["comment"], tuple(m["items"])) for m in members})
                == 1,
            }
        )
    return {
        "title": bench.spec.title,
        "check": {"id": spec.id, "title": spec.title, "points": spec.points, "prompt": spec.prompt},
        "rubric": bench.rubric(check_id),
        "panels": panels,
        "graded": sum(r["graded"] for r in rows),
        "count": len(rows),
    }


def student_view(bench: Workbench, student: str) -> dict[str, Any]:
    """One student: written answers rendered, each with its grading form, then the automatic
    checks, each with its override form."""
    result = bench.result(student)
    queue = {i["check"]: i for i in bench.queue() if i["student"] == student}
    written, automatic = [], []
    for check in result.checks:
        if check.id in queue:
            row = queue[check.id]
            spec = bench.check(check.id)
            written.append(
                {
                    "row": row,
                    "prompt": spec.prompt,
                    "answer_html": render_answer(row["answer"]) if row["answered"] else "",
                    "rubric": bench.rubric(check.id),
                    "related": related_results(result, check.id, set(queue)),
                    "form": _form(row),
                }
            )
        else:
            automatic.append(_automatic(check))
    return {
        "title": bench.spec.title,
        "student": student,
        "report": safe_filename(student) + ".html",
        "score": f"{result.score:g}",
        "max_score": f"{result.max_score:g}",
        "written": written,
        "automatic": automatic,
    }


def related_results(
    result: SubmissionResult, check_id: str, manual: set[str]
) -> list[dict[str, Any]]:
    """The automatic checks of the same part of the sheet (``1b.derivation`` → ``1b.*``)."""
    part = check_id.split(".", 1)[0]
    return [
        _automatic(c) for c in result.checks if c.id not in manual and c.id.split(".", 1)[0] == part
    ]


def _automatic(check: CheckResult) -> dict[str, Any]:
    return {
        "id": check.id,
        "title": check.title,
        "status": check.status,
        "word": STATUS_WORDS.get(check.status, check.status),
        "symbol": STATUS_SYMBOLS.get(check.status, "?"),
        "score": f"{check.score:g}",
        "max_score": f"{check.max_score:g}",
        "feedback": check.feedback,
        "override": check.override,
        "points": check.max_score,
    }


def _form(row: dict[str, Any]) -> dict[str, Any]:
    """What a grading form starts with: the stored grade, or an empty score field."""
    return {
        "score": f"{row['score']:g}" if row["graded"] else "",
        "comment": row["comment"],
        "items": row["items"],
        "graded": row["graded"],
        "reviewer": row["reviewer"],
        "graded_at": row["graded_at"],
    }
