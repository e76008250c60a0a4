"""``grader grade PATH... --out DIR``: the instructor's batch.

Writes ``DIR/results.json`` (the contract's format), one report per student under
``DIR/reports/``, a class summary, ``DIR/grading.json`` recording the hidden-case seed so
that a rerun grades on the same hidden cases, and ``DIR/submissions.json`` with what the LMS
download and the roster said of each student (read by ``grader export``).
"""

from __future__ import annotations

import hashlib
import secrets
import statistics
import time
from collections import Counter, deque
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

import grader
from grader.assignment import Assignment, load_assignment
from grader.atomic import write_json_atomic
from grader.batch import Job, close_batch, start_graders, start_here, workers_for
from grader.errors import CourseError, UserError
from grader.export.graded import lms_summary, write_sidecar
from grader.gradebook import Gradebook, Stored
from grader.grading import Plan, grading_plan
from grader.infer import RECORD, infer_assignment, read_record
from grader.load.discover import Naming, UsageError, discover, peek
from grader.load.lms import compile_pattern
from grader.load.roster import read_roster
from grader.model import Submission, SubmissionResult
from grader.report.escape import markup, terminal_text
from grader.run.sandbox import DEFAULT_SANDBOX, Sandbox, choose_sandbox, fallback_warning
from grader.warm import warm_up

if TYPE_CHECKING:
    from grader.report.render import ReportWriter


def main(
    *,
    paths: list[Path],
    out: Path,
    assignment: str | None = None,
    course: str | None = None,
    seed: int | None = None,
    sandbox: str = DEFAULT_SANDBOX,
    console: Console | None = None,
    roster: Path | None = None,
    name_pattern: str | None = None,
    regrade: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    gradebook: Path | None = None,
) -> int:
    """Grade every submission found under ``paths``; 0 when every one was graded."""
    console = console or Console(stderr=True)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: --out must be a folder, and this is a file; {_FOLDER_HINT}")
    spec = load_assignment(infer_assignment(assignment, out=out, course=course), course)
    class_list = read_roster(roster) if roster else None
    shells = _find(paths, name_pattern, console)
    here = scheduler is None and workers_for(len(shells), workers) <= 1  # graded in this process
    if not here and scheduler is None:
        warm_up()  # the workers' warm parent starts importing while this one goes on
    out.mkdir(parents=True, exist_ok=True)
    hidden_seed = _hidden_seed(out, spec, seed)
    layer = _sandbox(sandbox, console)
    job = Job(spec.name, str(spec.course), hidden_seed, layer.name)
    if here:
        start_here(job)  # the sandboxed server boots while the course is checked
    try:
        plan = course_plan(spec, hidden_seed)  # a mistake in the course's code stops here
        book = Gradebook(gradebook or out / "gradebook.sqlite")
        key = plan_key(spec, hidden_seed)
        batch = _Batch.read(shells, {} if regrade else book.stored(spec.name), key)
        del shells  # the batch holds what grading needs: each submission is read again in turn
        workers = workers_for(batch.count, workers)
        graders = start_graders(job, plan, workers, scheduler)  # worker processes start now
        graded = graders.grade(_drain(batch.todo))  # and get their first submissions
        # while they boot their sandboxes: the reports' modules (jinja2, markdown, MathML:
        # 0.16 s), which no worker needs, and every template rendered once on samples (a
        # course's mistake stops the batch here, before any result is kept)
        from grader.publish import check_templates, publish, report_writer

        check_templates(spec)
        where = f"on {scheduler}" if scheduler else f"{workers} worker(s)"
        console.print(
            f"Grading {batch.count} of {len(batch.submissions)} submission(s) of {spec.name} "
            f"({len(batch.submissions) - batch.count} unchanged since the last run; sandbox: "
            f"{layer.describe()}, {where}, hidden seed {hidden_seed}) into {out}",
            markup=False,
        )
        write_sidecar(out, spec, batch.submissions, class_list)  # before any crash
        run = book.start_run(spec.name, key, hidden_seed, layer.describe())
        store = _Store(book, run, key, report_writer(spec, out))
        _grade_all(batch, graded, store, console)
        results = publish(book, spec, out, {s.student for s in batch.submissions}, store.failures)
        book.close()
        write_sidecar(out, spec, _with_problems(batch.submissions, results), class_list)
        _tell(results, store.failures, lms_summary(batch.submissions, class_list), out, console)
    finally:
        close_batch()  # the workers end while the results are published
    return 0


_FOLDER_HINT = "give a folder's path (it is created if missing)"
# redraws of the progress bar per second: rich's default 10 cost the parent 15 ms of CPU a
# second (1.5 ms per submission at ten submissions a second), 2 cost 4.5 ms
PROGRESS_REFRESH = 2


class Interrupted(UserError):
    """Ctrl-C during a batch: what was graded is kept, and a rerun continues."""


