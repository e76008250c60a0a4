"""The CPU time of `grader grade`'s own process (the parent), whole and by phase.

    python3 bench/parent_cpu.py DIR [--course REPO] [--assignment sheet3]

Runs ``grader grade DIR --out OUT`` (OUT a fresh temporary folder, removed after) in this
process (so that ``PYTHONPATH=OTHER`` measures another tree's grader) and prints one JSON line:
the process's CPU seconds (every thread of it, from ``getrusage``; the workers and the
sandboxed children are other processes and are not counted), the main thread's, the peak CPU
of each thread still alive at a result, the cyclic garbage collector's, and the main thread's
CPU in each parent-side phase:

- ``materialize``: reading and parsing each notebook when it is handed to a worker;
- ``keep``: per result, the gradebook ``record``, the manual grades and overrides applied
  (``with_grades``, or ``result`` in a grader that reads the result back) and the report
  (``report``: HTML and Markdown);
- ``publish``: results.json and the class summary, from the gradebook, at the end;
- ``check_course``, ``batch_read`` (hashing every file), ``tell`` (the summary table).

A phase's time includes the phases inside it. On a machine whose cores are all busy (the two
workers), CPU time per operation is higher than in an idle process: compare two versions by
alternating them in one session, not with figures from another day.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PHASES = defaultdict(float)
THREADS: dict[str, float] = {}
GC = {"seconds": 0.0, "started": 0.0}


def _timed(owner: Any, name: str, key: str) -> None:
    """Wrap ``owner.name`` so that the main thread's CPU inside it adds up under ``key``."""
    if not hasattr(owner, name):
        return
    inner = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return inner(*args, **kwargs)
        finally:
            PHASES[key] += time.thread_time() - started

    setattr(owner, name, timed)


def _sample_threads() -> None:
    """The CPU each of this process's threads has used so far (/proc), by thread name."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir("/proc/self/task"):
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(tid), tid)
        THREADS[name] = max(THREADS.get(name, 0.0), (int(fields[11]) + int(fields[12])) / tick)


def _count_gc(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        GC["started"] = time.thread_time()
    else:
        GC["seconds"] += time.thread_time() - GC["started"]


def _instrument() -> None:
    import grader.commands.grade as grade
    import grader.gradebook as gradebook
    import grader.model as model

    _timed(model.Submission, "materialize", "materialize")
    _timed(grade._Store, "keep", "keep")
    _timed(gradebook.Gradebook, "record", "keep.record")
    _timed(gradebook.Gradebook, "with_grades", "keep.with_grades")
    _timed(gradebook.Gradebook, "result", "keep.result")
    _timed(grade, "write_report", "keep.report")
    _timed(grade, "publish", "publish")
    _timed(grade, "check_course", "check_course")
    _timed(grade._Batch, "read", "batch_read")
    _timed(grade, "_tell", "tell")
    keep: Callable[..., Any] = grade._Store.keep

    def sampled(*args: Any) -> Any:
        _sample_threads()
        return keep(*args)

    grade._Store.keep = sampled  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path)
    parser.add_argument("--course", type=Path, default=REPO)
    parser.add_argument("--assignment", default="sheet3")
    options = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="grader-parent-cpu-"))
    import grader.cli

    run = grader.cli.run

    def instrumented(command: str, kwargs: dict[str, Any]) -> int:
        _instrument()
        return run(command, kwargs)

    grader.cli.run = instrumented
    gc.callbacks.append(_count_gc)
    wall, main_cpu = time.monotonic(), time.thread_time()
    argv = ["grade", str(options.submissions), "--out", str(out / "out")]
    code = grader.cli.main(
        [*argv, "--course", str(options.course), "--assignment", options.assignment]
    )
    _sample_threads()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    shutil.rmtree(out, ignore_errors=True)
    figures = {
        "exit": code,
        "wall": round(time.monotonic() - wall, 3),
        "process": round(usage.ru_utime + usage.ru_stime, 3),
        "main_thread": round(time.thread_time() - main_cpu, 3),
        "gc": round(GC["seconds"], 3),
        **{key: round(seconds, 4) for key, seconds in sorted(PHASES.items())},
        "threads": THREADS,
    }
    print(json.dumps(figures))
    return code


if __name__ == "__main__":  # the forkserver imports this module too: only the parent runs it
    sys.exit(main())
