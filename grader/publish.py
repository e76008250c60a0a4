"""Publishing from the gradebook: results.json, the class summary and a student's report, and
recording an instructor's grade or override (one implementation for ``grader grade``,
``grader manual`` and ``grader review``)."""

from __future__ import annotations

import heapq
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from grader.assignment import Assignment, load_assignment
from grader.check.engine import unreadable_check
from grader.export.results import write_results
from grader.gradebook import Gradebook
from grader.infer import read_record, recorded_course
from grader.load.discover import UsageError
from grader.model import CheckResult, RunLog, SubmissionResult
from grader.report.render import ReportWriter, render_report, render_summary

SUMMARY_ANSWER_LIMIT = 4000  # characters of a written answer the class summary shows


def publish(
    book: Gradebook,
    spec: Assignment,
    out: Path,
    students: set[str],
    extra: Sequence[SubmissionResult] = (),
) -> list[SubmissionResult]:
    """results.json and the class summary, rendered from the gradebook (never half-written).
    Results stream from the store; only a slim copy of each is kept, for the summary."""
    slim: list[SubmissionResult] = []

    def stream() -> Iterator[SubmissionResult]:
        stored = book.results(spec.name, students)
        for result in heapq.merge(
            stored, sorted(extra, key=lambda r: r.student), key=lambda r: r.student
        ):
            slim.append(_slim(result))
            yield result

    write_results(stream(), out / "results.json")
    render_summary(slim, out / "reports", spec.course / "templates", spec.title)
    return slim


def report_writer(spec: Assignment, out: Path) -> ReportWriter:
    """What writes students' reports in ``out/reports``, with the course's templates where it
    has its own: made once for a batch."""
    return ReportWriter(out / "reports", spec.course / "templates", spec.title)


def write_report(
    result: SubmissionResult, spec: Assignment, out: Path, writer: ReportWriter | None = None
) -> list[Path]:
    """The student's report (HTML and Markdown) in ``out/reports``, with the course's
    templates where it has its own; ``writer``: the batch's, from :func:`report_writer`."""
    return (writer or report_writer(spec, out)).write(result)


def check_templates(spec: Assignment) -> None:
    """Render every report template once, on sample results, in a folder thrown away after:
    a template the course broke raises CourseError before any submission is graded."""
    samples = _samples(spec)
    with tempfile.TemporaryDirectory(prefix="grader-preview-") as folder:
        for sample in samples:
            render_report(sample, Path(folder), spec.course / "templates", spec.title)
        render_summary(samples, Path(folder), spec.course / "templates", spec.title)


def _samples(spec: Assignment) -> list[SubmissionResult]:
    """Results that take each branch of the report templates: unreadable, and graded with a
    cell error, printed output, a failed check and a written answer."""
    checks = tuple(unreadable_check(c, "sample") for c in spec.checks)
    graded = tuple(
        CheckResult(c.id, "manual", 0.0, c.points, "sample", c.title, (), "an answer")
        if c.manual
        else CheckResult(c.id, "failed", 0.0, c.points, "sample", c.title)
        for c in spec.checks
    )
    log = RunLog(cell_errors=((1, "ValueError: sample"),), output="sample", sandbox="process")
    return [
        SubmissionResult("sample-a", "a.ipynb", checks, spec.name, problem="sample"),
        SubmissionResult("sample-b", "b.ipynb", graded, spec.name, log),
    ]


def _slim(result: SubmissionResult) -> SubmissionResult:
    """What the class summary needs of a result: statuses, scores, named mistakes, counts,
    written answers (cut at SUMMARY_ANSWER_LIMIT characters)."""
    checks = tuple(
        replace(
            c,
            feedback=c.feedback[:200],
            answer=c.answer[:SUMMARY_ANSWER_LIMIT] if c.answer else None,
            cases=tuple(replace(k, message="", plot=None) for k in c.cases if k.mistake),
        )
        for c in result.checks
    )
    log = RunLog(
        cell_errors=tuple((i, "") for i, _ in result.log.cell_errors),
        load_error=result.log.load_error[:200],
        sandbox=result.log.sandbox,
    )
    return replace(result, checks=checks, log=log)


def graded_assignment(out: Path, course: str | Path | None = None) -> Assignment:
    """The assignment a graded folder was graded for, from its ``grading.json``: its name and
    (unless ``course`` is given) the course folder it records."""
    data = read_record(out)
    if not isinstance(data.get("assignment"), str):
        raise UsageError(f"{out}: not a graded folder (no grading.json); run grader grade first")
    return load_assignment(str(data["assignment"]), course or recorded_course(out))


