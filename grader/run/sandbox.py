"""Layers of isolation around the child: how it is started, as whom, and what it can see.

``process`` (any POSIX system): its own session and process group, resource limits (CPU time,
memory, file size, open files and, under a dedicated user, processes), a wall-clock timeout
that kills the group, a scrubbed environment, a private working folder, capped output; where
the grader runs as root, the child becomes an unprivileged user of its own.

``bwrap`` (Linux with bubblewrap) adds: no network, its own PID namespace (it cannot see or
signal the grader), a read-only system, and a filesystem view holding only the system, the
Python installation and a size-limited private folder: no course folder, reference, outputs
or other submissions.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shlex
import shutil
import site
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from grader.defaults import DEFAULT_SANDBOX as DEFAULT_SANDBOX  # re-exported: defined there
from grader.defaults import SANDBOX_CHOICES as SANDBOX_CHOICES
from grader.defaults import SandboxChoice as SandboxChoice
from grader.errors import UserError
from grader.run import cgroup, ipc

KEPT_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL")
SYSTEM_READABLE = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/dev/urandom",
    "/dev/zero",
    "/proc/self",
    "/sys/devices/system/cpu",
)
SANDBOX_UIDS = range(61000, 65000)  # the child's user id when the grader is root: a free one
INSIDE_WORKDIR = "/tmp/work"
INSIDE_JOBS = "/tmp/jobs"  # where a worker's per-job scratch areas appear inside bwrap
INSIDE_CODE = "/grader"
TMPFS_BYTES = 64 * 1024**2


class SandboxError(UserError, RuntimeError):
    """A sandbox layer that was asked for and cannot be had here."""


@dataclass(frozen=True)
class Sandbox:
    """How the child is started. ``name`` is the layer, ``uid`` the user it becomes (root
    only), ``notes`` what the layer does not protect against on this machine."""

    name: str = "process"
    uid: int | None = None
    notes: tuple[str, ...] = field(default=())
    keep_read: bool = False  # keep CAP_DAC_READ_SEARCH: Python lives where uid cannot read

    def child_options(self, code_dir: Path, workdir: Path) -> dict[str, object]:
        """What the child itself must do before running student code: become its own user,
        and confine itself with Landlock to the system, Python, its code and its folder."""
        if self.name == "bwrap":
            code_dir = Path(INSIDE_CODE)
        readable = [*SYSTEM_READABLE, *map(str, _python_roots()), str(code_dir)]
        confine = {"readable": readable, "writable": [str(workdir), "/dev/null"]}
        return {"uid": self.uid, "keep_read": self.keep_read, "confine": confine}

    def describe(self) -> str:
        who = f", as uid {self.uid}" if self.uid is not None else ""
        return f"{self.name}{who}, memory {memory_bound()}"

    def command(
        self, argv: list[str], code_dir: Path, server: bool = False, jobs: Path | None = None
    ) -> list[str]:
        """The command line that starts ``argv`` (python, child.py, ...) in this layer. A fork
        server (``server``) may also kill its children, which run as the sandbox's user.
        ``jobs``: the host folder whose per-job scratch mounts appear at ``INSIDE_JOBS``."""
        if self.name == "process":
            return argv
        script = argv.index(str(code_dir / "child.py"))
        inside = [*argv[:script], f"{INSIDE_CODE}/child.py", *argv[script + 1 :]]
        extra = ["--cap-add", "CAP_KILL"] if server and self.uid is not None else []
        if jobs is not None:
            extra += ["--bind", str(jobs), INSIDE_JOBS]
        return (
            _bwrap_argv(self.uid is not None)
            + extra
            + ["--ro-bind", str(code_dir), INSIDE_CODE, "--", *inside]
        )

    def workdir(self, scratch: Path) -> Path:
        """The child's private working folder, as the child sees it."""
        return Path(INSIDE_WORKDIR) if self.name == "bwrap" else scratch / "work"

    def environment(self, workdir: Path) -> dict[str, str]:
        """A scrubbed environment: nothing of the grader's but what numpy needs to run."""
        env = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
        env.update(
            PATH="/usr/local/bin:/usr/bin:/bin",
            HOME=str(workdir),
            TMPDIR=str(workdir),
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONHASHSEED="0",
            OPENBLAS_NUM_THREADS="1",
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            MPLBACKEND="Agg",
        )
        return env

    def owns_uid(self) -> bool:
        """Whether this process still holds the claim on the sandbox's uid (so that every
        process of that uid was started by this grader and may be killed)."""
        return self.uid is not None and os.geteuid() == 0 and self.uid in _CLAIMED

    def reap(self) -> None:
        """Kill every process left by the child (all processes of its dedicated user, which
        this grader claimed as unused) and remove the SysV IPC objects that user owns."""
        if not self.owns_uid():
            return
        assert self.uid is not None
        subprocess.run(
            ["kill", "-KILL", "-1"],
            user=self.uid,
            group=self.uid,
            capture_output=True,
            check=False,
        )
        self.sweep_ipc()

    def sweep_ipc(self) -> None:
        """Remove the SysV IPC objects the sandbox's user owns or made (under bwrap they live
        and die in the child's own IPC namespace; under `process` they would outlive it)."""
        if self.owns_uid():
            assert self.uid is not None
            ipc.remove_owned_by(self.uid)