def _find(paths: list[Path], name_pattern: str | None, console: Console) -> list[Submission]:
    """Every submission under ``paths``, by name only (its code is read later), after saying
    how each folder or bulk download named its students."""
    pattern = compile_pattern(name_pattern) if name_pattern else None
    namings: list[Naming] = []
    shells = list(discover(paths, pattern, namings, lazy=True))
    if not shells:
        raise UsageError(
            f"{', '.join(map(str, paths))}: no submission found (a notebook .ipynb, a module "
            ".py, a folder or a .zip); check the path"
        )
    for naming in namings:
        console.print(terminal_text(naming.describe()), highlight=False)
    return shells


def _sandbox(name: str, console: Console) -> Sandbox:
    """The isolation layer asked for, with a warning when ``auto`` had to fall back."""
    layer = choose_sandbox(name)
    warning = fallback_warning(name, layer)
    if warning:
        console.print(f"[yellow]{markup(warning)}[/yellow]")
    return layer


@dataclass
class _Batch:
    """What a run grades: every submission found (without its code, for the sidecar), the
    ones new or changed since they were stored (not read yet), and each one's content hash."""

    submissions: list[Submission]
    todo: deque[Submission]  # handed out (and let go of) one by one as they are graded
    hashes: dict[str, str]  # of each one to grade, by student (one submission each)

    @property
    def count(self) -> int:
        """How many there are to grade (``todo`` empties as they are handed out)."""
        return len(self.hashes)

    @classmethod
    def read(cls, shells: list[Submission], stored: dict[str, Stored], key: str) -> _Batch:
        """Read and hash each submission (it is parsed only when graded); keep only what
        grading needs later."""
        batch = cls([], deque(), {})
        for shell in shells:
            submission = peek(shell)
            batch.submissions.append(_light(submission))
            if stored.get(submission.student) != Stored(submission.content_hash, key):
                batch.todo.append(shell)
                batch.hashes[submission.student] = submission.content_hash
        return batch


@dataclass
class _Store:
    """Where each graded result goes: the gradebook, under one run, then the student's report
    as the gradebook holds it (manual grades and overrides included)."""

    book: Gradebook
    run: int
    key: str
    reports: ReportWriter
    graded: int = 0
    failures: list[SubmissionResult] = field(default_factory=list)

    def keep(self, result: SubmissionResult, content_hash: str) -> None:
        if result.problem and result.problem.startswith("internal:"):
            self.failures.append(result)  # not stored: the next run grades it again
        else:
            self.book.record(self.run, self.key, content_hash, result)
            self.graded += 1
            result = self.book.with_grades(result)
        self.reports.write(result)


def _grade_all(
    batch: _Batch, results: Iterator[SubmissionResult], store: _Store, console: Console
) -> None:
    """Keep every result as it comes, under a progress bar; on Ctrl-C, stop the workers and
    close the run with what was graded."""
    shown = _with_progress(results, batch.count, console)
    try:
        for result in shown:
            store.keep(result, batch.hashes[result.student])
    except KeyboardInterrupt:
        shown.close()  # the workers and their sandboxes go now
        store.book.finish_run(store.run, store.graded)
        store.book.close()
        raise Interrupted(
            f"interrupted: {store.graded} of {batch.count} submission(s) graded and kept "
            f"in {store.book.path}; run the same command again to grade the rest"
        ) from None
    store.book.finish_run(store.run, store.graded)


def _tell(
    results: list[SubmissionResult],
    failures: list[SubmissionResult],
    lms_lines: list[str],
    out: Path,
    console: Console,
) -> None:
    """The end of a batch: the summary, what the LMS download and roster said, the
    submissions to grade again, and where it was all written."""
    _summary_table(results, console)
    for line in lms_lines:
        console.print(terminal_text(line), highlight=False)
    for result in failures:
        console.print(
            f"[red]{markup(result.student)}: {markup(result.problem)}[/red]", highlight=False
        )
    console.print(
        f"Wrote {out / 'results.json'} and {len(results)} report(s) in {out / 'reports'}",
        markup=False,
    )


def course_plan(spec: Assignment, hidden_seed: int) -> Plan:
    """The plan (every case generator and expected value), built before any submission is
    graded, so that a mistake in the course's code stops the batch with where it is."""
    try:
        return grading_plan(spec, hidden_seed)
    except UserError:
        raise
    except Exception as exc:  # the instructor's code: say where, never a traceback
        raise CourseError(
            f"{spec.reference_path}: the cases of {spec.name} could not be built "
            f"({type(exc).__name__}: {exc}); fix the case generators there or the rubric "
            f"{spec.rubric_path}"
        ) from None


