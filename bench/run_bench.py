"""Benchmark: `grader grade` against nbgrader 0.9.6 `nbgrader autograde` on the same notebooks.

One run, on this machine:

1. generates N sheet3 submissions (``bench/make_submissions.py``, default N = 100);
2. times ``grader grade DIR --out OUT --assignment sheet3 --course REPO`` (the installed
   console script, one subprocess, wall clock);
3. builds an nbgrader course under ``bench/work/`` with equivalent checks
   (``bench/nbgrader_course.py``), runs ``nbgrader generate_assignment`` (not timed), turns
   every submission into the released nbgrader notebook holding the same student code, puts
   them under ``submitted/<student>/<assignment>/`` and times ``nbgrader autograde
   <assignment>`` over all students (one command, wall clock);
4. checks that both graders agree, check by check, with each other and with the score the
   generator expects;
5. prints both times, seconds per notebook and the ratio as a Markdown table;
6. with ``--scaling``, times ``grader grade`` alone at N = 100, 1,000, 10,000 (each size only
   when the previous one took under ``--scaling-limit`` seconds);
7. with ``--record``, appends the tables to ``bench/RESULTS.md`` with the machine, the date,
   the git commit and the exact command.

With ``--light`` the notebooks are the generator's light variant (``make_submissions.py
--light``: the same students, seed, mistakes and function cells, without the students'
exploration cells), written to ``compare-nN-light/`` and ``scaling-nN-light/``; both graders
again get the same notebooks (the nbgrader submissions are built from them).

Memory: every command runs under ``/usr/bin/time -v`` when present (its "Maximum resident set
size" is the peak RSS of the largest single process of the tree: the kernel's ru_maxrss of
the waited-for children) and is polled every 0.2 s through /proc (the sum of VmRSS and of Pss,
from smaps_rollup, over the command's whole process tree, found by parent pid, sandboxed
children included): "peak tree RSS/PSS" are the largest sampled sums.

Everything generated goes under ``bench/work/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import resource
import shlex
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import nbformat

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / "work"
VENV = WORK / "nbgrader-venv"
RESULTS_MD = BENCH / "RESULTS.md"

sys.path.insert(0, str(BENCH))
import make_submissions  # noqa: E402
import nbgrader_course  # noqa: E402
import otter_course  # noqa: E402

OTTER_VENV = WORK / "otter-venv"

AUTO_CHECKS = list(make_submissions.POINTS)

VARIANTS = {
    False: "full notebooks (the students' exploration cells kept)",
    True: "light notebooks (functions only)",
}


# ---------------------------------------------------------------------------- measuring


@dataclass
class Measurement:
    label: str
    n: int
    wall: float
    returncode: int
    cpu: float | None = None  # user + sys of the tree (time -v)
    maxrss_kb: int | None = None  # largest single process (time -v)
    tree_rss_kb: int = 0  # sampled peak of the summed VmRSS over the tree
    tree_pss_kb: int = 0  # sampled peak of the summed Pss over the tree
    max_procs: int = 0
    other_cpu: float | None = None  # CPU s the rest of the machine used meanwhile
    waited_idle: str = ""  # how long we waited for a quiet machine before starting
    log: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def per_notebook(self) -> float:
        return self.wall / self.n


TICK = os.sysconf("SC_CLK_TCK")


class Proc(NamedTuple):
    """One process, from /proc/PID/stat."""

    ppid: int
    start: int  # clock ticks after boot
    cpu: int  # user + system ticks so far
    reaped: int  # user + system ticks of its children it has waited for


def _snapshot() -> dict[int, Proc]:
    """Every process, by pid."""
    procs: dict[int, Proc] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may contain spaces and parentheses
        fields = stat[stat.rindex(b")") + 2 :].split()
        procs[int(entry.name)] = Proc(
            int(fields[1]),
            int(fields[19]),
            int(fields[11]) + int(fields[12]),
            int(fields[13]) + int(fields[14]),
        )
    return procs


def _tree(root: int, procs: dict[int, Proc]) -> list[int]:
    """``root`` and every live process below it."""
    children: dict[int, list[int]] = {}
    for pid, proc in procs.items():
        children.setdefault(proc.ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            out.append(pid)
            todo.extend(children.get(pid, ()))
    return out


def _memory_kb(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
                    break
    except OSError:
        pass
    return rss, pss


class TreePoller(threading.Thread):
    """Samples /proc every ``interval`` s while the command runs.

    Memory: the summed Rss and Pss of the command's process tree (found by parent pid).
    CPU: the last user + system time seen of every process that was ever in the tree, and of
    every other process (minus what it had used before the command started), so that work
    competing for the cores shows up. Processes that live less than one interval are missed
    (both sums are lower bounds); ``/usr/bin/time -v`` misses those not waited for by their
    parents (sandboxed children killed with their sandbox), so the larger of the two is kept.
    """

    def __init__(self, root: int, baseline: dict[int, Proc], interval: float = 0.2):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak_rss = self.peak_pss = self.max_procs = 0
        self.baseline = {(pid, p.start): p.cpu for pid, p in baseline.items()}
        self.last: dict[tuple[int, int], int] = {}
        self.in_tree: set[tuple[int, int]] = set()
        self.ignore = {os.getpid()}
        self._stop_event = threading.Event()

    def sample(self) -> None:
        procs = _snapshot()
        pids = _tree(self.root, procs)
        for pid in pids:
            self.in_tree.add((pid, procs[pid].start))
        for pid, proc in procs.items():
            if pid not in self.ignore:
                self.last[(pid, proc.start)] = proc.cpu
        rss = pss = 0
        for pid in pids:
            r, p = _memory_kb(pid)
            rss, pss = rss + r, pss + p
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)
        self.max_procs = max(self.max_procs, len(pids))

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    @property
    def tree_cpu(self) -> float:
        return sum(self.last[k] - self.baseline.get(k, 0) for k in self.in_tree) / TICK

    @property
    def other_cpu(self) -> float:
        return (
            sum(v - self.baseline.get(k, 0) for k, v in self.last.items() if k not in self.in_tree)
            / TICK
        )


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_busy() -> float:
    """Non-idle CPU seconds of the whole machine so far (all CPUs, from /proc/stat)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / os.sysconf("SC_CLK_TCK")


