"""Grade many submissions at once: warm workers on every core, or a Dask cluster.

Every worker grades with the same plan (same rubric, reference and hidden seed) and keeps one
warm fork server in the sandbox, so a submission costs a fork, not an interpreter. The worker
processes themselves are forked, on Linux, from the grader's own process before it starts any
thread, inheriting its imports and the plan it checked the course with; elsewhere, and when a
worker died and the pool starts again, from one warm process (multiprocessing's forkserver,
the grader, numpy and scipy.special imported once), each building the plan itself.
Submissions are streamed with a bounded number in flight, and results come back as they
finish; the parent alone keeps the gradebook. The student code still runs only in the
sandboxed children.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import logging
import os
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.util import Finalize
from pathlib import Path

from grader.assignment import load_assignment
from grader.check.engine import unreadable_check
from grader.grading import Plan, grade_submission, grading_plan
from grader.model import Submission, SubmissionResult
from grader.run.launch import ForkServer
from grader.run.sandbox import choose_sandbox
from grader.run.scratch import remove_mounted
from grader.warm import fork_here, worker_context, workers_for

logger = logging.getLogger(__name__)

__all__ = [
    "Graders",
    "Job",
    "close_batch",
    "grade_one",
    "start_graders",
    "start_here",
    "workers_for",
]


@dataclass(frozen=True)
class Job:
    """What every worker needs to build the same plan and sandbox."""

    assignment: str
    course: str
    hidden_seed: int
    sandbox: str


# per process and thread: the sandboxed fork server, and the plan
_SERVERS: dict[tuple[Job, int], ForkServer] = {}
_PLANS: dict[tuple[Job, int], Plan] = {}
_OPEN: list[tuple[ProcessPoolExecutor, str]] = []  # worker pools started, with their scratch
_CLOSING: list[threading.Thread] = []  # worker pools shutting down


def _forget_parents() -> None:
    """In a forked child: the parent's servers, plans and pools are the parent's to use and
    close, never the child's."""
    for held in (_SERVERS, _PLANS, _OPEN, _CLOSING):
        held.clear()


os.register_at_fork(after_in_child=_forget_parents)


def _worker(job: Job) -> tuple[Plan, ForkServer]:
    key = (job, threading.get_ident())
    server = _server(job)  # booting: its Python loads numpy while the plan is built
    if key not in _PLANS:
        _PLANS[key] = grading_plan(load_assignment(job.assignment, job.course), job.hidden_seed)
    return _PLANS[key], server


def _server(job: Job) -> ForkServer:
    """This thread's sandboxed fork server for ``job``, booted (not waited for) when new and
    closed when the process ends."""
    key = (job, threading.get_ident())
    if key not in _SERVERS:
        server = ForkServer(choose_sandbox(job.sandbox))
        atexit.register(server.close)  # a plain or Dask worker process
        Finalize(server, server.close, exitpriority=10)  # a multiprocessing worker
        server.boot()  # returns at once
        _SERVERS[key] = server
    return _SERVERS[key]


def start_here(job: Job) -> None:
    """Before a batch graded in this process (one worker): boot its sandboxed fork server now,
    so that its Python loads numpy while the caller checks the course."""
    _server(job)


def _keep_plan(job: Job, plan: Plan) -> None:
    """The plan the caller built for ``job`` (the same rubric, reference and hidden seed), so
    that grading in this process does not build it again."""
    _PLANS[(job, threading.get_ident())] = plan


def grade_one(job: Job, submission: Submission) -> SubmissionResult:
    """Grade one submission with this worker's warm fork server."""
    plan, server = _worker(job)
    return grade_submission(submission, plan, launcher=server)


def _start_worker(folder: str, job: Job, plan: Plan | None) -> None:
    """A new worker process: temporary folders under the batch's, then its sandboxed fork
    server booting and its plan kept (inherited) or built while the first submission is on
    its way."""
    _use_scratch(folder)
    if plan is not None:
        _keep_plan(job, plan)
    try:
        _worker(job)
    except Exception:  # grade_one meets the same failure and reports it per submission
        logger.exception("starting a worker")