def choose_sandbox(name: str = DEFAULT_SANDBOX) -> Sandbox:
    """The layer called ``name``; ``auto`` is bwrap where it works, else process."""
    if name not in SANDBOX_CHOICES:
        raise SandboxError(f"unknown sandbox {name!r}: choose auto, bwrap or process")
    uid = _thread_uid() if os.geteuid() == 0 else None
    if name in ("auto", "bwrap"):
        problem = bwrap_problem()
        if not problem:
            return Sandbox("bwrap", uid)
        if name == "bwrap":
            raise SandboxError(f"the bwrap sandbox is not available: {problem}")
    notes = ["no network isolation", "the child can read every file the grader's user can"]
    if uid is None:
        notes.append("the child runs as the grader's own user and can signal its processes")
    keep_read = uid is not None and not all(_readable_by_others(p) for p in _python_roots())
    return Sandbox("process", uid, tuple(notes), keep_read)


def fallback_warning(requested: str, sandbox: Sandbox) -> str:
    """One line for `auto` when it had to fall back to the weaker layer, else ""."""
    if requested == "auto" and sandbox.name == "process":
        reason = bwrap_problem() or "its trial run did not work"
        return (
            f"warning: bubblewrap is not usable here ({reason}); grading in the "
            "process sandbox: " + "; ".join(sandbox.notes)
        )
    return ""


_MEMORY_BOUND: list[str] = []


def memory_bound() -> str:
    """How a submission's memory is bounded here: "cgroup v1|v2" (all its processes
    together) or "per process" (each process; README), probed once."""
    if not _MEMORY_BOUND:
        _MEMORY_BOUND.append(cgroup.bound())
    return _MEMORY_BOUND[0]


def interpreter() -> str:
    """The Python to start children with, as an absolute path whose folders are resolved: a
    relative or ``..`` path (``../venv/bin/python``) means nothing inside bwrap. The file
    itself stays as named, so that a virtual environment's ``python`` link still finds its
    ``pyvenv.cfg``."""
    path = os.path.abspath(sys.executable)
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


# --- the sandbox's own user -------------------------------------------------------------------

_CLAIMED: dict[int, socket.socket] = {}  # uid -> the claim held for this process's life


@atexit.register
def _release_claims() -> None:
    """Let the claims go at exit (closed, not left to the garbage collector)."""
    while _CLAIMED:
        _CLAIMED.popitem()[1].close()


_BY_THREAD: dict[int, int] = {}


def _forget_claims() -> None:
    """In a forked child (a batch's worker): the parent's uid is the parent's, and so are the
    processes running as it, so the child claims its own; two workers never share one."""
    while _CLAIMED:
        _CLAIMED.popitem()[1].close()  # the parent's socket stays open: its claim holds
    _BY_THREAD.clear()


os.register_at_fork(after_in_child=_forget_claims)


def _thread_uid() -> int:
    """This thread's claimed uid: the command and its in-process worker share one (the layer
    it prints is the one that grades), each worker thread (Dask) has its own."""
    key = threading.get_ident()
    if key not in _BY_THREAD:
        _BY_THREAD[key] = claim_uid()
    return _BY_THREAD[key]


def claim_uid() -> int:
    """A uid for the child that no account and no process uses, claimed by binding an abstract
    UNIX socket named after it (so that two graders, or two workers of one, never share one;
    the kernel drops the claim when the process ends, and no file is left): killing "every
    process of the sandbox's user" then kills only what this grader started."""
    accounts = {entry.pw_uid for entry in pwd.getpwall()}
    start = os.getpid() % len(SANDBOX_UIDS)
    busy: set[int] = set()  # seen running in the last look at /proc
    for step in range(len(SANDBOX_UIDS)):
        uid = SANDBOX_UIDS[(start + step) % len(SANDBOX_UIDS)]
        if uid in accounts or uid in busy or uid in _CLAIMED:
            continue
        claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            claim.bind(f"\0grader-sandbox-uid-{uid}")
        except OSError:
            claim.close()
            continue  # another grader holds it
        busy = _uids_running()  # looked at after the claim: nothing can start as uid since
        if uid in busy:  # left by a grader that died, or used by something else
            claim.close()
            continue
        _CLAIMED[uid] = claim
        return uid
    raise SandboxError(f"no free user id in {SANDBOX_UIDS.start}-{SANDBOX_UIDS.stop - 1}")


