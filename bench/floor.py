"""The floor: run every notebook's code cells in a warm fork of a NumPy interpreter, one fork
in flight per core, with no isolation and no checks. What any grader must at least pay to run
the students' code; ``run_bench.py --floor`` times it beside ``grader grade``.

    python3 bench/floor.py DIR [--workers N]

One process imports numpy and numpy.random (the grader's sandboxed fork server preloads
both, so the ratio credits neither side with a preload; nothing of the grader), then for each
``DIR/*.ipynb`` forks a child that reseeds numpy's global generator (as the grader's children
do), reads the notebook (plain ``json``), runs its code cells in order in a fresh namespace
(an error in a cell is caught and the next cell runs, as in a notebook; IPython ``%``/``!``
lines become ``pass``, as the grader does) with its output sent to /dev/null, and exits. At
most ``--workers`` (default: the number of CPUs) children run at once. The same BLAS thread
settings as the grader's children (one thread each). Prints one summary line.
"""

from __future__ import annotations

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"  # as the grader's sandbox environment; before numpy loads
os.environ.setdefault("MPLBACKEND", "Agg")

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy  # noqa: E402, F401  (the warm interpreter: numpy loaded before any fork)
import numpy.random  # noqa: E402, F401  (loaded lazily by numpy 2; the grader's server preloads it)

MAGIC = re.compile(r"^(\s*)[%!]", re.MULTILINE)


def python_source(source: str) -> str:
    """The cell with its IPython-only lines (``%...``, ``!...``) replaced by ``pass``."""
    if source.lstrip().startswith("%%"):
        return "pass"
    return MAGIC.sub(r"\1pass #", source)


def run_notebook(path: Path) -> int:
    """In the forked child: every code cell in order; the number of cells that raised."""
    numpy.random.seed()  # fresh entropy, as a fresh import (and the grader's child) has
    cells = json.loads(path.read_bytes())["cells"]
    namespace: dict = {"__name__": "__main__"}
    errors = 0
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        try:
            exec(compile(python_source(source), f"<cell {index}>", "exec"), namespace)
        except BaseException:  # as a notebook: the next cell runs
            errors += 1
    return errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    paths = sorted(args.folder.glob("*.ipynb"))
    started = time.perf_counter()
    running: set[int] = set()
    failed = 0
    todo = list(reversed(paths))
    while todo or running:
        while todo and len(running) < args.workers:
            path = todo.pop()
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    null = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(null, 1)
                    os.dup2(null, 2)
                    run_notebook(path)
                    code = 0
                finally:
                    os._exit(code)
            running.add(pid)
        pid, status = os.wait()
        running.discard(pid)
        failed += os.waitstatus_to_exitcode(status) != 0
    wall = time.perf_counter() - started
    print(
        f"floor: {len(paths)} notebooks in {wall:.2f} s ({args.workers} at a time), "
        f"{failed} child(ren) failed",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
