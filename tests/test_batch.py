"""Batch grading at scale: the gradebook, resuming after a crash, regrading, workers, Dask."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from grader import batch
from grader.cli import main
from grader.gradebook import Gradebook, GradebookError
from tests.conftest import ROOT

EXAMPLES = sorted(p for p in (ROOT / "submissions").iterdir() if p.suffix == ".ipynb")


def class_of(folder: Path, copies: int = 2) -> Path:
    """A class folder: each example notebook under several student names."""
    folder.mkdir()
    for n in range(copies):
        for example in EXAMPLES:
            shutil.copy(example, folder / f"{example.stem}{n}.ipynb")
    return folder


def results_of(out: Path) -> list[dict]:
    return json.loads((out / "results.json").read_text())


def grade(folder: Path, out: Path, *extra: str) -> int:
    return main(["grade", str(folder), "--out", str(out), "--seed", "3", *extra])


def runs(out: Path) -> list[tuple[int, int | None, str | None]]:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return db.execute("SELECT id, graded, finished FROM runs ORDER BY id").fetchall()


def test_results_are_stored_as_each_submission_finishes(tmp_path: Path) -> None:
    folder = class_of(tmp_path / "class", copies=1)
    assert grade(folder, tmp_path / "out", "--workers", "1") == 0
    with sqlite3.connect(tmp_path / "out" / "gradebook.sqlite") as db:
        rows = db.execute("SELECT student, score FROM submissions ORDER BY student").fetchall()
        checks = db.execute("SELECT COUNT(*) FROM check_results").fetchone()[0]
    assert [r[0] for r in rows] == sorted(p.stem + "0" for p in EXAMPLES)
    assert checks == 11 * len(EXAMPLES)
    assert {r["student"]: r["score"] for r in results_of(tmp_path / "out")} == dict(rows)


def test_a_rerun_grades_only_what_is_new_or_changed(tmp_path: Path) -> None:
    folder = class_of(tmp_path / "class", copies=1)
    out = tmp_path / "out"
    assert grade(folder, out) == 0
    first = results_of(out)
    assert grade(folder, out) == 0  # nothing changed: nothing graded
    assert runs(out)[-1][1] == 0 and results_of(out) == first
    shutil.copy(folder / "alice0.ipynb", folder / "bob0.ipynb")  # bob resubmits alice's work
    assert grade(folder, out) == 0
    assert runs(out)[-1][1] == 1
    assert {r["student"]: r["score"] for r in results_of(out)}["bob0"] == 76.0
    assert grade(folder, out, "--regrade") == 0
    assert runs(out)[-1][1] == len(EXAMPLES)


def test_a_batch_killed_midway_is_completed_by_the_rerun_exactly_once(tmp_path: Path) -> None:
    """SIGKILL the whole grader mid-batch; the same command then finishes the job, and the
    results equal those of a batch that was never interrupted."""
    folder = class_of(tmp_path / "class", copies=3)
    total = 3 * len(EXAMPLES)
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(folder),
        "--out",
        str(out),
        "--seed",
        "3",
        "--workers",
        "1",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    stored = 0
    deadline = time.monotonic() + 120
    while stored < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            with sqlite3.connect(out / "gradebook.sqlite", timeout=1) as db:
                stored = db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
        except sqlite3.Error:
            pass
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert 3 <= stored < total, "the kill came too late to test anything"
    assert not (out / "results.json").exists()  # never half-written: not written at all yet

    assert grade(folder, out, "--workers", "1") == 0
    (first_run, graded_first, finished_first), (_, graded_second, _) = runs(out)
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        by_run = dict(db.execute("SELECT run_id, COUNT(*) FROM submissions GROUP BY run_id"))
    assert finished_first is None and graded_first is None  # the killed run never finished
    assert by_run[first_run] + graded_second == total  # each graded exactly once in all
    assert len(results_of(out)) == total

    clean = tmp_path / "clean"
    assert grade(folder, clean, "--workers", "1") == 0
    assert results_of(out) == results_of(clean)


def test_workers_and_a_dask_cluster_give_the_same_results(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    folder = class_of(tmp_path / "class", copies=2)
    assert grade(folder, tmp_path / "one", "--workers", "1") == 0
    assert grade(folder, tmp_path / "two", "--workers", "2") == 0
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        assert grade(folder, tmp_path / "dask", "--scheduler", cluster.scheduler_address) == 0
    local = results_of(tmp_path / "one")
    assert results_of(tmp_path / "two") == local
    assert results_of(tmp_path / "dask") == local


def test_manual_grades_live_in_the_gradebook_and_reach_the_results(tmp_path: Path) -> None:
    folder = class_of(tmp_path / "class", copies=1)
    out = tmp_path / "out"
    assert grade(folder, out) == 0
    book = Gradebook(out / "gradebook.sqlite")
    book.set_manual_grade("sheet3", "alice0", "1b.derivation", 8, "Clear and complete.", "TA")
    book.set_manual_grade("sheet3", "alice0", "2a.proof", 6, "The base case is missing.")
    book.set_manual_grade("sheet3", "alice0", "1c.explanation", 0, "Not answered.")
    results = {r.student: r for r in book.results("sheet3")}
    book.close()
    checks = {c.id: c for c in results["alice0"].checks}
    assert (checks["1b.derivation"].status, checks["1b.derivation"].score) == ("passed", 8)
    assert (checks["2a.proof"].status, checks["2a.proof"].score) == ("passed", 6)
    assert "base case" in checks["2a.proof"].feedback
    assert (checks["1c.explanation"].status, checks["1c.explanation"].score) == ("failed", 0)
    assert results["alice0"].score == 76 + 14
    assert {
        c.status
        for r in results.values()
        if r.student != "alice0"
        for c in r.checks
        if c.id == "2a.proof"
    } == {"manual"}


def test_grader_manual_enters_a_grade_and_republishes(tmp_path: Path) -> None:
    folder = class_of(tmp_path / "class", copies=1)
    out = tmp_path / "out"
    assert grade(folder, out) == 0
    assert (
        main(
            [
                "manual",
                str(out),
                "--student",
                "bob0",
                "--check",
                "2a.proof",
                "--score",
                "7",
                "--comment",
                "Good.",
            ]
        )
        == 0
    )
    bob = {r["student"]: r for r in results_of(out)}["bob0"]
    proof = {c["id"]: c for c in bob["checks"]}["2a.proof"]
    assert (proof["status"], proof["score"], proof["feedback"]) == ("passed", 7.0, "Good.")
    assert "Good." in (out / "reports" / "bob0.html").read_text()
    assert (
        main(["manual", str(out), "--student", "bob0", "--check", "1a.hessian", "--score", "1"])
        == 2
    )  # not a manual item
    assert (
        main(["manual", str(out), "--student", "nobody", "--check", "2a.proof", "--score", "1"])
        == 2
    )


def test_a_gradebook_of_another_schema_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    Gradebook(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(GradebookError, match="schema 99"):
        Gradebook(path)
    (tmp_path / "junk.sqlite").write_text("not a database at all " * 100)
    with pytest.raises(GradebookError, match="junk.sqlite"):
        Gradebook(tmp_path / "junk.sqlite")


FORK_PROBE = """
import json, multiprocessing, os, sys, threading
from multiprocessing import forkserver
from grader import batch
from grader.assignment import load_assignment
from grader.grading import grading_plan
from grader.run import sandbox

