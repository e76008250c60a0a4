"""``grader grade PATH... --out DIR``: the instructor's batch.

Writes ``DIR/results.json`` (the contract's format), one report per student under
``DIR/reports/``, a class summary, ``DIR/grading.json`` recording the hidden-case seed so
that a rerun grades on the same hidden cases, and ``DIR/submissions.json`` with what the LMS
download and the roster said of each student (read by ``grader export``).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

import grader
from grader.assignment import load_assignment
from grader.export.graded import lms_summary, write_sidecar
from grader.export.results import write_json_atomic, write_results
from grader.grading import Plan, grade_submission, grading_plan
from grader.load.discover import Naming, discover
from grader.load.lms import compile_pattern
from grader.load.roster import read_roster
from grader.model import Submission, SubmissionResult
from grader.report.render import render_report, render_summary
from grader.run.sandbox import Sandbox, choose_sandbox, fallback_warning


def main(
    *,
    paths: list[Path],
    out: Path,
    assignment: str = "sheet3",
    course: str | None = None,
    seed: int | None = None,
    sandbox: str = "auto",
    console: Console | None = None,
    roster: Path | None = None,
    name_pattern: str | None = None,
) -> int:
    """Grade every submission found under ``paths``; 0 when every one was graded."""
    console = console or Console(stderr=True)
    spec = load_assignment(assignment, course)
    pattern = compile_pattern(name_pattern) if name_pattern else None
    class_list = read_roster(roster) if roster else None
    namings: list[Naming] = []
    submissions = list(discover(paths, pattern, namings))
    for naming in namings:
        console.print(naming.describe(), highlight=False)
    out.mkdir(parents=True, exist_ok=True)
    hidden_seed = _hidden_seed(out, assignment, seed)
    layer = choose_sandbox(sandbox)
    warning = fallback_warning(sandbox, layer)
    if warning:
        console.print(f"[yellow]{warning}[/yellow]")
    console.print(
        f"Grading {len(submissions)} submission(s) of {spec.name} "
        f"(sandbox: {layer.describe()}, hidden seed {hidden_seed}) into {out}"
    )
    plan = grading_plan(spec, hidden_seed)
    results = []
    for result in _with_progress(grade_all(submissions, plan, layer), len(submissions), console):
        render_report(result, out / "reports", spec.course / "templates", spec.title)
        results.append(result)
    write_results(results, out / "results.json")
    write_sidecar(out, spec, submissions, class_list)
    render_summary(results, out / "reports", spec.course / "templates", spec.title)
    _summary_table(results, console)
    for line in lms_summary(submissions, class_list):
        console.print(line, highlight=False)
    console.print(f"Wrote {out / 'results.json'} and {len(results)} report(s) in {out / 'reports'}")
    return 0


def grade_all(
    submissions: Iterable[Submission], plan: Plan, sandbox: Sandbox
) -> Iterator[SubmissionResult]:
    """Grade one submission after another; a broken one is graded, never fatal."""
    for submission in submissions:
        yield grade_submission(submission, plan, sandbox=sandbox)


def _hidden_seed(out: Path, assignment: str, seed: int | None) -> int:
    """The seed of the hidden cases: given, recorded by an earlier run, or drawn and recorded."""
    record = out / "grading.json"
    if seed is None and record.exists():
        data = json.loads(record.read_text(encoding="utf-8"))
        if data.get("assignment") == assignment:
            return int(data["hidden_seed"])
    seed = secrets.randbelow(2**31) if seed is None else seed
    write_json_atomic(
        {
            "assignment": assignment,
            "hidden_seed": seed,
            "grader": grader.__version__,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
        record,
    )
    return seed


def _with_progress(
    results: Iterator[SubmissionResult], total: int, console: Console
) -> Iterator[SubmissionResult]:
    """A progress bar on a terminal; plain lines every few seconds elsewhere (CI, logs)."""
    if console.is_terminal:
        columns = (
            TextColumn("grading"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("grading", total=total, rate="")
            started = time.monotonic()
            for done, result in enumerate(results, start=1):
                rate = done / max(time.monotonic() - started, 1e-9)
                progress.update(task, advance=1, rate=f"{rate:.1f}/s")
                yield result
        return
    started = last = time.monotonic()
    for done, result in enumerate(results, start=1):
        now = time.monotonic()
        if now - last >= 5 or done == total:
            console.print(f"graded {done}/{total} ({done / max(now - started, 1e-9):.1f}/s)")
            last = now
        yield result


def _summary_table(results: list[SubmissionResult], console: Console) -> None:
    table = Table(title="Summary")
    for column in ("student", "score", "passed", "failed", "error/timeout", "missing", "note"):
        table.add_column(
            column, justify="right" if column != "student" and column != "note" else "left"
        )
    for r in results:
        count = {
            s: sum(c.status == s for c in r.checks)
            for s in ("passed", "failed", "error", "timeout", "missing")
        }
        note = r.problem or (
            f"{len(r.log.cell_errors)} cell(s) raised" if r.log.cell_errors else ""
        )
        table.add_row(
            r.student,
            f"{r.score:g}/{r.max_score:g}",
            str(count["passed"]),
            str(count["failed"]),
            str(count["error"] + count["timeout"]),
            str(count["missing"]),
            note[:60],
        )
    console.print(table)
    problems = [r for r in results if r.problem]
    if problems:
        console.print(f"[yellow]{len(problems)} submission(s) could not be read:[/yellow]")
        for r in problems:
            console.print(f"  {r.student}: {r.problem}")
