"""Benchmark: a student's self-check, in a terminal and in Jupyter (issue 12), beside its peers.

Times, on a correct notebook (the released ``sheet3.ipynb`` with the master's solutions put in
place of its stubs, check cells included), side by side in one run:

1. ``grader check solved.ipynb`` as a student has it: the handout's wheel installed with pip in
   a fresh virtual environment (dependencies from the package index, bytecode compiled as pip
   does), run by an unprivileged user (``nobody`` when this runs as root), ``--sandbox auto``
   and ``process``; wall clock and CPU seconds of its process tree;
2. the **floor**: the notebook's own code cells (not the check cells) run in a fresh Python of
   that environment, the least any self-check that runs the student's code in another process
   must pay;
3. with ``--otter``, otter-grader's self-check ``otter check solved.ipynb -t tests`` on the same
   notebook with the same visible asserts (``bench/otter_course.py``; the otter venv of
   ``run_bench.py``, made when missing);
4. ``Notebook`` in a fresh Python process of that environment, as in a kernel: ``from grader
   import Notebook``, ``Notebook(bundle)``, the first ``check_all()`` (it loads scipy) and
   further ones.

    python3 bench/selfcheck_bench.py [--runs 10] [--wait-idle 60] [--otter] [--record]

It releases the handout with ``python -m grader``, so set PYTHONPATH to time a working tree
other than the installed one (the wheel is built from that tree).

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
import otter_course
from run_bench import (
    OTTER_VENV,
    WAIT_IDLE,
    _cpu_busy,
    _git,
    ensure_venv,
    machine_info,
    wait_for_idle,
)

REPO = Path(__file__).resolve().parents[1]
MASTER = REPO / "reference" / "sheet3_master.ipynb"
# `python -m grader`: the grader that this Python imports (with PYTHONPATH, a working tree's)
GRADER = [sys.executable, "-m", "grader"]
OTTER = OTTER_VENV / "bin" / "otter"
NOBODY = 65534

# the floor: the notebook's own code cells (no check cell) in a fresh Python
FLOOR = r"""
import json, sys
cells = json.load(open(sys.argv[1], encoding="utf-8"))["cells"]
namespace = {"__name__": "__main__"}
for cell in cells:
    tags = cell.get("metadata", {}).get("tags", [])
    if cell["cell_type"] == "code" and "grader:selfcheck" not in tags:
        exec("".join(cell["source"]), namespace)
"""

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


def without_check_cells(notebook: Path, target: Path) -> Path:
    """``notebook`` without the grader's check cells (for otter, which has its own)."""
    nb = nbformat.read(notebook, as_version=4)
    nb.cells = [c for c in nb.cells if "grader:selfcheck" not in c.metadata.get("tags", [])]
    nbformat.write(nb, target)
    return target


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def student_venv(wheel: Path, root: Path) -> Path:
    """A fresh virtual environment with the handout's wheel, as the student README installs it
    (pip compiles the bytecode), made from the system's Python where there is one (an
    unprivileged user may not reach this Python's own folder); its Python."""
    base = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
    subprocess.run([base, "-m", "venv", str(root)], check=True)
    python = root / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        check=True,
    )
    return python


def as_student(argv: list[str]) -> list[str]:
    """``argv`` run by an unprivileged user (a student is not root)."""
    if os.geteuid() != 0:
        return argv
    return [
        "setpriv",
        f"--reuid={NOBODY}",
        f"--regid={NOBODY}",
        "--clear-groups",
        "--inh-caps=-all",
        *argv,
    ]


def time_command(argv: list[str], cwd: Path, runs: int) -> dict:
    """Wall and CPU s (its tree) of ``argv`` over ``runs`` runs; it must exit 0 (all passed)."""
    walls, cpus, other = [], [], []
    for _ in range(runs):
        cpu, busy, started = children_cpu(), _cpu_busy(), time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
        walls.append(time.perf_counter() - started)
        cpus.append(children_cpu() - cpu)
        other.append(max(_cpu_busy() - busy - cpus[-1], 0.0))
        if done.returncode != 0:
            raise SystemExit(f"{argv} failed on the correct notebook:\n{done.stdout}{done.stderr}")
    return {"wall": walls, "cpu": cpus, "other": other}


