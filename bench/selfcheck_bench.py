"""Benchmark: a student's self-check, in a terminal and in Jupyter (issue 12).

Times, on a correct notebook (the released ``sheet3.ipynb`` with the master's solutions put in
place of its stubs, check cells included):

1. ``grader check solved.ipynb`` as a student types it (the console script in a subprocess,
   wall clock and CPU seconds of its process tree), with ``--sandbox auto`` and ``process``;
2. ``Notebook`` in a fresh Python process, as in a kernel: ``from grader import Notebook``,
   ``Notebook(bundle)``, the first ``check_all()`` (it loads scipy) and further ones.

    python3 bench/selfcheck_bench.py [--runs 10] [--wait-idle 60] [--record]

It runs ``python -m grader``, so set PYTHONPATH to time a working tree other than the installed
one.

``--record`` appends the table to ``bench/RESULTS.md``. Work files go to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from run_bench import WAIT_IDLE, _cpu_busy, _git, machine_info, wait_for_idle

REPO = Path(__file__).resolve().parents[1]
MASTER = REPO / "reference" / "sheet3_master.ipynb"
# `python -m grader`: the grader that this Python imports (with PYTHONPATH, a working tree's)
GRADER = [sys.executable, "-m", "grader"]

KERNEL_LIKE = r"""
import json, sys, time
t0 = time.perf_counter()
from grader import Notebook
t1 = time.perf_counter()
nb = Notebook(sys.argv[1])
t2 = time.perf_counter()
import nbformat
from grader.load.notebook import read_notebook
cells, _ = read_notebook(open(sys.argv[2], "rb").read(), "solved.ipynb")
namespace = {"__name__": "__main__"}
for cell in cells:
    exec(cell.source, namespace)
t3 = time.perf_counter()
first = nb.check_all(namespace)
t4 = time.perf_counter()
warm = []
for _ in range(int(sys.argv[3])):
    s = time.perf_counter(); result = nb.check_all(namespace); warm.append(time.perf_counter() - s)
print(json.dumps({"import": t1 - t0, "notebook": t2 - t1, "first": t4 - t3, "warm": warm,
                  "passed": first.passed and result.passed, "score": result.score}))
"""


def solved_notebook(released: Path, target: Path) -> None:
    """The released notebook with each stub replaced by the master's solution."""
    solutions = {}
    for cell in nbformat.read(MASTER, as_version=4).cells:
        match = re.search(r"^def (\w+)\(", cell.source, re.MULTILINE)
        if cell.cell_type == "code" and match:
            solutions[match.group(1)] = cell.source
    notebook = nbformat.read(released, as_version=4)
    for cell in notebook.cells:
        match = re.search(r"^def (\w+)\(", cell.source, re.MULTILINE)
        if cell.cell_type == "code" and match and "NotImplementedError" in cell.source:
            cell.source = solutions[match.group(1)]
    nbformat.write(notebook, target)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_check(notebook: Path, sandbox: str, runs: int) -> dict:
    walls, cpus, other = [], [], []
    for _ in range(runs):
        cpu, busy, started = children_cpu(), _cpu_busy(), time.perf_counter()
        done = subprocess.run(
            [*GRADER, "check", notebook.name, "--sandbox", sandbox],
            cwd=notebook.parent,
            capture_output=True,
            text=True,
        )
        walls.append(time.perf_counter() - started)
        cpus.append(children_cpu() - cpu)
        other.append(max(_cpu_busy() - busy - cpus[-1], 0.0))
        if done.returncode != 0:
            raise SystemExit(f"grader check failed on the correct notebook:\n{done.stdout}")
    return {"wall": walls, "cpu": cpus, "other": other}


def time_kernel(bundle: Path, notebook: Path, runs: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", KERNEL_LIKE, str(bundle), str(notebook), str(runs)],
        capture_output=True,
        text=True,
        check=True,
        cwd=notebook.parent,
    )
    return json.loads(done.stdout)


def table(check: dict[str, dict], kernel: dict, runs: int) -> str:
    def s(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"

    rows = [
        "| what | runs | wall s, median (min–max) | CPU s, median | other processes' CPU s "
        "meanwhile, median |",
        "|---|---:|---:|---:|---:|",
    ]
    for sandbox, m in check.items():
        rows.append(
            f"| `grader check` (correct notebook, `--sandbox {sandbox}`) | {runs} | "
            f"{s(m['wall'])} | {statistics.median(m['cpu']):.2f} | "
            f"{statistics.median(m['other']):.2f} |"
        )
    rows += [
        f"| `from grader import Notebook` (fresh process) | 1 | {kernel['import']:.3f} | | |",
        f"| `Notebook(bundle)` | 1 | {kernel['notebook']:.3f} | | |",
        f"| first `nb.check_all()` (loads scipy) | 1 | {kernel['first']:.3f} | | |",
        f"| `nb.check_all()` again | {len(kernel['warm'])} | {s(kernel['warm'])} | | |",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--wait-idle", type=float, default=60.0)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args(argv)
    WAIT_IDLE["max"] = args.wait_idle
    with tempfile.TemporaryDirectory(prefix="selfcheck-bench-") as tmp:
        handout = Path(tmp) / "handout"
        subprocess.run(
            [*GRADER, "release", "sheet3", "--out", str(handout), "--course", str(REPO)]
            + ["--no-wheel"],
            check=True,
            capture_output=True,
        )
        notebook = handout / "solved.ipynb"
        solved_notebook(handout / "sheet3.ipynb", notebook)
        subprocess.run([*GRADER, "check", notebook.name], cwd=handout, capture_output=True)
        quiet = wait_for_idle()
        check = {sb: time_check(notebook, sb, args.runs) for sb in ("auto", "process")}
        kernel = time_kernel(handout / "sheet3.public.json", notebook, args.runs)
    assert kernel["passed"] and kernel["score"] == 76, kernel
    text = table(check, kernel, args.runs)
    print(text)
    if args.record:
        info = machine_info()
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        dirty = "" if not _git("status", "--porcelain") else " (uncommitted changes)"
        entry = (
            f"\n## {when} — commit {_git('rev-parse', '--short', 'HEAD')}{dirty}: self-check\n\n"
            f"- machine: {info['nproc']} CPUs (nproc), {info['cpu']}, {info['ram']} RAM, "
            f"Linux {info['kernel']}, Python {info['python']}\n"
            f"- command: `python3 bench/selfcheck_bench.py --runs {args.runs} "
            f"--wait-idle {args.wait_idle:g} --record`; "
            f"before the runs the machine was {quiet or 'not waited for'}; load average "
            f"{os.getloadavg()[0]:.1f} at the end\n"
            "- CPU s: user + system of `grader check` and every process it waited for "
            "(sandboxed children included); other processes' CPU: the machine's busy time "
            "(/proc/stat) during the run minus that\n\n"
            f"{text}\n"
        )
        with open(REPO / "bench" / "RESULTS.md", "a", encoding="utf-8") as handle:
            handle.write(entry)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