JOB = batch.Job("sheet3", COURSE, 3, "process")
PLAN = []  # the grader's plan, in the grader's process
MEET = []  # forked workers meet here: two tasks at once run in two workers


def worker():
    if MEET:
        MEET[0].wait(timeout=60)
    held = batch._PLANS[(JOB, threading.get_ident())]
    return [os.getpid(), os.getppid(), held in PLAN, "scipy.special" in sys.modules,
            sandbox._BY_THREAD.get(threading.get_ident())]


if __name__ == "__main__":
    PLAN.append(grading_plan(load_assignment("sheet3", COURSE), 3))
    mine = sandbox.choose_sandbox("process").uid  # the command's own claim, as grade.main's
    if sys.argv[1] == "thread":  # another thread runs: forking now could copy a held lock
        threading.Thread(target=threading.Event().wait, daemon=True).start()
    else:
        MEET.append(multiprocessing.get_context("fork").Barrier(2))
    graders = batch.start_graders(JOB, PLAN[0], 2)
    seen = [task.result() for task in [graders.pool[0].submit(worker) for _ in range(4)]]
    batch.close_batch()
    print(json.dumps({"me": os.getpid(), "mine": mine, "seen": seen,
                      "warm": forkserver._forkserver._forkserver_pid}))
"""


def _probe_workers(tmp_path: Path, mode: str) -> dict:
    """What each worker of a batch started in a fresh process (alone, or with a thread) saw."""
    script = tmp_path / "probe.py"  # a file: the warm process imports it to find ``worker``
    script.write_text(FORK_PROBE.replace("COURSE", repr(str(ROOT))))
    done = subprocess.run(
        [sys.executable, str(script), mode], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked from the grader on Linux")
def test_first_workers_are_forked_from_the_grader_with_its_plan_and_their_own_uid(
    tmp_path: Path,
) -> None:
    """With no other thread running, the workers are forked from the grader's own process:
    each holds the very plan the grader checked the course with (not built again) and
    scipy.special; each claims its own sandbox uid, neither the grader's nor the other's."""
    probe = _probe_workers(tmp_path, "alone")
    workers = {pid: rest for pid, *rest in probe["seen"]}
    assert len(workers) == 2 and probe["warm"] is None  # no warm process was started
    assert {parent for parent, *_ in workers.values()} == {probe["me"]}
    assert all(inherited and warm for _, inherited, warm, _ in workers.values())
    uids = [uid for *_, uid in workers.values()]
    if os.geteuid() == 0:  # uids are claimed only as root
        assert len(set(uids)) == 2 and probe["mine"] not in uids and None not in uids


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="no forkserver here"
)
def test_workers_come_from_the_warm_process_when_a_thread_runs_or_the_pool_starts_again(
    tmp_path: Path,
) -> None:
    """Not a fresh interpreter per worker, and never a fork of a process with other threads:
    then each worker, before its first task, already holds what the warm process imported
    (scipy.special, which only judging imports otherwise) and builds its own plan; a pool
    started again (after a worker died, the plan not given) forks from the same warm
    process."""
    from multiprocessing import forkserver

    probe = _probe_workers(tmp_path, "thread")
    assert {parent for _, parent, *_ in probe["seen"]} == {probe["warm"]} != {probe["me"]}
    assert not any(inherited for _, _, inherited, *_ in probe["seen"])
    assert all(warm for *_, warm, _ in probe["seen"])

    job = batch.Job("sheet3", str(ROOT), 3, "process")
    parents, warm = set(), set()
    for _ in range(2):
        pool = batch._pool(2, str(tmp_path), job)
        try:
            parents |= {pool.submit(os.getppid).result() for _ in range(4)}
            warm.add(pool.submit(eval, "'scipy.special' in __import__('sys').modules").result())
        finally:
            pool.shutdown()
    assert parents == {forkserver._forkserver._forkserver_pid} and os.getpid() not in parents
    assert warm == {True}


def test_a_few_submissions_get_one_worker() -> None:
    assert batch.workers_for(7, 2) == 1
    assert batch.workers_for(8, 2) == 2
    assert batch.workers_for(3, None) == 1


def test_a_batch_graded_in_this_process_builds_its_plan_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan checked before grading is the one graded with: the worker in this process
    does not build it again (its sandboxed server booted while the course was checked), and
    the results are those of a run that builds it again."""
    folder = class_of(tmp_path / "class", copies=1)  # 4 submissions: one worker, this process
    assert grade(folder, tmp_path / "first", "--sandbox", "process") == 0

    def built_again(*args: object) -> None:
        raise AssertionError("the plan was built again")

    monkeypatch.setattr(batch, "grading_plan", built_again)
    assert grade(folder, tmp_path / "again", "--sandbox", "process", "--regrade") == 0
    assert not batch._SERVERS and not batch._PLANS  # closed and let go after the batch
    first, again = results_of(tmp_path / "first"), results_of(tmp_path / "again")
    assert [r["checks"] for r in again] == [r["checks"] for r in first]
    assert not [r for r in again if r.get("problem")]


def test_the_worker_pool_has_ended_when_grade_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool shuts down while the results are published, and is awaited: nothing of the
    batch (its scratch folder, its workers) is left when the command returns."""
    folder = class_of(tmp_path / "class", copies=2)  # 8 submissions: two workers
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert grade(folder, tmp_path / "out", "--workers", "2", "--sandbox", "process") == 0
    assert not batch._CLOSING
    assert not list(scratch.glob("grader-*"))  # the batch's, and its workers' inside it
    assert not multiprocessing.active_children()
    assert len(results_of(tmp_path / "out")) == 2 * len(EXAMPLES)
