"""One attempt's CPU along the boundary: the worker, its fork server and the child, together.

    python3 bench/attempt_cost.py DIR [--rounds 5] [--lean] [--sandbox bwrap]

Builds the sheet3 plan once, starts one warm fork server (as a batch worker does) and runs
``run_submission`` on each notebook of DIR, ``--rounds`` times over, without judging. The CPU
of the whole tree (this process, bwrap, the server, every child, killed or not) is read from a
cgroup-v1 cpuacct group this process joins before the server starts (root only); the
worker's own share from ``time.process_time``. ``--lean``: each submission's cells are the
reference module alone (the 37 calls and the path around them, not the students' exploration).
Prints ms per attempt: whole tree, worker, and the rest (server + children).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
from run_bench import CPUACCT, CpuGroup  # noqa: E402

from grader.assignment import load_assignment  # noqa: E402
from grader.grading import grading_plan  # noqa: E402
from grader.load.discover import read_submission  # noqa: E402
from grader.model import Cell, Submission  # noqa: E402
from grader.run.boundary import run_submission  # noqa: E402
from grader.run.launch import ForkServer  # noqa: E402
from grader.run.sandbox import choose_sandbox  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, str, float, float, int]:
    """(parent pid, name, own CPU s, reaped children's CPU s, their minor faults)."""
    with open(f"/proc/{pid}/stat") as handle:
        text = handle.read()
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return int(fields[1]), name, (utime + stime) / TICK, (cutime + cstime) / TICK, int(fields[8])


def _server_cpu(root: int) -> tuple[float, float, int]:
    """(the fork server's own CPU s, its reaped children's, their minor faults) below bwrap
    ``root``."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stats[int(entry)] = _stat(int(entry))
            except OSError:
                pass
    below, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, st in stats.items() if st[0] in frontier} - below
        below |= frontier
    pythons = [stats[p] for p in below if stats[p][1].startswith("python")]
    server = min(pythons, key=lambda st: st[0]) if pythons else (0, "", 0.0, 0.0, 0)
    return server[2], server[3], server[4]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--lean", action="store_true")
    parser.add_argument("--sandbox", default="bwrap")
    args = parser.parse_args()

    group = CpuGroup(f"attempt-{os.getpid()}")
    if group.path is None:
        raise SystemExit("needs a cpuacct cgroup (root, cgroup v1)")
    group.enter()
    assignment = load_assignment("sheet3", str(REPO))
    plan = grading_plan(assignment, 12345)
    calls = [case.call for case in plan.cases]
    paths = sorted(args.folder.glob("*.ipynb"))[: args.limit]
    submissions = [read_submission(p) for p in paths]
    if args.lean:
        text = Path(assignment.reference.__file__).read_text()
        source = "\n".join(x for x in text.splitlines() if not x.startswith("from grader"))
        submissions = [
            Submission(s.student, s.path, (Cell(index=1, source=source),), kind="notebook")
            for s in submissions
        ]
    server = ForkServer(choose_sandbox(args.sandbox))
    server.boot()
    for s in submissions[:3]:  # warm-up: the server's boot, first-call caches
        run_submission(s, calls, plan.limits, launcher=server)
    server.settle()
    tree, worker, wall, own, kids, faults = [], [], [], [], [], []
    assert server.process is not None
    for _ in range(args.rounds):
        s0, k0, f0 = _server_cpu(server.process.pid)
        t0, c0, w0 = group.seconds() or 0.0, time.process_time(), time.perf_counter()
        for s in submissions:
            log, outcomes = run_submission(s, calls, plan.limits, launcher=server)
        server.settle()
        t1, c1, w1 = group.seconds() or 0.0, time.process_time(), time.perf_counter()
        s1, k1, f1 = _server_cpu(server.process.pid)
        n = len(submissions)
        own.append((s1 - s0) / n * 1e3)
        kids.append((k1 - k0) / n * 1e3)
        faults.append((f1 - f0) / n)
        tree.append((t1 - t0) / n * 1e3)
        worker.append((c1 - c0) / n * 1e3)
        wall.append((w1 - w0) / n * 1e3)
    statuses = {o.status for o in outcomes}
    if os.environ.get("SHOW_OUTPUT"):
        print(log.output)
    server.close()
    (CPUACCT / "cgroup.procs").write_text(str(os.getpid()))  # out, so that it can go
    group.close()
    load = os.getloadavg()[0]
    print(
        f"ms/attempt  tree min {min(tree):.1f} med {statistics.median(tree):.1f}  "
        f"worker min {min(worker):.1f} med {statistics.median(worker):.1f}  "
        f"rest med {statistics.median(t - w for t, w in zip(tree, worker)):.1f} "
        f"(server {statistics.median(own):.1f}, children {statistics.median(kids):.1f}, "
        f"{statistics.median(faults):.0f} faults)  "
        f"wall med {statistics.median(wall):.1f}  load {load:.2f}  statuses {sorted(statuses)}"
    )


if __name__ == "__main__":
    main()