@dataclass(frozen=True)
class ManualEntry:
    """One grade of one written item, as `grader manual` or `grader review` gives it."""

    student: str
    check: str
    score: float
    comment: str = ""
    grader_name: str = ""


def record_manual_grade(
    out: Path,
    spec: Assignment,
    student: str,
    check: str,
    score: float,
    comment: str = "",
    grader_name: str = "",
) -> SubmissionResult:
    """Store an instructor's grade for a written item and republish: results.json, the summary
    and that student's report. Raises UsageError (nothing stored) for an unknown student or
    check, or a score outside [0, points]."""
    entry = ManualEntry(student, check, score, comment, grader_name)
    return record_manual_grades(out, spec, [entry])[student]


def record_manual_grades(
    out: Path, spec: Assignment, entries: list[ManualEntry]
) -> dict[str, SubmissionResult]:
    """Store several grades in one transaction and republish once (results.json, the summary,
    each student's report): what :func:`record_manual_grade` does for one. All or none: every
    entry is checked first, and one that is wrong raises UsageError with nothing stored."""
    for entry in entries:
        item = next((c for c in spec.checks if c.id == entry.check), None)
        if item is None or not item.manual:
            manual = ", ".join(c.id for c in spec.checks if c.manual)
            raise UsageError(
                f"{entry.check!r} is not a manual item of {spec.name}; these are: {manual}"
            )
        _check_score(entry.check, entry.score, item.points)
    rows = [(e.student, e.check, e.score, e.comment, e.grader_name) for e in entries]
    return _change(
        out,
        spec,
        {e.student for e in entries},
        lambda book: book.set_manual_grades(spec.name, rows),
    )


def record_override(
    out: Path,
    spec: Assignment,
    student: str,
    check: str,
    score: float,
    reason: str,
    grader_name: str = "",
) -> SubmissionResult:
    """Store an instructor's score in place of an automatic check's, with the reason, and
    republish. It is kept in the gradebook (so every regrade keeps it), shown as overridden in
    the report and summary, and exported like any score. Raises UsageError (nothing stored)
    for an unknown student or check, a manual item (grade it with ``record_manual_grade``), a
    score outside [0, points] or an empty reason."""
    _automatic_item(spec, check)
    item = next(c for c in spec.checks if c.id == check)
    _check_score(check, score, item.points)
    if not reason.strip():
        raise UsageError(f"an override of {check} needs a reason the student will read (--reason)")
    return _one(
        out,
        spec,
        student,
        lambda book: book.set_override(
            spec.name, student, check, score, reason.strip(), grader_name
        ),
    )


def clear_override(out: Path, spec: Assignment, student: str, check: str) -> SubmissionResult:
    """Give an automatic check its own score back and republish (nothing to clear is no
    error: two reviewers may clear the same override). Raises UsageError for an unknown
    student or check, or a manual item."""
    _automatic_item(spec, check)
    return _one(out, spec, student, lambda book: book.clear_override(spec.name, student, check))


def _automatic_item(spec: Assignment, check: str) -> None:
    item = next((c for c in spec.checks if c.id == check), None)
    if item is None or item.manual:
        automatic = ", ".join(c.id for c in spec.checks if not c.manual)
        what = (
            "a manual item (grade it with grader manual, without --override)"
            if item
            else ("not a check")
        )
        raise UsageError(
            f"{check!r} is {what} of {spec.name}; overrides are for these: {automatic}"
        )


def _check_score(check: str, score: float, points: float) -> None:
    if not 0 <= score <= points:
        raise UsageError(f"a score for {check} is between 0 and {points:g}, not {score:g}")


def _one(
    out: Path, spec: Assignment, student: str, change: Callable[[Gradebook], object]
) -> SubmissionResult:
    return _change(out, spec, {student}, change)[student]


def _change(
    out: Path, spec: Assignment, who: set[str], change: Callable[[Gradebook], object]
) -> dict[str, SubmissionResult]:
    """Apply one change to the gradebook (one transaction), then republish results.json, the
    summary and each changed student's whole report from what the gradebook holds."""
    book = Gradebook(out / "gradebook.sqlite")
    try:
        students = set(book.stored(spec.name))
        for student in sorted(who - students):
            raise UsageError(f"{out}: no graded submission of student {student!r}")
        change(book)
        publish(book, spec, out, students)
        results = {r.student: r for r in book.results(spec.name, who)}
    finally:
        book.close()
    writer = report_writer(spec, out)
    for result in results.values():
        write_report(result, spec, out, writer)
    return results
