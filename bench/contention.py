"""What a second busy core costs the first: the same work alone, then on every core at once.

    python3 bench/contention.py [NOTEBOOK] [--rounds R] [--repeat M]

Forks one child, then one per core at the same time, each running the same work M times, R
rounds each, and reports the median CPU time (user + system, from the kernel's accounting of
each child) of one unit of work in both settings:

- a notebook's code cells run as ``bench/floor.py`` runs them (the floor's unit of
  work; default: the first notebook of ``bench/work/compare-n40/submissions``);
- a pure-Python loop (no memory traffic to speak of).

On a machine whose cores are independent the two settings cost the same. Where they share a
physical core (SMT siblings, or a host's vCPUs on one core) or its caches and memory bus, work
run on both at once costs more CPU time each: overlapping two pieces of work then buys less
than the idle core suggests, and a grader's fixed cost cannot be hidden behind its own
parallel start. The floor ratio's limit on such a host follows from CPU time, not from cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import floor  # noqa: E402  (numpy imported once, before any fork, as the floor does)


def _python_loop() -> None:
    total = 0
    for i in range(3_000_000):
        total += i


def _children(work: Callable[[], None], count: int, repeat: int) -> list[float]:
    """``count`` children at once, each running ``work`` ``repeat`` times: the CPU seconds of
    one unit of work in each."""
    pids = []
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            for _ in range(repeat):
                work()
            os._exit(0)
        pids.append(pid)
    seconds = []
    for pid in pids:
        _, _, usage = os.wait4(pid, 0)
        seconds.append((usage.ru_utime + usage.ru_stime) / repeat)
    return seconds


def measure(work: Callable[[], None], rounds: int, repeat: int, cores: int) -> tuple[float, float]:
    """Median CPU seconds of one unit of work alone, and with every core busy (alternated)."""
    alone: list[float] = []
    together: list[float] = []
    for _ in range(rounds):
        alone += _children(work, 1, repeat)
        together += _children(work, cores, repeat)
        time.sleep(0.05)
    return statistics.median(alone), statistics.median(together)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = BENCH / "work" / "compare-n40" / "submissions"
    parser.add_argument("notebook", type=Path, nargs="?")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    notebook = args.notebook or next(iter(sorted(default.glob("*.ipynb"))), None)
    if notebook is None:
        sys.exit(f"no notebook given and none in {default} (bench/make_submissions.py makes them)")
    cores = os.cpu_count() or 1
    print(f"| work | CPU ms alone | CPU ms with {cores} at once | ratio |")
    print("|---|---:|---:|---:|")
    for name, work in (
        (f"cells of {notebook.name}", lambda: floor.run_notebook(notebook)),
        ("pure-Python loop", _python_loop),
    ):
        alone, together = measure(work, args.rounds, args.repeat, cores)
        print(f"| {name} | {alone * 1000:.1f} | {together * 1000:.1f} | {together / alone:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