WAIT_IDLE = {"max": 600.0}  # set from --wait-idle


def wait_for_idle(threshold: float = 0.15, quiet: int = 5) -> str:
    """Wait (up to --wait-idle s) until the machine is quiet for ``quiet`` seconds in a row.

    Quiet: less than ``threshold`` of all CPUs busy. Other work on a 2-core machine (someone
    running the test suite) would otherwise be timed along with the grader.
    """
    if WAIT_IDLE["max"] <= 0:
        return ""
    ncpu = os.cpu_count() or 1
    started = time.monotonic()
    calm = 0
    before = _cpu_busy()
    while time.monotonic() - started < WAIT_IDLE["max"]:
        time.sleep(1.0)
        now = _cpu_busy()
        busy, before = (now - before) / ncpu, now
        calm = calm + 1 if busy < threshold else 0
        if calm >= quiet:
            waited = time.monotonic() - started
            return f"quiet after {waited:.0f} s" if waited > quiet + 1 else "quiet"
    return f"NOT quiet after {WAIT_IDLE['max']:.0f} s, ran anyway"


CPUACCT = Path("/sys/fs/cgroup/cpuacct")


class CpuGroup:
    """A cgroup-v1 cpuacct group for one command, where this machine lets us make one (root):
    the exact CPU time of the command's whole tree, the sandboxed and killed children
    included, which neither ``time -v`` nor /proc samples can see."""

    def __init__(self, name: str) -> None:
        self.path: Path | None = CPUACCT / f"bench-{os.getpid()}-{name}"
        try:
            self.path.mkdir()
        except OSError:
            self.path = None

    def enter(self) -> None:
        """In the child, before exec: join the group (its children inherit it)."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self) -> float | None:
        if self.path is None:
            return None
        try:
            return int((self.path / "cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        for _ in range(50):  # the last processes of the tree may take a moment to go
            if self.path is None:
                return
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.1)


def measure(
    label: str, n: int, cmd: list[str], *, cwd: Path, log: Path, env: dict | None = None
) -> Measurement:
    """Run ``cmd`` once; wall clock from start to exit, memory as described in the doc."""
    idle = wait_for_idle()
    time_file = log.with_suffix(".time")
    full = cmd
    if Path("/usr/bin/time").exists():
        full = ["/usr/bin/time", "-v", "-o", str(time_file), *cmd]
    print(f"$ (cd {cwd} && {shlex.join(cmd)})  > {log}", file=sys.stderr, flush=True)
    with open(log, "wb") as out:
        baseline = _snapshot()
        self_before = _self_cpu()
        busy_before = _cpu_busy()
        group = CpuGroup(re.sub(r"\W+", "-", label))
        started = time.perf_counter()
        proc = subprocess.Popen(
            full,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=group.enter if group.path else None,
        )
        poller = TreePoller(proc.pid, baseline)
        poller.start()
        returncode = proc.wait()
        wall = time.perf_counter() - started
        group_cpu = group.seconds()
        group.close()
        busy = _cpu_busy() - busy_before
        poller.stop()
        own = _self_cpu() - self_before
    m = Measurement(
        label,
        n,
        wall,
        returncode,
        tree_rss_kb=poller.peak_rss,
        tree_pss_kb=poller.peak_pss,
        max_procs=poller.max_procs,
        waited_idle=idle,
        log=str(log),
    )
    if time_file.exists():
        text = time_file.read_text(errors="replace")
        user = re.search(r"User time \(seconds\): ([\d.]+)", text)
        system = re.search(r"System time \(seconds\): ([\d.]+)", text)
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
        if user and system:
            m.cpu = float(user.group(1)) + float(system.group(1))
        if rss:
            m.maxrss_kb = int(rss.group(1))
    m.extra["cpu_time_v"] = m.cpu
    m.extra["cpu_sampled"] = poller.tree_cpu
    m.extra["machine_busy_cpu"] = busy
    m.extra["bench_own_cpu"] = own
    m.other_cpu = poller.other_cpu
    # The tree's CPU: what the machine was busy with, minus the other processes and this
    # script (its /proc poller); never less than what time -v or the samples counted.
    m.cpu = max(m.cpu or 0.0, poller.tree_cpu, busy - m.other_cpu - own)
    m.extra["cpu_estimate"] = m.cpu
    m.extra["cpu_cgroup"] = group_cpu
    if group_cpu is not None:  # exact: the cgroup counted every process of the tree
        m.cpu = group_cpu
    print(
        f"  {label}: {wall:.1f} s wall, exit {returncode} ({idle or 'no wait'}; other CPU "
        f"{m.other_cpu if m.other_cpu is not None else float('nan'):.1f} s)",
        file=sys.stderr,
        flush=True,
    )
    return m


# ---------------------------------------------------------------------------- the two graders


def grader_command() -> str:
    found = shutil.which("grader")
    if not found:
        sys.exit("the `grader` console script is not on PATH (pip install -e . first)")
    return found


def run_grader(n: int, subs: Path, out: Path, assignment: str, label: str) -> Measurement:
    if out.exists():
        shutil.rmtree(out)
    cmd = [
        grader_command(),
        "grade",
        str(subs),
        "--out",
        str(out),
        "--assignment",
        assignment,
        "--course",
        str(REPO),
    ]
    m = measure(label, n, cmd, cwd=REPO, log=out.parent / f"{out.name}.log")
    text = " ".join(Path(m.log).read_text(errors="replace").split())
    layer = re.search(r"sandbox: (.*?),? hidden seed", text)
    m.extra["sandbox"] = layer.group(1) if layer else "?"
    return m


# the peers' virtual environments: the tool, pinned, and whatever it needs beside it (otter
# run's Jupyter kernel); numpy and scipy at this Python's versions, so that every grader runs
# the students' code on the same libraries
PEERS = {
    VENV: ("nbgrader", ["nbgrader==0.9.6"]),
    OTTER_VENV: ("otter", ["otter-grader==7.0.0", "ipykernel"]),
}


def ensure_venv(venv: Path) -> None:
    """Create ``venv`` with its peer (``PEERS``) from the package index, if it is missing."""
    tool, packages = PEERS[venv]
    if (venv / "bin" / tool).exists():
        return
    print(f"creating {venv} ({', '.join(packages)}) ...", file=sys.stderr)
    import numpy
    import scipy

    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    pins = [f"numpy=={numpy.__version__}", f"scipy=={scipy.__version__}"]
    subprocess.run([*pip, *packages, *pins], check=True)


def venv_env(venv: Path) -> dict:
    """This environment with ``venv`` first on PATH (and no PYTHONPATH of ours)."""
    env = dict(os.environ)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env.pop("PYTHONPATH", None)
    return env


def prepare_nbgrader(course: Path, subs: Path, assignment: str) -> list[str]:
    """Course dir, generate_assignment, submitted/<student>/<assignment>/<assignment>.ipynb."""
    if course.exists():
        shutil.rmtree(course)
    nbgrader_course.write_course(course, assignment)
    subprocess.run(
        [str(VENV / "bin" / "nbgrader"), "generate_assignment", assignment, "--force"],
        cwd=course,
        env=venv_env(VENV),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    released = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", 4)
    students = []
    for path in sorted(subs.glob("*.ipynb")):
        student = path.stem
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nb = nbgrader_course.student_notebook(released, nbformat.read(path, as_version=4))
        nbformat.write(nb, folder / f"{assignment}.ipynb")
        students.append(student)
    return students


def run_nbgrader(n: int, course: Path, assignment: str) -> Measurement:
    cmd = [str(VENV / "bin" / "nbgrader"), "autograde", assignment]
    return measure(
        "nbgrader autograde",
        n,
        cmd,
        cwd=course,
        log=course.parent / "nbgrader-autograde.log",
        env=venv_env(VENV),
    )


def run_floor(n: int, subs: Path, folder: Path, label: str = "floor") -> Measurement:
    """The floor (bench/floor.py): the cells alone in warm forks, one per core."""
    cmd = [sys.executable, str(BENCH / "floor.py"), str(subs)]
    return measure(label, n, cmd, cwd=REPO, log=folder / "floor.log")


def run_otter(n: int, subs: Path, folder: Path) -> Measurement:
    """``otter run`` (no Docker; one submission per command, as otter has it) on every
    notebook, one after another, in one timed shell loop; results under otter-out/<student>/."""
    course = folder / "otter"
    shutil.rmtree(course, ignore_errors=True)
    course.mkdir(parents=True)
    zip_path = otter_course.build_autograder(course, OTTER_VENV / "bin" / "otter")
    out = course / "out"
    for path in sorted(subs.glob("*.ipynb")):
        (out / path.stem).mkdir(parents=True)
    loop = (
        'for nb in "$1"/*.ipynb; do s=$(basename "$nb" .ipynb); '
        'otter run --no-logo -a "$2" -o "$3/$s" "$nb" > "$3/$s/run.log" 2>&1; done'
    )
    cmd = ["bash", "-c", loop, "otter-loop", str(subs), str(zip_path), str(out)]
    return measure(
        "otter run (each)",
        n,
        cmd,
        cwd=course,
        log=folder / "otter-run.log",
        env=venv_env(OTTER_VENV),
    )


def otter_verdicts(out: Path) -> dict[str, dict[str, bool]]:
    found = {}
    for results in sorted(out.glob("*/results.json")):
        found[results.parent.name] = otter_course.verdicts(results)
    return found


def otter_versions() -> str:
    packages = ("otter-grader", "nbconvert", "ipykernel", "jupyter_client", "numpy", "scipy")
    return package_versions(OTTER_VENV / "bin" / "python", *packages)


# ---------------------------------------------------------------------------- agreement


def grader_verdicts(results: Path) -> dict[str, dict[str, bool]]:
    out = {}
    for record in json.loads(results.read_text(encoding="utf-8")):
        out[record["student"]] = {
            c["id"]: c["status"] == "passed" for c in record["checks"] if c["id"] in AUTO_CHECKS
        }
    return out


def nbgrader_verdicts(db: Path) -> dict[str, dict[str, bool]]:
    query = """
        select sa.student_id, bc.name, g.auto_score, gc.max_score
        from grade g
        join base_cell bc on g.cell_id = bc.id
        join grade_cells gc on gc.id = bc.id
        join submitted_notebook sn on g.notebook_id = sn.id
        join submitted_assignment sa on sn.assignment_id = sa.id
    """
    by_test_id = {nbgrader_course.grade_id(c, test=True): c for c in AUTO_CHECKS}
    out: dict[str, dict[str, bool]] = {}
    with sqlite3.connect(db) as con:
        for student, name, auto, maximum in con.execute(query):
            if name in by_test_id:
                out.setdefault(student, {})[by_test_id[name]] = auto is not None and auto >= maximum
    return out


def agreement(manifest: list[dict], grader_v: dict, nbgrader_v: dict) -> dict:
    expected = {
        info["student"]: {c: c not in info["wrong"] for c in AUTO_CHECKS} for info in manifest
    }
    report = {
        "students": len(expected),
        "grader_vs_expected": 0,
        "nbgrader_vs_expected": 0,
        "grader_vs_nbgrader": 0,
        "disagreements": [],
    }
    for student, exp in expected.items():
        g = grader_v.get(student, {})
        b = nbgrader_v.get(student, {})
        g_full = {c: g.get(c, False) for c in AUTO_CHECKS}
        b_full = {c: b.get(c, False) for c in AUTO_CHECKS}
        report["grader_vs_expected"] += g_full == exp
        report["nbgrader_vs_expected"] += b_full == exp
        report["grader_vs_nbgrader"] += g_full == b_full
        for c in AUTO_CHECKS:
            if len({exp[c], g_full[c], b_full[c]}) > 1:
                report["disagreements"].append(
                    f"{student} {c}: expected {'pass' if exp[c] else 'fail'}, "
                    f"grader {'pass' if g_full[c] else 'fail'}, "
                    f"nbgrader {'pass' if b_full[c] else 'fail'}"
                )
    return report


# ---------------------------------------------------------------------------- reporting


def _mb(kb: int | None) -> str:
    return "–" if kb is None else f"{kb / 1024:,.0f}"


def _cpu(m: Measurement) -> str:
    return "–" if m.cpu is None else f"{m.cpu:,.1f}"


def _other(m: Measurement) -> str:
    other = "–" if m.other_cpu is None else f"{m.other_cpu:,.1f}"
    busy = m.extra.get("machine_busy_cpu")
    notes = [f"machine busy {busy:,.1f}"] if busy is not None else []
    if m.waited_idle:
        notes.append(m.waited_idle)
    return f"{other} ({'; '.join(notes)})" if notes else other


def comparison_table(g: Measurement, b: Measurement) -> str:
    rows = [
        "| grader | N | wall s | s / notebook | CPU s (user+sys) | peak RSS, largest process (MB) "
        "| peak tree RSS (MB) | peak tree PSS (MB) | exit | other processes' CPU s meanwhile |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in (g, b):
        rows.append(
            f"| `{m.label}` | {m.n} | {m.wall:,.1f} | {m.per_notebook:.3f} | {_cpu(m)} "
            f"| {_mb(m.maxrss_kb)} | {_mb(m.tree_rss_kb)} | {_mb(m.tree_pss_kb)} "
            f"| {m.returncode} | {_other(m)} |"
        )
    ratio = b.wall / g.wall if g.wall else float("nan")
    rows.append("")
    rows.append(
        f"**Ratio** (nbgrader wall / grader wall): **{ratio:.2f}×** "
        f"({'grader faster' if ratio > 1 else 'nbgrader faster'}); "
        f"per notebook {g.per_notebook:.3f} s vs {b.per_notebook:.3f} s."
    )
    return "\n".join(rows)


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def floor_table(grader_runs: list[Measurement], floor_runs: list[Measurement]) -> str:
    """Every run of the grader and of the floor (alternated), the best of each, the ratio."""
    rows = [
        "| run | grader wall s | grader CPU s | floor wall s | floor CPU s "
        "| other processes' CPU s (grader / floor) |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for i, (g, f) in enumerate(zip(grader_runs, floor_runs), start=1):
        rows.append(
            f"| {i} | {g.wall:,.2f} | {_cpu(g)} | {f.wall:,.2f} | {_cpu(f)} "
            f"| {_other(g)} / {_other(f)} |"
        )
    g = min(grader_runs, key=lambda m: m.wall)
    f = min(floor_runs, key=lambda m: m.wall)
    g_cpu = min(m.cpu or 0.0 for m in grader_runs)
    f_cpu = min(m.cpu or 0.0 for m in floor_runs)
    rows.append("")
    rows.append(
        f"**Floor ratio** (best grader wall / best floor wall, N = {g.n:,}): "
        f"**{g.wall / f.wall:.2f}×** ({g.wall:,.2f} s vs {f.wall:,.2f} s; "
        f"{g.wall / g.n * 1000:.0f} vs {f.wall / f.n * 1000:.0f} ms per notebook). "
        f"CPU: least grader {g_cpu:,.1f} s vs least floor {f_cpu:,.1f} s "
        f"(**{g_cpu / f_cpu if f_cpu else float('nan'):.2f}×**); cores kept busy by the best "
        f"runs: grader {(g.cpu or 0) / g.wall:.2f}, floor {(f.cpu or 0) / f.wall:.2f}. "
        f"Load average at the end: {_load()}."
    )
    return "\n".join(rows)


def peers_table(g: Measurement, peers: list[Measurement], floor: Measurement | None) -> str:
    rows = [
        "| command | N | wall s | s / notebook | CPU s (user+sys) | × grader wall "
        "| × floor wall | peak RSS, largest process (MB) | peak tree RSS (MB) "
        "| peak tree PSS (MB) | exit | other processes' CPU s meanwhile |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in [g, *([floor] if floor else []), *peers]:
        rows.append(
            f"| `{m.label}` | {m.n:,} | {m.wall:,.1f} | {m.per_notebook:.3f} | {_cpu(m)} "
            f"| {m.wall / g.wall:.2f} | {f'{m.wall / floor.wall:.2f}' if floor else '–'} "
            f"| {_mb(m.maxrss_kb)} | {_mb(m.tree_rss_kb)} | {_mb(m.tree_pss_kb)} "
            f"| {m.returncode} | {_other(m)} |"
        )
    return "\n".join(rows)


def scaling_table(runs: list[Measurement | tuple[int, str]]) -> str:
    rows = [
        "| N | wall s | s / notebook | CPU s (user+sys) | peak RSS, largest process (MB) "
        "| peak tree RSS (MB) | peak tree PSS (MB) | max processes | exit "
        "| other processes' CPU s meanwhile |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        if isinstance(run, tuple):
            n, why = run
            rows.append(f"| {n:,} | not run: {why} | | | | | | | | |")
            continue
        rows.append(
            f"| {run.n:,} | {run.wall:,.1f} | {run.per_notebook:.3f} | {_cpu(run)} "
            f"| {_mb(run.maxrss_kb)} | {_mb(run.tree_rss_kb)} | {_mb(run.tree_pss_kb)} "
            f"| {run.max_procs} | {run.returncode} | {_other(run)} |"
        )
    return "\n".join(rows)


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def machine_info() -> dict:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        ram = f"{kb / 1024**2:.1f} GiB"
    except (OSError, AttributeError):
        pass
    nproc = _run_text(["nproc"]) or str(os.cpu_count())
    changed = _git(
        "status",
        "--porcelain",
        "--untracked-files=all",
        "--",
        "grader",
        "reference",
        "rubrics",
        "templates",
        "pyproject.toml",
    )
    n_changed = (
        len([line for line in changed.splitlines() if line.strip()]) if changed != "?" else "?"
    )
    return {
        "code_digest": _code_digest(),
        "nproc": nproc,
        "cpu": cpu,
        "ram": ram,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "grader_changes": n_changed,
    }


def _code_digest() -> str:
    """A digest of what `grader grade` runs: grader/, reference/, rubrics/, templates/."""
    digest = hashlib.sha256()
    for top in ("grader", "reference", "rubrics", "templates"):
        for path in sorted((REPO / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(REPO)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _run_text(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def package_versions(python: Path | str, *distributions: str) -> str:
    """Each installed distribution's name and version, comma-separated, as ``python`` sees
    them ("" if it cannot run)."""
    code = (
        "import importlib.metadata as md, sys; "
        "print(', '.join(f'{p} {md.version(p)}' for p in sys.argv[1:]))"
    )
    return _run_text([str(python), "-c", code, *distributions])


def nbgrader_versions() -> str:
    packages = ("nbgrader", "nbclient", "ipykernel", "jupyter_client", "numpy", "scipy")
    return package_versions(VENV / "bin" / "python", *packages)


def grader_versions() -> str:
    """The grader is installed as the distribution ``numgrader``."""
    return package_versions(sys.executable, "numgrader", "numpy", "scipy")


# ---------------------------------------------------------------------------- main


def generate(n: int, seed: int, folder: Path, light: bool = False) -> list[dict]:
    if folder.exists():
        shutil.rmtree(folder)
    started = time.perf_counter()
    manifest = make_submissions.generate(folder / "submissions", n, seed, light)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    counts: dict[str, int] = {}
    for info in manifest:
        counts[info["template"]] = counts.get(info["template"], 0) + 1
    dropped = sum(info.get("dropped_cells", 0) for info in manifest)
    print(
        f"generated {n} {'light ' if light else ''}submissions in "
        f"{time.perf_counter() - started:.1f} s into {folder / 'submissions'}: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        + (f"; {dropped} exploration cells dropped" if light else ""),
        file=sys.stderr,
        flush=True,
    )
    return manifest


def warm_up() -> None:
    """Untimed: load both graders' Python packages once so the page cache is warm for both,
    and compile the grader's bytecode as an install does (pip compiles the peers' at install;
    a checkout run with PYTHONDONTWRITEBYTECODE would otherwise compile the grader's source in
    every process of every run)."""
    subprocess.run(
        [sys.executable, "-c", "import grader.cli, grader.commands.grade, numpy, scipy, nbformat"],
        check=False,
    )
    import grader

    package = Path(grader.__file__).parent
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(package), str(package.parent / "reference")],
        check=False,
    )
    if (VENV / "bin" / "python").exists():
        subprocess.run(
            [
                str(VENV / "bin" / "python"),
                "-c",
                "import nbgrader.apps, ipykernel.kernelapp, numpy, scipy",
            ],
            check=False,
            env=venv_env(VENV),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time `grader grade` against `nbgrader autograde` on the same notebooks."
    )
    parser.add_argument("--n", type=int, default=100, help="submissions compared (100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generator (0)")
    parser.add_argument("--assignment", default="sheet3")
    parser.add_argument(
        "--no-compare",
        action="store_true",
        help="skip the grader vs nbgrader comparison (e.g. with --scaling)",
    )
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="also time `grader grade` alone at each of --scaling-sizes",
    )
    parser.add_argument("--scaling-sizes", default="100,1000,10000")
    parser.add_argument(
        "--scaling-limit",
        type=float,
        default=180.0,
        help="run the next size only if the previous took under this many s",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=600.0,
        help="before each timed command, wait up to this many s for a quiet machine (0: no)",
    )
    parser.add_argument(
        "--light",
        action="store_true",
        help="light notebooks: the same students without their exploration cells "
        "(make_submissions.py --light)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also time the floor (bench/floor.py: the cells alone in warm forks, one per core)",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of grader (and floor) each; best is reported"
    )
    parser.add_argument("--no-nbgrader", action="store_true", help="skip nbgrader autograde")
    parser.add_argument(
        "--otter", action="store_true", help="also time `otter run` (no Docker) on every notebook"
    )
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    args = parser.parse_args(argv)
    WAIT_IDLE["max"] = args.wait_idle
    if args.assignment != "sheet3":
        parser.error("the generator and the nbgrader checks exist for sheet3 only")

    WORK.mkdir(parents=True, exist_ok=True)
    command = "python3 " + shlex.join(
        [os.path.relpath(sys.argv[0], REPO) if sys.argv else "bench/run_bench.py", *sys.argv[1:]]
    )
    started = dt.datetime.now(dt.timezone.utc)
    info = machine_info()  # at the start: the grader measured is the tree as it is now
    load_at_start = _load()
    sections: list[str] = []
    measured: list[Measurement] = []
    suffix = "-light" if args.light else ""
    variant = VARIANTS[args.light]

    if not args.no_compare:
        if not args.no_nbgrader:
            ensure_venv(VENV)
        if args.otter:
            ensure_venv(OTTER_VENV)
        warm_up()
        folder = WORK / f"compare-n{args.n}{suffix}"
        manifest = generate(args.n, args.seed, folder, args.light)
        subs = folder / "submissions"
        grader_runs: list[Measurement] = []
        floor_runs: list[Measurement] = []
        for _ in range(max(args.repeat, 1)):  # alternated, so both see the same load
            grader_runs.append(
                run_grader(args.n, subs, folder / "grader-out", args.assignment, "grader grade")
            )
            if args.floor:
                floor_runs.append(run_floor(args.n, subs, folder))
        g = min(grader_runs, key=lambda m: m.wall)
        measured += grader_runs + floor_runs
        peers: list[Measurement] = []
        lines = [f"### grader vs its peers, N = {args.n} (seed {args.seed}), {variant}", ""]
        verdicts_of: dict[str, dict] = {}
        if not args.no_nbgrader:
            course = folder / "nbgrader-course"
            students = prepare_nbgrader(course, subs, args.assignment)
            assert len(students) == args.n
            b = run_nbgrader(args.n, course, args.assignment)
            peers.append(b)
            measured.append(b)
            verdicts_of["nbgrader"] = nbgrader_verdicts(course / "gradebook.db")
        if args.otter:
            o = run_otter(args.n, subs, folder)
            peers.append(o)
            measured.append(o)
            verdicts_of["otter"] = otter_verdicts(folder / "otter" / "out")
        if floor_runs:
            f = min(floor_runs, key=lambda m: m.wall)
            lines += [floor_table(grader_runs, floor_runs), ""]
        lines += [peers_table(g, peers, f if floor_runs else None), ""]
        lines.append(f"- grader sandbox: {g.extra.get('sandbox', '?')}; {grader_versions()}")
        if not args.no_nbgrader:
            lines.append(f"- nbgrader venv: {nbgrader_versions()}")
        if args.otter:
            lines.append(f"- otter venv: {otter_versions()}")
        grader_v = grader_verdicts(folder / "grader-out" / "results.json")
        for name, theirs in verdicts_of.items():
            agree = agreement(manifest, grader_v, theirs)
            (folder / f"agreement-{name}.json").write_text(
                json.dumps(agree, indent=1), encoding="utf-8"
            )
            lines.append(
                f"- verdicts per check vs {name} (8 automatic checks × {agree['students']} "
                f"students): grader matches the generator's expectation for "
                f"{agree['grader_vs_expected']} students, {name} for "
                f"{agree['nbgrader_vs_expected']}, grader and {name} agree on "
                f"{agree['grader_vs_nbgrader']}."
            )
            if agree["disagreements"]:
                lines.append(
                    f"- disagreements ({name} in the 'nbgrader' slot): "
                    + "; ".join(agree["disagreements"][:10])
                )
        sections.append("\n".join(lines))

    if args.scaling:
        sizes = [int(s) for s in args.scaling_sizes.split(",") if s.strip()]
        runs: list[Measurement | tuple[int, str]] = []
        previous: Measurement | None = None
        for n in sizes:
            if previous is not None and previous.wall >= args.scaling_limit:
                runs.append(
                    (
                        n,
                        f"N = {previous.n:,} took {previous.wall:,.0f} s "
                        f"≥ --scaling-limit {args.scaling_limit:g} s",
                    )
                )
                continue
            folder = WORK / f"scaling-n{n}{suffix}"
            generate(n, args.seed, folder, args.light)
            m = run_grader(
                n, folder / "submissions", folder / "grader-out", args.assignment, "grader grade"
            )
            runs.append(m)
            measured.append(m)
            previous = m
            shutil.rmtree(folder / "submissions", ignore_errors=True)  # disk: keep outputs only
        sections.append(f"### `grader grade` alone, scaling, {variant}\n\n" + scaling_table(runs))

    info_end = machine_info()
    if info_end["code_digest"] != info["code_digest"]:
        sections.append(
            f"**Warning:** the grader's code changed during the run (grader/, reference/, "
            f"rubrics/, templates/): at the start commit {info['commit']} with "
            f"{info['grader_changes']} uncommitted file(s), digest {info['code_digest']}; at "
            f"the end commit {info_end['commit']} with {info_end['grader_changes']}, digest "
            f"{info_end['code_digest']}."
        )
    header = (
        f"## {started:%Y-%m-%d %H:%M} UTC — commit {info['commit']}"
        + (
            f" + uncommitted changes to {info['grader_changes']} file(s) under grader/, "
            "reference/, rubrics/, templates/ (the editable install runs the working tree)"
            if info["grader_changes"] not in (0, "?")
            else ""
        )
        + "\n\n"
        + f"- grader code digest {info['code_digest']} (sha256 of grader/, reference/, "
        "rubrics/, templates/ at the start)\n"
        + f"- machine: {info['nproc']} CPUs (nproc), {info['cpu']}, {info['ram']} RAM, "
        f"Linux {info['kernel']}, Python {info['python']}\n"
        + f"- command: `{command}`\n"
        + f"- load average at the start: {load_at_start}, at the end: {_load()}\n"
        + '- memory: "largest process" is `/usr/bin/time -v` Maximum resident set size; '
        '"tree" figures are the peak of the summed Rss / Pss over the command\'s process '
        "tree, sampled every 0.2 s from /proc. CPU s: user + system of the tree, exact from "
        "a cpuacct cgroup holding the command's tree where one can be made (root, cgroup v1: "
        "here), otherwise estimated as the "
        "machine's busy time (/proc/stat) minus the other processes and this script, at least "
        "what time -v or the /proc samples counted (both miss processes: time -v those their "
        "parents do not wait for, the samples those shorter than 0.2 s). "
        '"Other processes": CPU time of every process '
        "outside the tree during the command (sampled; work that competed for the cores), "
        "with the machine's whole busy time from /proc/stat and whether the machine was "
        "quiet before the start\n"
    )
    report = header + "\n" + "\n\n".join(sections) + "\n"
    print(report)
    (WORK / "last-run.json").write_text(
        json.dumps(
            {
                "started": started.isoformat(),
                "command": command,
                "variant": variant,
                "machine": info,
                "measurements": [m.__dict__ for m in measured],
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    if args.record:
        if not RESULTS_MD.exists():
            RESULTS_MD.write_text(
                "# Benchmark results\n\nAppended by `python3 bench/run_bench.py --record` "
                "(see bench/README.md); newest last.\n",
                encoding="utf-8",
            )
        with open(RESULTS_MD, "a", encoding="utf-8") as f:
            f.write("\n" + report)
        print(f"appended to {RESULTS_MD}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
