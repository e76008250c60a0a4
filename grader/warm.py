"""Where a batch's worker processes come from.

On Linux, a batch's first workers are forked from the grader's own process, while it has no
other thread: they inherit its imports and the plan it checked the course with. Elsewhere,
and for workers started again after one died (the progress bar's thread runs by then), they
are forked from a warm process (multiprocessing's forkserver, with the grader, numpy and
scipy.special imported once) or, where there is none, spawned fresh.

Import-light on purpose: ``grader grade`` may start the warm process before importing its own
modules, so that the two imports run on two cores at once.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Iterable
from multiprocessing.context import BaseContext
from pathlib import Path

# imported once by the process the workers are forked from: all a worker needs but the course;
# the last makes that process end without the interpreter's tear-down
WARM_MODULES = ["grader.batch", "yaml", "numpy.random", "grader.check.special", "grader.warm_exit"]


def worker_context() -> BaseContext:
    """Workers forked from a warm single-threaded process where the platform allows; spawned
    fresh (each importing the grader) elsewhere: for when ``fork_here`` is not safe (the
    parent has threads by then: the progress bar's, the pool's own)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WARM_MODULES)  # used when the server (re)starts
    return context


def fork_here() -> BaseContext | None:
    """Plain fork from this process, when it is safe: on Linux, with no thread but this one
    (a lock another thread held would stay locked in the child). None otherwise."""
    if sys.platform != "linux" or threading.active_count() > 1:
        return None
    return multiprocessing.get_context("fork")


def warm_up() -> None:
    """Start the process that the workers will be forked from, if this platform has one and
    this process cannot fork them itself; it imports the grader while the caller does the
    rest of its start-up. Safe to call again."""
    if fork_here() is None and worker_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def workers_for(submissions: int, asked: int | None = None) -> int:
    """How many worker processes a batch of this many submissions gets: ``asked`` or one per
    core, but one for a few submissions (starting workers costs more than it saves)."""
    workers = asked or (os.cpu_count() or 1)
    return 1 if submissions < 4 * workers else workers


def at_most(paths: Iterable[Path]) -> int | None:
    """At most how many submissions ``paths`` hold, from their names alone (no import of the
    grader's loaders): a folder holds at most one per entry, a file other than a zip one; a
    zip may be a bulk download of any number (None)."""
    total = 0
    for path in paths:
        try:
            if path.is_dir():
                total += sum(1 for _ in os.scandir(path))
            elif path.suffix.lower() == ".zip":
                return None
            else:
                total += 1
        except OSError:
            return None  # the command says what is wrong with it
    return total
