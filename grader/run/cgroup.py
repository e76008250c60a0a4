"""One memory bound for all of a submission's processes: a memory cgroup per worker.

Per-process limits (RLIMIT_AS) let forked children, or memory no process maps (a memfd
written to, a tmpfs file), add up past the limit. Where the grader may create a memory cgroup
(cgroup v2 with the memory controller delegated to its own cgroup, or a v1 memory hierarchy,
both as root), a worker's children run inside one whose limit is the submission's memory plus
the warm server's share (``SERVER_BYTES``); swap is not allowed. The kernel then OOM-kills
inside it, the job's processes first (they mark themselves the first to go). Elsewhere only
the per-process limits apply: memory x processes (README).
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path

SERVER_BYTES = 256 * 1024**2  # the fork server and bwrap themselves, numpy loaded
_NUMBERS = itertools.count()


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, file system type, super options) of each cgroup file system."""
    found = []
    try:
        with open("/proc/self/mountinfo") as handle:
            for line in handle:
                left, _, right = line.partition(" - ")
                fstype, _, options = right.split()[:3]
                if fstype in ("cgroup", "cgroup2"):
                    found.append((left.split()[4], fstype, set(options.split(","))))
    except (OSError, ValueError):
        pass
    return found


def _own_paths() -> dict[str, str]:
    """This process's cgroup path per hierarchy: "" for v2, each controller for v1."""
    paths = {}
    try:
        with open("/proc/self/cgroup") as handle:
            for line in handle:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                for name in controllers.split(",") if controllers else [""]:
                    paths[name] = path
    except (OSError, ValueError):
        pass
    return paths


def _candidates() -> list[tuple[str, Path]]:
    """Where a memory cgroup could be made: (kind, the folder of this process's cgroup)."""
    own = _own_paths()
    found = []
    for point, fstype, options in _mounts():
        if fstype == "cgroup2" and "" in own:
            found.append(("cgroup v2", Path(point + own[""])))
        elif fstype == "cgroup" and "memory" in options and "memory" in own:
            found.append(("cgroup v1", Path(point + own["memory"])))
    return found


class MemoryGroup:
    """A memory cgroup for one worker's children (made with :func:`create`)."""

    def __init__(self, kind: str, path: Path) -> None:
        self.kind = kind
        self.path = path
        self.limited: int | None = None  # the bound last written (a batch writes it once)

    def limit(self, memory_bytes: int) -> None:
        """Bound everything the processes inside hold together (RAM and tmpfs, no swap)."""
        if memory_bytes == self.limited:
            return
        self.limited = None  # until all of it is written
        total = str(memory_bytes + SERVER_BYTES)
        if self.kind == "cgroup v2":
            (self.path / "memory.max").write_text(total)
            if (self.path / "memory.swap.max").exists():
                (self.path / "memory.swap.max").write_text("0")
        else:
            (self.path / "memory.limit_in_bytes").write_text(total)
            memsw = self.path / "memory.memsw.limit_in_bytes"
            if memsw.exists():
                try:
                    memsw.write_text(total)
                except OSError:
                    pass
        self.limited = memory_bytes

    def peak(self) -> int | None:
        """The most the group's processes held at once so far, in bytes (None: not kept)."""
        name = "memory.peak" if self.kind == "cgroup v2" else "memory.max_usage_in_bytes"
        try:
            return int((self.path / name).read_text())
        except (OSError, ValueError):
            return None

    def join(self) -> None:
        """Move the calling process into the group (``preexec_fn`` of the child's Popen)."""
        with open(self.path / "cgroup.procs", "w") as handle:
            handle.write(str(os.getpid()))

    def remove(self, wait: float = 10.0) -> None:
        """Kill whatever is still inside (only this worker's children ever are) and remove
        the group once the kernel has let them go."""
        deadline = time.monotonic() + wait
        while True:
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    return
            try:
                pids = (self.path / "cgroup.procs").read_text().split()
            except OSError:
                pids = []
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            time.sleep(0.05)


_PROBLEM: list[str] = []


def create(name: str = "grader") -> MemoryGroup | None:
    """A new memory cgroup below this process's own, or None where the machine does not allow
    one (then :func:`problem` says why)."""
    if os.geteuid() != 0:
        _note("the grader does not run as root")
        return None
    reasons = []
    for kind, base in sorted(_candidates(), reverse=True):  # v2 first
        _sweep_stale(base)
        path = base / f"{name}-{os.getpid()}-{next(_NUMBERS)}"
        try:
            path.mkdir()
        except OSError as exc:
            reasons.append(f"{kind}: cannot create a group in {base} ({exc.strerror})")
            continue
        control = "memory.max" if kind == "cgroup v2" else "memory.limit_in_bytes"
        if (path / control).exists():
            return MemoryGroup(kind, path)
        path.rmdir()
        reasons.append(f"{kind}: the memory controller is not enabled for {base}")
    _note("; ".join(reasons) or "no cgroup file system is mounted")
    return None


def _sweep_stale(base: Path) -> None:
    """Remove the groups of grader processes that died without closing (``grader-PID-N``)."""
    for path in base.glob("grader-*-*"):
        pid = path.name.split("-")[1]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # still alive
        except ProcessLookupError:
            MemoryGroup("", path).remove(wait=1.0)
        except OSError:
            continue


def _note(reason: str) -> None:
    if not _PROBLEM:
        _PROBLEM.append(reason)


def bound() -> str:
    """How this machine bounds a submission's memory: "cgroup v1|v2" or "per process"."""
    group = create("grader-probe")
    if group is None:
        return "per process"
    group.remove()
    return group.kind


def problem() -> str:
    """Why no memory cgroup could be made here ("" when one could, or none was tried)."""
    return _PROBLEM[0] if _PROBLEM else ""