def _uids_running() -> set[int]:
    """Every user id (real, effective, saved) of every process this process can see."""
    return {uid for _, uids in _process_uids() for uid in uids}


def _processes_of(uid: int) -> list[int]:
    """The pids of the processes that run as ``uid`` (by any of their user ids)."""
    return [pid for pid, uids in _process_uids() if uid in uids]


def _process_uids() -> list[tuple[int, set[int]]]:
    """(pid, its user ids) for each process, from /proc/PID/status (a process that changed
    user is not dumpable, and its /proc folder then belongs to root)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as handle:
                for line in handle:
                    if line.startswith(b"Uid:"):
                        found.append((int(entry.name), {int(u) for u in line.split()[1:4]}))
                        break
        except (OSError, ValueError):
            pass
    return found


_BWRAP_PROBLEM: list[str] = []


def bwrap_problem() -> str:
    """Why bwrap cannot be used here, or "" when a trial run inside it works (cached)."""
    if _BWRAP_PROBLEM:
        return _BWRAP_PROBLEM[0]
    if not sys.platform.startswith("linux"):
        problem = "it is Linux-only"
    elif shutil.which("bwrap") is None:
        problem = "`bwrap` is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    else:
        # a cheap trial: namespaces, mounts and the Python folder bound (no interpreter start)
        trial = _bwrap_argv(os.geteuid() == 0) + [
            "--",
            "/bin/sh",
            "-c",
            f"test -x {shlex.quote(interpreter())}",
        ]
        try:
            done = subprocess.run(trial, capture_output=True, text=True, timeout=30)
            said = done.stderr.strip()[:200] or (
                f"{interpreter()} is not visible inside the sandbox"
                if done.returncode == 1
                else "it printed nothing"
            )
            problem = (
                "" if done.returncode == 0 else f"a trial run exited {done.returncode}: {said}"
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            problem = f"a trial run failed: {exc}"
    _BWRAP_PROBLEM.append(problem)
    return problem


def _bwrap_argv(as_root: bool) -> list[str]:
    """bwrap options: new namespaces, no capabilities but those the child needs to become
    its own user, the system and Python read-only, a small private tmpfs."""
    argv = [
        "bwrap",
        "--die-with-parent",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
    ]
    if as_root:  # the child drops to its own user itself, with these two capabilities
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        argv += ["--unshare-user"]
    argv += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64"):
        path = Path("/", name)
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    argv += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    argv += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--mqueue",  # the worker's POSIX message queues, for its server to list and remove
        ipc.MQUEUE,
        "--size",
        str(TMPFS_BYTES),
        "--tmpfs",
        "/tmp",
        "--perms",
        "0777",
        "--dir",
        INSIDE_WORKDIR,
    ]
    made: set[Path] = {Path("/tmp")}
    for root in _python_roots():  # after /tmp's tmpfs, so that a venv in /tmp stays visible
        for parent in reversed(root.parents[:-1]):
            if parent not in made and not _covered(parent):
                argv += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        argv += ["--ro-bind", str(root), str(root)]
    argv += ["--chdir", INSIDE_WORKDIR]
    return argv


def _python_roots() -> list[Path]:
    """The folders the interpreter and its packages (numpy) live in, outside /usr."""
    candidates = {Path(sys.base_prefix), Path(sys.prefix), *map(Path, site.getsitepackages())}
    real = {p.resolve() for p in candidates if p.exists()} | {p for p in candidates if p.exists()}
    roots = sorted(p for p in real if not _covered(p))
    return [p for p in roots if not any(q != p and q in p.parents for q in roots)]


def _readable_by_others(path: Path) -> bool:
    """Can any user reach and read this folder (every parent searchable by others)?"""
    try:
        if not path.stat().st_mode & 0o005 == 0o005:
            return False
        return all(parent.stat().st_mode & 0o001 for parent in path.parents)
    except OSError:
        return False


def _covered(path: Path) -> bool:
    return path == Path("/usr") or Path("/usr") in path.parents
