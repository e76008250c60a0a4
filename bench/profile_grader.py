"""Where `grader grade`'s time goes: one traced run, summed up per submission and per batch.

    python3 bench/profile_grader.py DIR [--out OUT] [--trace TRACE] [--markdown FILE]

Runs ``grader grade DIR --out OUT --assignment sheet3 --course REPO`` with
``bench/tracer/`` first on PYTHONPATH and ``GRADER_TRACE`` set (see
``bench/tracer/sitecustomize.py``: wall and CPU stamps around the grader's functions in the
parent and the workers, and ``time.time()`` stamps inside the sandboxed child's copy of
``child.py``), samples every 50 ms the machine's busy time (/proc/stat) and the CPU time of the
command's process tree (/proc/PID/stat), and prints:

- per submission, the mean wall (and CPU where a process of ours measured it) of each phase:
  the parent's read of the notebook, the worker's fork request, the fork, the child's sandbox
  set-up (privileges, Landlock, limits), the cells, the calls (the student's functions, and
  what is around them: arguments decoded, values encoded, the pipe), the end of the attempt
  (kill, reap, clean), the judging, the gradebook and the report;
- the fixed cost of the batch: the parent's interpreter and imports, the rubric, the hash of
  every notebook, the worker processes' start-up, each worker's plan (hidden cases) and fork
  server (a sandboxed Python importing numpy), what comes after the last result;
- the cores: how busy the tree kept them over time, and how many submissions were in flight.

The tracer adds a few microseconds a call (about 1,500 wrapped calls for 40 notebooks).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
from run_bench import CpuGroup, _snapshot, _tree  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def _busy_ticks() -> tuple[int, int]:
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts[:8]) - idle, idle


def _tree_ticks(root: int) -> int:
    """User + system ticks of every live process under ``root`` (and of its reaped children)."""
    procs = _snapshot()
    return sum(procs[pid].cpu + procs[pid].reaped for pid in _tree(root, procs))


class Sampler(threading.Thread):
    """Every 50 ms: (time, machine busy ticks, the tree's CPU ticks): exact from the run's
    cpuacct cgroup where there is one, else the live processes' own and reaped children's."""

    def __init__(self, root: int, group: CpuGroup) -> None:
        super().__init__(daemon=True)
        self.root, self.group, self.samples, self.done = root, group, [], threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            exact = self.group.seconds()
            tree = exact * TICK if exact is not None else _tree_ticks(self.root)
            self.samples.append((time.time(), _busy_ticks()[0], tree))
            self.done.wait(0.05)


def run_traced(subs: Path, out: Path, trace: Path) -> tuple[float, list[tuple], float, float]:
    for folder in (out, trace):
        shutil.rmtree(folder, ignore_errors=True)
    trace.mkdir(parents=True)
    env = dict(os.environ)
    env["GRADER_TRACE"] = str(trace)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), str(BENCH / "tracer"), *filter(None, [env.get("PYTHONPATH")])]
    )
    cmd = [sys.executable, "-m", "grader", "grade", str(subs), "--out", str(out)]
    cmd += ["--assignment", "sheet3", "--course", str(REPO)]
    busy0 = _busy_ticks()[0]
    group = CpuGroup("profile")
    started = time.time()
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=group.enter if group.path else None,
    )
    sampler = Sampler(proc.pid, group)
    sampler.start()
    proc.wait()
    ended = time.time()
    sampler.done.set()
    sampler.join()
    exact = group.seconds()
    if exact is not None:
        sampler.samples.append((time.time(), _busy_ticks()[0], exact * TICK))
    group.close()
    busy = (_busy_ticks()[0] - busy0) / TICK
    if proc.returncode:
        sys.exit(f"grader grade exited {proc.returncode}")
    return started, sampler.samples, ended, busy


def load_trace(trace: Path) -> list[list]:
    records = []
    for path in trace.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            records.append(json.loads(line))
    return records


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def summarise(
    records: list[list], started: float, ended: float, samples: list, n: int, step: float = 0.0
) -> str:
    by_name: dict[str, list[list]] = defaultdict(list)
    for r in records:
        by_name[r[0]].append(r)
    starts = {r[1]: r for r in by_name["process.start"]}
    parent_pid = next(r[1] for r in by_name["parent.main"])
    worker_pids = sorted({r[1] for r in by_name["worker.grade_one"]})

    def wall(name: str, pid: int | None = None) -> list[float]:
        return [r[4] - r[3] for r in by_name[name] if pid is None or r[1] == pid]

    def cpu(name: str, pid: int | None = None) -> list[float]:
        return [r[6] - r[5] for r in by_name[name] if pid is None or r[1] == pid]

    rows: list[tuple[str, float | None, float | None, str]] = []

    def row(
        label: str, walls: list[float] | None, cpus: list[float] | None, note: str = ""
    ) -> None:
        wall = sum(walls) / n * 1000 if walls is not None else None
        rows.append((label, wall, (sum(cpus) / n * 1000) if cpus else None, note))

    # --- per submission
    loaded = [r for r in by_name["worker.read_until"] if (r[7] or {}).get("event") == "loaded"]
    outcome = [r for r in by_name["worker.read_until"] if (r[7] or {}).get("event") == "outcome"]
    starts_w = by_name["worker.start"]
    first_start = {}
    for r in sorted(starts_w, key=lambda r: r[3]):
        first_start.setdefault(r[1], r)
    steady_starts = [r for r in starts_w if first_start[r[1]] is not r]
    fork = [x["t_job"] - x["t_fork"] for x in (r[7] for r in loaded) if x.get("t_fork")]
    become = [x["t_become"] - x["t_job"] for x in (r[7] for r in loaded) if "t_become" in x]
    confine = [x["t_confine"] - x["t_become"] for x in (r[7] for r in loaded) if "t_become" in x]
    limits = [x["t_limits"] - x["t_confine"] for x in (r[7] for r in loaded) if "t_limits" in x]
    cells = [x["t_cells"] - x["t_limits"] for x in (r[7] for r in loaded) if "t_cells" in x]
    to_loaded = [r[4] - r[3] for r in loaded]
    row(
        "parent: read + parse the notebook (lazy discovery, when handed to a worker)",
        wall("parent.read_submission"),
        cpu("parent.read_submission"),
    )
    row(
        "worker: fork request to the server (steady state)",
        [r[4] - r[3] for r in steady_starts],
        [r[6] - r[5] for r in steady_starts],
    )
    row("server: fork → child's job starts", fork, None, "child")
    row("child: drop to the sandbox user", become, None, "child")
    row("child: chdir + Landlock", confine, None, "child")
    row("child: resource limits", limits, None, "child")
    row(
        "child: the cells",
        cells,
        [x["c_cells"] - x["c_limits"] for x in (r[7] for r in loaded) if "c_cells" in x],
        "child; CPU: its process time",
    )
    row(
        "child: CPU from its fork to the cells",
        None,
        [x["c_limits"] for x in (r[7] for r in loaded) if "c_limits" in x],
        "child's process time",
    )
    wait_loaded = [
        w - (f + b + c + lim + ce)
        for w, f, b, c, lim, ce in zip(to_loaded, fork, become, confine, limits, cells)
    ]
    row(
        "worker: waiting for 'loaded', beyond the child's stamps",
        wait_loaded,
        None,
        "pipe, wake-up, scheduling",
    )
    call_seconds = [(r[7] or {}).get("seconds") or 0.0 for r in outcome]
    row("child: the student's functions (calls)", call_seconds, None, "child, per call timer")
    row(
        "worker: reading the calls' outcomes, beyond the functions",
        [r[4] - r[3] - s for r, s in zip(outcome, call_seconds)],
        [r[6] - r[5] for r in outcome],
        "args decode, encode, pipe, decode",
    )
    row(
        "worker: end of attempt (kill, reap, clean the folder)",
        wall("worker.finish"),
        cpu("worker.finish"),
    )
    row(
        "worker: judging (statistics, comparisons, feedback)",
        wall("worker.judge_check") + wall("worker.manual_check"),
        cpu("worker.judge_check") + cpu("worker.manual_check"),
    )
    one = wall("worker.grade_one")
    accounted = (
        wall("worker.run_submission") + wall("worker.judge_check") + wall("worker.manual_check")
    )
    rows.append(("worker: rest of grade_one", (sum(one) - sum(accounted)) / n * 1000, None, ""))
    row("worker: grade_one in all", one, cpu("worker.grade_one"))
    row("parent: gradebook record", wall("parent.gradebook_record"), cpu("parent.gradebook_record"))
    row("parent: report (HTML + Markdown)", wall("parent.report"), cpu("parent.report"))

    # --- fixed per batch
    main = by_name["parent.main"][0]
    p_start = starts[parent_pid]
    fixed: list[tuple[str, float, str]] = []
    fixed.append(("parent: interpreter start + imports, to grade.main", main[3] - p_start[3], ""))
    fixed.append(
        ("parent: rubric + reference (load_assignment)", sum(wall("parent.load_assignment")), "")
    )
    hash_loop = by_name["parent.peek"] or [  # before peek, the hash loop materialized
        r
        for r in by_name["parent.materialize"]
        if r[3] < (min((x[3] for x in by_name["parent.read_submission"]), default=ended))
    ]
    fixed.append(
        (
            f"parent: read + hash every notebook first ({len(hash_loop)})",
            sum(r[4] - r[3] for r in hash_loop),
            f"{_mean([r[4] - r[3] for r in hash_loop]) * 1000:.1f} ms each",
        )
    )
    pool_t0 = min(starts[p][3] for p in worker_pids)
    fixed.append(("parent: from grade.main to the first worker process", pool_t0 - main[3], ""))
    for r in by_name["process.start"]:
        if "multiprocessing.forkserver" in str(r[7]):
            fixed.append(
                (
                    "warm server (forkserver): its start to the first worker forked "
                    "(interpreter + the grader's imports)",
                    pool_t0 - r[3],
                    f"started {r[3] - main[3]:.3f} s after grade.main",
                )
            )
    for p in worker_pids:
        ws = starts[p]
        plan = [r for r in by_name["worker.get_plan_and_server"] if r[1] == p][0]
        fs = first_start[p]
        first_loaded = min((r for r in loaded if r[1] == p), key=lambda r: r[3])
        fixed.append(
            (f"worker {p}: process start (fork or spawn) to its plan", plan[3] - ws[3], "")
        )
        fixed.append(
            (
                f"worker {p}: plan (rubric, reference, hidden cases)",
                sum(wall("worker.grading_plan", p)) + sum(wall("worker.load_assignment", p)),
                "",
            )
        )
        fixed.append(
            (
                f"worker {p}: first fork request (waits for the sandboxed server's boot: "
                "bwrap + Python + numpy)",
                fs[4] - fs[3],
                "",
            )
        )
        fixed.append((f"worker {p}: first result at", first_loaded[4] - started, "s after start"))
    last_result = max(r[4] for r in by_name["worker.grade_one"])
    fixed.append(
        ("parent: publish (results.json, summary, LMS sidecar)", sum(wall("parent.publish")), "")
    )
    fixed.append(("after the last grade_one to exit", ended - last_result, ""))
    first_task = min(r[3] for r in by_name["worker.grade_one"])
    fixed.append(("start to the first grade_one", first_task - started, ""))

    # --- cores
    lines = []
    lines.append(f"wall {ended - started:.2f} s for N = {n}")
    lines.append("")
    lines.append("| per submission (mean over N) | wall ms | CPU ms (that thread) | where |")
    lines.append("|---|---:|---:|---|")
    for label, w, c, note in rows:
        wall = "" if w is None else f"{w:.1f}"
        lines.append(f"| {label} | {wall} | {'' if c is None else f'{c:.1f}'} | {note} |")
    lines.append("")
    lines.append("| fixed per batch | s | note |")
    lines.append("|---|---:|---|")
    for label, s, note in fixed:
        lines.append(f"| {label} | {s:.3f} | {note} |")
    lines.append("")
    lines.append(utilisation(samples, started, ended, by_name, step))
    return "\n".join(lines)


def utilisation(samples, started, ended, by_name, step: float = 0.0) -> str:
    """Cores kept busy by the tree, per ``step`` seconds of the run (0: about a twelfth of
    it, at least a second), and submissions in flight."""
    out = [
        "| seconds | tree CPU (cores busy) | machine busy (cores) | submissions in flight "
        "(inside grade_one) |",
        "|---|---:|---:|---:|",
    ]
    grade = by_name["worker.grade_one"]
    digits = 0 if step == 0 or step >= 1 else 2
    step = step or max(1.0, round((ended - started) / 12))
    t = started
    while t < ended:
        window = [s for s in samples if t <= s[0] < t + step]
        if len(window) >= 2:
            dt = window[-1][0] - window[0][0]
            ticks = [w[2] for w in window]  # the root's exit drops its children's count
            ticks = ticks[: ticks.index(max(ticks)) + 1]
            tree = (ticks[-1] - ticks[0]) / TICK / dt if dt else 0
            mach = (window[-1][1] - window[0][1]) / TICK / dt if dt else 0
        else:
            tree = mach = float("nan")
        # mean number of children alive (between their worker's start and finish) in the window
        alive = 0.0
        for r in grade:
            a, b = max(r[3], t), min(r[4], t + step)
            if b > a:
                alive += b - a
        out.append(
            f"| {t - started:.{digits}f}–{t - started + step:.{digits}f} | {tree:.2f} | {mach:.2f} "
            f"| {alive / step:.2f} |"
        )
        t += step
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path, default=BENCH / "work" / "profile-out")
    parser.add_argument("--trace", type=Path, default=BENCH / "work" / "profile-trace")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument(
        "--step", type=float, default=0.0, help="seconds per row of the cores' table"
    )
    args = parser.parse_args(argv)
    n = len(list(args.folder.glob("*.ipynb")))
    started, samples, ended, busy = run_traced(args.folder, args.out, args.trace)
    records = load_trace(args.trace)
    failed = [r for r in records if r[0] in ("instrument-failed", "install-failed")]
    if failed:
        sys.exit(f"the tracer could not instrument the grader: {failed[0]}")
    tree_cpu = (max(s[2] for s in samples) - samples[0][2]) / TICK if samples else 0
    text = summarise(records, started, ended, samples, n, args.step)
    text += (
        f"\n\nmachine busy during the run: {busy:.1f} CPU s; the grader's tree: "
        f"{tree_cpu:.1f} CPU s (cpuacct cgroup, or sampled); load average after: "
        f"{Path('/proc/loadavg').read_text().split()[:3]}"
    )
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
