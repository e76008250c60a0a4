"""The self-check in a terminal (`grader check`): the public cases of a saved notebook or module,
run in the sandbox, shown as a table and the feedback of every check that did not pass."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from grader.assignment import RubricError, load_assignment
from grader.bundle import bundle_name, cached_bundle, read_bundle
from grader.grading import grade_submission
from grader.infer import infer_assignment
from grader.load.discover import UsageError, read_submission
from grader.model import CheckResult, SubmissionResult
from grader.run.launch import Launcher
from grader.selfcheck import words
from grader.selfcheck.words import MARKS, STYLES


def self_check(
    submission: Path,
    assignment: str | None,
    bundle: Path | None,
    course: str | None,
    launcher: Launcher,
    console: Console,
) -> int:
    """Check ``submission`` on the bundle's public cases and show it; 0 when all pass."""
    plan = read_bundle(bundle_for(submission, assignment, bundle, course))
    result = grade_submission(
        read_submission(submission), plan, sandbox=launcher.sandbox, launcher=launcher
    )
    show(result, plan.title, console)
    return 0 if words.all_passed(result.checks) else 1


def bundle_for(
    submission: Path, assignment: str | None, explicit: Path | None, course: str | None
) -> Path:
    """The public bundle: given, beside the submission, here, or built from the reference.
    Without ``assignment``, it is the one the bundle beside the submission is for, or the
    course's only rubric (:func:`grader.infer.infer_assignment`)."""
    if explicit:
        if not explicit.exists():
            raise UsageError(f"{explicit}: no such bundle file")
        return explicit
    assignment = infer_assignment(assignment, submission=submission, course=course)
    folder = submission if submission.is_dir() else submission.parent
    for candidate in (folder / bundle_name(assignment), Path.cwd() / bundle_name(assignment)):
        if candidate.exists():
            return candidate
    try:
        return cached_bundle(load_assignment(assignment, course))
    except RubricError as exc:
        raise RubricError(
            f"no {bundle_name(assignment)} found beside {submission} or here, and "
            f"it cannot be built ({exc}); pass --bundle FILE"
        ) from exc


def show(result: SubmissionResult, title: str, console: Console) -> None:
    """The self-check as a table, then what to look at: a load error once, above the checks
    it stopped, and each check's feedback otherwise."""
    console.print(f"[bold]{title}[/bold] — self-check of [bold]{result.submission}[/bold]")
    if result.problem:
        console.print(f"[red]{result.problem}[/red]")
    load_error = result.log.load_error
    if load_error:
        console.print(f"[red]{words.not_loaded(load_error)}[/red]", highlight=False)
    for cell, error in result.log.cell_errors:
        console.print(f"[yellow]Note:[/yellow] cell {cell} raised {error}")
    table = Table()
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("points", justify="right", no_wrap=True)
    table.add_column("title")
    for check in result.checks:
        style = STYLES[check.status]
        table.add_row(
            check.id,
            f"[{style}]{MARKS[check.status]} {check.status}[/{style}]",
            words.points(check),
            check.title,
        )
    console.print(table)
    for check in result.checks:
        if _stopped_by(check, load_error) or check.status == "passed":
            continue
        if check.status == "manual" and check.answer:
            continue  # written, waits for an instructor: nothing to do
        style = STYLES[check.status]
        console.print(
            f"[{style}]{MARKS[check.status]} {check.id}[/{style}]: {check.feedback}",
            highlight=False,
        )
        console.print()
    line = words.summary(result.checks)
    console.print(f"[green]{line}[/green]" if words.all_passed(result.checks) else line)


def _stopped_by(check: CheckResult, load_error: str) -> bool:
    """Every case of the check failed only because the code could not be loaded (said once)."""
    return bool(load_error and check.cases) and all(c.message == load_error for c in check.cases)