def close_batch() -> None:
    """Close what this process started for its batches: its own sandboxed server (a batch
    graded in this process), and the worker pools, still ending, awaited with their scratch
    removed. (The process's exit awaits them too.)"""
    _close_workers()
    while _OPEN:  # a pool whose results were never asked for
        _closing(*_OPEN.pop())
    while _CLOSING:
        _CLOSING.pop().join()


def _close_workers() -> None:
    for server in _SERVERS.values():
        server.close()
    _SERVERS.clear()
    _PLANS.clear()


@dataclass(frozen=True)
class Graders:
    """Where a batch is graded, started (``start_graders``) before its submissions are read."""

    job: Job
    workers: int = 1
    scheduler: str | None = None
    pool: tuple[ProcessPoolExecutor, str] | None = None  # worker processes, their scratch

    def grade(self, submissions: Iterable[Submission]) -> Iterator[SubmissionResult]:
        """Every submission's result, in the order they finish. Worker processes get their
        first submissions at once, the rest as results are asked for."""
        if self.scheduler:
            return _on_dask(submissions, self.job, self.scheduler)
        if self.pool is None:
            return _here(submissions, self.job)
        pending = iter(submissions)
        running: Running = {}
        _fill(self.pool[0], self.job, pending, running, self.workers)
        return _on_processes(pending, running, self.job, self.workers, self.pool)


def start_graders(job: Job, plan: Plan, workers: int = 1, scheduler: str | None = None) -> Graders:
    """Start grading ``job`` with ``plan``, the one the caller built for it: on a Dask
    cluster, in this process, or in ``workers`` worker processes. Those start now, before the
    caller starts a thread (a progress bar's): on Linux they are forked from this process,
    and inherit the plan."""
    if scheduler:
        return Graders(job, workers, scheduler)
    if workers <= 1:
        _keep_plan(job, plan)
        return Graders(job)
    scratch = tempfile.mkdtemp(prefix="grader-batch-")  # workers' scratch, even a killed one's
    pool = (_pool(workers, scratch, job, plan), scratch)
    _OPEN.append(pool)
    return Graders(job, workers, pool=pool)


def _here(submissions: Iterable[Submission], job: Job) -> Iterator[SubmissionResult]:
    """Grade in this process, one submission after the other."""
    try:
        for number, submission in enumerate(submissions):
            if number == 0:  # judging's scipy loads while the first child runs its cells
                threading.Thread(target=_import_judging, daemon=True).start()
            yield grade_one(job, submission)
    finally:
        _close_workers()


def _import_judging() -> None:
    importlib.import_module("grader.check.special")


Running = dict[Future[SubmissionResult], tuple[Submission, bool]]  # -> (it, graded alone)


def _fill(
    pool: ProcessPoolExecutor,
    job: Job,
    pending: Iterator[Submission],
    running: Running,
    workers: int,
) -> None:
    """Hand out submissions until every worker has two in flight (or none is left)."""
    for submission in pending:
        running[pool.submit(grade_one, job, submission)] = (submission, False)
        if len(running) >= 2 * workers:
            break


def _on_processes(
    pending: Iterator[Submission],
    running: Running,
    job: Job,
    workers: int,
    started: tuple[ProcessPoolExecutor, str],
) -> Iterator[SubmissionResult]:
    """A pool of worker processes, at most two submissions each in flight.

    A worker that dies (an OOM kill, a signal, a crash) breaks the pool and fails every
    submission in flight: the pool is started again, the rest is graded, and each submission
    that was in flight is graded once more, alone, so that an innocent one scores as it would
    have. One that loses its worker even alone is recorded as ``error`` with the reason."""
    suspects: deque[Submission] = deque()  # in flight when a worker died
    pool, scratch = started
    try:
        while True:
            if suspects:
                if not running:  # a suspect runs alone, so a death is its own
                    suspect = suspects.popleft()
                    running[pool.submit(grade_one, job, suspect)] = (suspect, True)
            else:
                _fill(pool, job, pending, running, workers)
            if not running:
                return
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            lost = [f for f in done if isinstance(f.exception(), BrokenProcessPool)]
            for future in done:
                if future not in lost:
                    yield _result(future, running.pop(future)[0], job)
            if not lost:
                continue
            wait(running)  # the pool is broken: every other future ends at once
            for future, (submission, alone) in running.items():
                exc = future.exception()
                if not isinstance(exc, BrokenProcessPool):
                    yield _result(future, submission, job)  # it finished before the death
                elif alone:
                    yield _lost(submission, job, exc)
                else:
                    suspects.append(submission)
            running.clear()
            pool.shutdown(wait=True, cancel_futures=True)
            pool = _pool(workers, scratch, job)
    finally:  # the pool ends while the caller publishes: close_batch() waits for it
        if started in _OPEN:
            _OPEN.remove(started)
        _closing(pool, scratch)