def plan_key(spec: Assignment, hidden_seed: int) -> str:
    """What a stored result was graded under: the rubric, the reference, the hidden seed and
    the grader's version. A change to any of them means grading again."""
    digest = hashlib.sha256(spec.rubric_path.read_bytes())
    if spec.reference_path and spec.reference_path.exists():
        digest.update(spec.reference_path.read_bytes())
    digest.update(f"{hidden_seed}:{grader.__version__}".encode())
    return digest.hexdigest()[:16]


def _drain(queue: deque[Submission]) -> Iterator[Submission]:
    """Read and hand out submissions one by one, letting go of each once handed out: only the
    submissions in flight hold their code in memory."""
    while queue:
        yield queue.popleft().materialize()


def _light(submission: Submission) -> Submission:
    """The submission without its code: what the sidecar needs, small enough to keep."""
    return replace(submission, cells=(), answers={}, loader=None)


def _with_problems(
    submissions: list[Submission], results: list[SubmissionResult]
) -> list[Submission]:
    """The submissions with the problems that reading their code found (known only once they
    were parsed for grading, or from the stored result of an unchanged one)."""
    found = {
        r.student: r.problem
        for r in results
        if r.problem and not r.problem.startswith("internal:")  # the grader's, not the file's
    }
    return [replace(s, problem=found.get(s.student, s.problem)) for s in submissions]


def _hidden_seed(out: Path, spec: Assignment, seed: int | None) -> int:
    """The seed of the hidden cases: given, recorded by an earlier run, or drawn and recorded.
    The record (``grading.json``) also names the assignment and the course folder, so the
    commands that read a graded folder need neither ``--assignment`` nor ``--course``."""
    data = read_record(out)
    if seed is None and data.get("assignment") == spec.name:
        seed = int(data["hidden_seed"])
    else:
        seed = secrets.randbelow(2**31) if seed is None else seed
        data = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    record = {
        "assignment": spec.name,
        "course": str(spec.course),
        "hidden_seed": seed,
        "grader": grader.__version__,
        "started": data.get("started", time.strftime("%Y-%m-%dT%H:%M:%S%z")),
    }
    if record != data:
        write_json_atomic(record, out / RECORD)
    return seed


def _with_progress(
    results: Iterator[SubmissionResult], total: int, console: Console
) -> Generator[SubmissionResult, None, None]:
    """A progress bar on a terminal; plain lines every few seconds elsewhere (CI, logs)."""
    if console.is_terminal:
        columns = (
            TextColumn("grading"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
        )
        with Progress(
            *columns, console=console, transient=True, refresh_per_second=PROGRESS_REFRESH
        ) as progress:
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
    """A row per student for a small class; per check pass rates for a large one. Problems
    are listed last, so they are not lost in the scroll."""
    console.print(_student_table(results) if len(results) <= 40 else _check_table(results))
    if results:
        scores = sorted(r.score for r in results)
        console.print(
            f"Scores: median {statistics.median(scores):g}, lowest {scores[0]:g}, "
            f"highest {scores[-1]:g} of {results[0].max_score:g}"
        )
    problems = [r for r in results if r.problem]
    if problems:
        console.print(f"[yellow]{len(problems)} submission(s) could not be graded fully:[/yellow]")
        for r in problems:
            console.print(f"  {markup(r.student)}: {markup(r.problem)}", highlight=False)


def _student_table(results: list[SubmissionResult]) -> Table:
    """One row per student: score, how many checks passed, failed, ... and a note."""
    table = Table(title="Summary")
    for column in ("student", "score", "passed", "failed", "error/timeout", "missing", "note"):
        table.add_column(column, justify="left" if column in ("student", "note") else "right")
    for r in results:
        count = Counter(c.status for c in r.checks)
        note = r.problem or (
            f"{len(r.log.cell_errors)} cell(s) raised" if r.log.cell_errors else ""
        )
        table.add_row(
            terminal_text(r.student),
            f"{r.score:g}/{r.max_score:g}",
            str(count["passed"]),
            str(count["failed"]),
            str(count["error"] + count["timeout"]),
            str(count["missing"]),
            terminal_text(note[:60]),
        )
    return table


def _check_table(results: list[SubmissionResult]) -> Table:
    """One row per check: how many students passed it, failed it, ..."""
    table = Table(title=f"Summary of {len(results)} submissions")
    for column in ("check", "passed", "failed", "error/timeout", "missing", "manual"):
        table.add_column(column, justify="left" if column == "check" else "right")
    by_check: dict[str, Counter[str]] = {}
    for r in results:
        for c in r.checks:
            by_check.setdefault(c.id, Counter())[c.status] += 1
    for check_id, tally in by_check.items():
        table.add_row(
            terminal_text(check_id),
            str(tally["passed"]),
            str(tally["failed"]),
            str(tally["error"] + tally["timeout"]),
            str(tally["missing"]),
            str(tally["manual"]),
        )
    return table
