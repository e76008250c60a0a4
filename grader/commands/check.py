"""``grader check SUBMISSION``: a student's self-check on the public cases."""

from __future__ import annotations

import importlib
import threading
from pathlib import Path

from rich.console import Console
from rich.table import Table

from grader.assignment import RubricError, load_assignment
from grader.bundle import bundle_name, cached_bundle, read_bundle
from grader.grading import grade_submission
from grader.load.discover import UsageError, read_submission
from grader.model import SubmissionResult
from grader.run.sandbox import choose_sandbox, fallback_warning

STYLES = {
    "passed": "green",
    "failed": "red",
    "error": "red",
    "timeout": "yellow",
    "missing": "yellow",
    "manual": "cyan",
}
MARKS = {"passed": "✓", "failed": "✗", "error": "!", "timeout": "⏱", "missing": "?", "manual": "✎"}


def main(
    *,
    submission: Path,
    assignment: str = "sheet3",
    bundle: Path | None = None,
    course: str | None = None,
    sandbox: str = "auto",
    console: Console | None = None,
) -> int:
    """Run the public checks; 0 when every one passes, 1 otherwise."""
    console = console or Console()
    if not submission.exists():
        raise UsageError(f"{submission}: no such file or folder")
    # scipy (for the statistics) loads while the child runs: a self-check should feel instant
    threading.Thread(target=importlib.import_module, args=("scipy.special",), daemon=True).start()
    plan = read_bundle(find_bundle(submission, assignment, bundle, course))
    layer = choose_sandbox(sandbox)
    warning = fallback_warning(sandbox, layer)
    if warning:
        Console(stderr=True).print(f"[yellow]{warning}[/yellow]", highlight=False)
    result = grade_submission(read_submission(submission), plan, sandbox=layer)
    show(result, plan.title, console)
    automatic = [c for c in result.checks if c.status != "manual"]
    return 0 if automatic and all(c.status == "passed" for c in automatic) else 1


def find_bundle(
    submission: Path, assignment: str, explicit: Path | None, course: str | None
) -> Path:
    """The public bundle: given, beside the submission, here, or built from the reference."""
    if explicit:
        if not explicit.exists():
            raise UsageError(f"{explicit}: no such bundle file")
        return explicit
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
    """The self-check as a table, with a kind summary line."""
    console.print(f"[bold]{title}[/bold] — self-check of [bold]{result.submission}[/bold]")
    if result.problem:
        console.print(f"[red]{result.problem}[/red]")
    for cell, error in result.log.cell_errors:
        console.print(f"[yellow]Note:[/yellow] cell {cell} raised {error}")
    table = Table()
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("points", justify="right", no_wrap=True)
    table.add_column("title")
    for check in result.checks:
        style = STYLES[check.status]
        points = (
            f"–/{check.max_score:g}"
            if check.status == "manual"
            else f"{check.score:g}/{check.max_score:g}"
        )
        table.add_row(
            check.id,
            f"[{style}]{MARKS[check.status]} {check.status}[/{style}]",
            points,
            check.title,
        )
    console.print(table)
    for check in result.checks:
        if check.status not in ("passed", "manual"):
            style = STYLES[check.status]
            console.print(
                f"[{style}]{MARKS[check.status]} {check.id}[/{style}]: {check.feedback}",
                highlight=False,
            )
            console.print()
    automatic = [c for c in result.checks if c.status != "manual"]
    passed = sum(c.status == "passed" for c in automatic)
    score = sum(c.score for c in automatic)
    top = sum(c.max_score for c in automatic)
    line = (
        f"{passed} of {len(automatic)} checks pass on the public cases "
        f"({score:g}/{top:g} points). Hidden cases and written answers are graded after you "
        "submit."
    )
    console.print(f"[green]{line}[/green]" if passed == len(automatic) else line)