def _closing(pool: ProcessPoolExecutor, scratch: str) -> None:
    closing = threading.Thread(target=_close_pool, args=(pool, scratch), name="batch-close")
    closing.start()
    _CLOSING.append(closing)


def _close_pool(pool: ProcessPoolExecutor, scratch: str) -> None:
    """Stop the workers (each closes its sandboxed server), then remove the batch's scratch."""
    pool.shutdown(wait=True, cancel_futures=True)
    try:
        remove_mounted(Path(scratch))  # a killed worker's job mounts too
    except OSError:
        shutil.rmtree(scratch, ignore_errors=True)


def _pool(workers: int, scratch: str, job: Job, plan: Plan | None = None) -> ProcessPoolExecutor:
    """Worker processes forked from this process, inheriting ``plan``, where it is safe
    (``fork_here``); from the warm process otherwise, each building its plan."""
    context = fork_here() if plan is not None else None
    if context is None:
        return ProcessPoolExecutor(
            workers,
            mp_context=worker_context(),
            initializer=_start_worker,
            initargs=(scratch, job, None),
        )
    _import_judging()  # before the fork, so that every worker has it
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(scratch, job, plan)
    )
    gc.freeze()  # what the workers inherit stays out of their collections, its pages shared
    try:
        pool.submit(int)  # with fork, the first submit forks every worker, then the pool's threads
    finally:
        gc.unfreeze()
    return pool


def _use_scratch(folder: str) -> None:
    """In a worker: make temporary folders under the batch's, which the parent removes."""
    tempfile.tempdir = folder


def _lost(submission: Submission, job: Job, exc: BaseException | None) -> SubmissionResult:
    """A submission whose worker died while it was graded alone: its error, with the reason."""
    problem = (  # "internal:": not stored, so that a rerun grades it again
        f"internal: the grader's worker process died twice while grading {submission.path}, "
        f"the second time alone ({type(exc).__name__}): most often the system killed it for "
        "lack of memory; check the machine's memory (dmesg) and rerun the batch"
    )
    spec = load_assignment(job.assignment, job.course)
    checks = tuple(unreadable_check(check, problem) for check in spec.checks)
    return SubmissionResult(
        submission.student, str(submission.path), checks, spec.name, problem=problem
    )


def _on_dask(
    submissions: Iterable[Submission], job: Job, scheduler: str
) -> Iterator[SubmissionResult]:
    """The same work on a Dask distributed cluster; the gradebook stays with the caller."""
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError("--scheduler needs Dask: pip install 'numgrader[cluster]'") from exc
    with Client(scheduler) as client:
        workers = max(sum(client.nthreads().values()), 1)
        pending = iter(submissions)
        started: dict[str, Submission] = {}
        first = []
        for submission in pending:
            future = client.submit(grade_one, job, submission, pure=False)
            started[future.key] = submission
            first.append(future)
            if len(first) >= 2 * workers:
                break
        flow = as_completed(first)
        for future in flow:
            yield _result(future, started.pop(future.key), job)
            following = next(pending, None)
            if following is not None:
                nxt = client.submit(grade_one, job, following, pure=False)
                started[nxt.key] = following
                flow.add(nxt)


def _result(future: object, submission: Submission, job: Job) -> SubmissionResult:
    """The future's result; a worker that failed costs this submission a clear message."""
    try:
        return future.result()  # type: ignore[attr-defined, no-any-return]
    except Exception as exc:  # the grader's worker failed, not the student
        problem = (
            f"internal: the grader's worker failed on {submission.path} "
            f"({type(exc).__name__}: {exc}); rerun the batch to grade it"
        )
        spec = load_assignment(job.assignment, job.course)
        checks = tuple(unreadable_check(check, problem) for check in spec.checks)
        return SubmissionResult(
            submission.student, str(submission.path), checks, spec.name, problem=problem
        )
