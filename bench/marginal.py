"""What a batch costs per notebook and once, for the grader and the floor, side by side.

    python3 bench/marginal.py [--n 40] [--repeat 3] [--seed 0] [--record]

Generates 2n notebooks (``make_submissions.py``), then times, alternating, ``grader grade``
and the floor (``floor.py``) on the first n and on all 2n, ``--repeat`` times each, with the
exact CPU of each command's whole tree (``run_bench.measure``: a cpuacct cgroup). From the
medians, per notebook = (T(2n) − T(n)) / n and once per batch = T(n) − n · per notebook, in
wall and CPU seconds. The floor ratio at a size N is then about
(once + N · per notebook) / (floor's once + N · floor's per notebook): this separates what
the grader costs at start (interpreters, imports, workers, sandboxed servers) from what it
costs a notebook (sandbox, calls, judging, report), which one floor ratio alone mixes.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import run_bench  # noqa: E402

WORK = BENCH / "work" / "marginal"


def _split(small: list[float], large: list[float], n: int) -> tuple[float, float]:
    """(per notebook, once) from the medians at n and 2n notebooks."""
    a, b = statistics.median(small), statistics.median(large)
    per = (b - a) / n
    return per, a - n * per


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    args = parser.parse_args(argv)
    run_bench.WAIT_IDLE["max"] = 0
    n = args.n
    run_bench.generate(2 * n, args.seed, WORK)
    every = sorted((WORK / "submissions").iterdir())
    half = WORK / "half"
    shutil.rmtree(half, ignore_errors=True)
    half.mkdir()
    for path in every[:n]:
        shutil.copy(path, half / path.name)
    folders = {n: half, 2 * n: WORK / "submissions"}
    runs: dict[tuple[str, int], list[run_bench.Measurement]] = {}
    for _ in range(args.repeat):
        for size, folder in folders.items():
            grader = run_bench.run_grader(size, folder, WORK / f"out-{size}", "sheet3", "grader")
            floor = run_bench.run_floor(size, folder, WORK, "floor")
            runs.setdefault(("grader", size), []).append(grader)
            runs.setdefault(("floor", size), []).append(floor)
    rows = {}
    for tool in ("grader", "floor"):
        walls = [[m.wall for m in runs[(tool, size)]] for size in folders]
        cpus = [[m.cpu or 0.0 for m in runs[(tool, size)]] for size in folders]
        rows[tool] = (*_split(*walls, n), *_split(*cpus, n))
    text = _table(rows, n, args)
    print(text)
    if args.record:
        with open(BENCH / "RESULTS.md", "a", encoding="utf-8") as results:
            results.write("\n" + text + "\n")
    return 0


Row = tuple[float, float, float, float]  # wall per notebook, wall once, CPU per notebook, once


def _table(rows: dict[str, Row], n: int, args: argparse.Namespace) -> str:
    info = run_bench.machine_info()
    lines = [
        f"### Per notebook and once per batch, grader vs floor (n = {n} and {2 * n}, "
        f"{args.repeat} alternated runs each, medians; commit {info.get('commit', '?')})",
        "",
        f"Command: `python3 bench/marginal.py --n {n} --repeat {args.repeat} --seed {args.seed}`."
        f" Load average at the end: {run_bench._load()}.",
        "",
        "| | wall per notebook (ms) | wall once (s) | CPU per notebook (ms) | CPU once (s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for tool, (wall_per, wall_once, cpu_per, cpu_once) in rows.items():
        lines.append(
            f"| {tool} | {wall_per * 1e3:.1f} | {wall_once:.2f} | {cpu_per * 1e3:.1f} | "
            f"{cpu_once:.2f} |"
        )
    g, f = rows["grader"], rows["floor"]
    lines += [
        "",
        f"Per notebook the grader costs **{g[0] / f[0]:.2f}×** the floor's wall and "
        f"**{g[2] / f[2]:.2f}×** its CPU; once per batch {g[1] - f[1]:+.2f} s wall and "
        f"{g[3] - f[3]:+.2f} s CPU more. Predicted floor ratio (wall) at N = 40: "
        f"{(g[1] + 40 * g[0]) / (f[1] + 40 * f[0]):.2f}×, at N = 1,000: "
        f"{(g[1] + 1000 * g[0]) / (f[1] + 1000 * f[0]):.2f}×.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