def time_kernel(python: Path, bundle: Path, notebook: Path, runs: int) -> dict:
    done = subprocess.run(
        as_student([str(python), "-c", KERNEL_LIKE, str(bundle), str(notebook), str(runs)]),
        capture_output=True,
        text=True,
        check=True,
        cwd=notebook.parent,
    )
    return json.loads(done.stdout)


def table(timed: dict[str, dict], kernel: dict, runs: int) -> str:
    def s(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"

    floor = statistics.median(timed["floor"]["wall"])
    rows = [
        "| what | runs | wall s, median (min–max) | × floor (wall) | CPU s, median | other "
        "processes' CPU s meanwhile, median |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for what, m in timed.items():
        rows.append(
            f"| {LABELS[what]} | {runs} | {s(m['wall'])} | "
            f"{statistics.median(m['wall']) / floor:.2f} | {statistics.median(m['cpu']):.2f} | "
            f"{statistics.median(m['other']):.2f} |"
        )
    rows += [
        f"| `from grader import Notebook` (fresh process) | 1 | {kernel['import']:.3f} | | | |",
        f"| `Notebook(bundle)` | 1 | {kernel['notebook']:.3f} | | | |",
        f"| first `nb.check_all()` (loads scipy) | 1 | {kernel['first']:.3f} | | | |",
        f"| `nb.check_all()` again | {len(kernel['warm'])} | {s(kernel['warm'])} | | | |",
    ]
    return "\n".join(rows)


LABELS = {
    "auto": "`grader check` (correct notebook, `--sandbox auto`)",
    "process": "`grader check` (correct notebook, `--sandbox process`)",
    "floor": "floor: the notebook's code cells in a fresh Python",
    "otter": "`otter check` (otter-grader 7.0.0, same notebook, visible asserts)",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--wait-idle", type=float, default=60.0)
    parser.add_argument("--otter", action="store_true", help="also time `otter check`")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args(argv)
    WAIT_IDLE["max"] = args.wait_idle
    if args.otter:
        ensure_venv(OTTER_VENV)
    with tempfile.TemporaryDirectory(prefix="selfcheck-bench-") as tmp:
        os.chmod(tmp, 0o755)  # the unprivileged user reads the handout and the venv
        handout = Path(tmp) / "handout"
        subprocess.run(
            [*GRADER, "release", "sheet3", "--out", str(handout), "--course", str(REPO)],
            check=True,
            capture_output=True,
        )
        python = student_venv(next(handout.glob("*.whl")), Path(tmp) / "venv")
        notebook = handout / "solved.ipynb"
        solved_notebook(handout / "sheet3.ipynb", notebook)
        grader = str(python.parent / "grader")
        commands = {
            sandbox: as_student([grader, "check", notebook.name, "--sandbox", sandbox])
            for sandbox in ("auto", "process")
        }
        commands["floor"] = as_student([str(python), "-c", FLOOR, notebook.name])
        if args.otter:
            tests = otter_course.write_tests(handout)
            mine = without_check_cells(notebook, handout / "otter.ipynb")  # otter has its own
            commands["otter"] = [str(OTTER), "check", mine.name, "-t", str(tests)]
        for argv in commands.values():  # once each, untimed: the disk cache
            subprocess.run(argv, cwd=handout, capture_output=True)
        quiet = wait_for_idle()
        timed = {what: time_command(argv, handout, args.runs) for what, argv in commands.items()}
        kernel = time_kernel(python, handout / "sheet3.public.json", notebook, args.runs)
    assert kernel["passed"] and kernel["score"] == 76, kernel
    text = table(timed, kernel, args.runs)
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
            f"--wait-idle {args.wait_idle:g}{' --otter' if args.otter else ''} --record`; "
            "the grader from its handout wheel in a fresh venv, run as an unprivileged user; "
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
