"""Starting the child: a fresh interpreter per attempt, or a fork of a warm server.

Both give the boundary the same thing: a pipe to read the child's outcomes from, and a
``finish()`` that kills whatever the attempt left running and says how it ended. Starting Python
and importing numpy costs more than grading one submission, so a batch keeps one warm fork
server per worker, inside the same sandbox layer, and pays a fork per submission.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from grader.run import cgroup, wire
from grader.run.sandbox import INSIDE_JOBS, INSIDE_WORKDIR, Sandbox, interpreter
from grader.run.scratch import JobAreas, sweep_stale

HERE = Path(__file__).parent
CHILD_FILES = ("child.py", "wire.py", "landlock.py", "ipc.py")


class LaunchError(RuntimeError):
    """The grader could not start a job (its scratch area, its fork server): the grader's
    fault, never the submission's. The submission is reported as an internal error and not
    stored, so that the next run grades it again."""


class Handle(Protocol):
    reader: int

    def finish(self, wait: bool = True) -> int | None:
        """Kill what is left of the attempt and clean up after it; its exit code (negative:
        signal), if known. Without ``wait`` the clean-up may still be under way on return
        (and the exit code is not known): the launcher completes it before it starts the
        next attempt, or says why it could not."""


class Launcher(Protocol):
    sandbox: Sandbox

    def start(self, job: wire.Job, output: BinaryIO) -> Handle: ...

    def close(self) -> None: ...


def prepare_code(scratch: Path, sandbox: Sandbox) -> Path:
    """A copy of the child's files: all of the grader the child ever sees."""
    code_dir = scratch / "code"
    code_dir.mkdir()
    for name in CHILD_FILES:
        shutil.copy(HERE / name, code_dir / name)
    if sandbox.uid is not None and os.geteuid() == 0:
        scratch.chmod(0o711)  # the child's user may pass through, not list
        code_dir.chmod(0o755)
    return code_dir


def result_pipe() -> tuple[int, int]:
    """A pipe for the child's outcomes, widened to 1 MiB where Linux allows (fewer wake-ups
    for large arrays)."""
    reader, writer = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(writer, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass
    return reader, writer


def _scratch() -> Path:
    """A worker's scratch folder, named after its process (so that a later run can remove
    what a worker killed without closing left)."""
    return Path(tempfile.mkdtemp(prefix=f"grader-{os.getpid()}-"))


class _Worker:
    """What a spawner and a fork server share: the child's code, one memory cgroup for all
    their children, and a fresh scratch area per job."""

    sandbox: Sandbox
    scratch: Path

    def _prepare(self) -> None:
        sweep_stale(self.scratch.parent)  # what dead workers of earlier runs left
        self.code_dir = prepare_code(self.scratch, self.sandbox)
        self.areas = JobAreas(self.scratch / "jobs", self.sandbox.uid)
        self.memory = cgroup.create()
        self.numbers = itertools.count()

    def _new_area(self, job: wire.Job) -> tuple[Path | None, str]:
        """A fresh folder for the next job: (its host path, or None when the sandbox makes
        it itself; the path the child sees)."""
        name = f"job-{next(self.numbers)}"
        if self.memory is not None:
            try:
                self.memory.limit(int(job["limits"].get("memory_bytes", 0)))
            except OSError as exc:
                raise LaunchError(f"could not set the memory cgroup's limit: {exc}") from exc
        if self.sandbox.name == "bwrap" and not self.areas.mounted:
            return None, f"{INSIDE_WORKDIR}/{name}"  # in the sandbox's own tmpfs
        try:
            host = self.areas.create(name)
        except OSError as exc:
            raise LaunchError(f"could not make the job's scratch folder: {exc}") from exc
        inside = f"{INSIDE_JOBS}/{name}" if self.sandbox.name == "bwrap" else str(host)
        return host, inside

    def _drop_area(self, host: Path | None) -> None:
        if host is not None:
            try:
                self.areas.destroy(host)
            except OSError:
                pass  # close() tries again

    def _join(self) -> Any:
        """The ``preexec_fn`` that puts a started child into the memory cgroup."""
        return self.memory.join if self.memory is not None else None

    def _close(self) -> None:
        self.areas.close()
        if self.memory is not None:
            self.memory.remove()
        shutil.rmtree(self.scratch, ignore_errors=True)


# --- a fresh interpreter per attempt ----------------------------------------------------------


@dataclass
class _Spawned:
    reader: int
    process: subprocess.Popen[bytes]
    spawner: Spawner
    area: Path | None

    def finish(self, wait: bool = True) -> int | None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        self.spawner.sandbox.reap()  # anything that left the group (a setsid daemon) goes too
        self.spawner._drop_area(self.area)
        return code


@dataclass
class Spawner(_Worker):
    """One interpreter per attempt: simplest, for a single submission (`grader check`)."""

    sandbox: Sandbox
    scratch: Path = field(default_factory=_scratch)

    def __post_init__(self) -> None:
        self._prepare()

    def start(self, job: wire.Job, output: BinaryIO) -> Handle:
        area, inside = self._new_area(job)
        job = wire.sandboxed(job, self.sandbox.child_options(self.code_dir, Path(inside)), inside)
        reader, writer = result_pipe()
        argv = [interpreter(), "-E", "-s", "-u", str(self.code_dir / "child.py"), str(writer)]
        jobs = self.areas.root if self.areas.mounted else None
        try:
            process = subprocess.Popen(
                self.sandbox.command(argv, self.code_dir, jobs=jobs),
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.scratch,
                env=self.sandbox.environment(Path(inside)),
                pass_fds=(writer,),
                start_new_session=True,  # its own session and process group, killed as one
                preexec_fn=self._join(),
            )
        except (OSError, subprocess.SubprocessError) as exc:
            os.close(writer)
            os.close(reader)
            self._drop_area(area)
            raise LaunchError(f"could not start the child: {exc}") from exc
        os.close(writer)
        try:
            assert process.stdin is not None
            process.stdin.write(json.dumps(job).encode())
            process.stdin.close()
        except BrokenPipeError:
            pass
        return _Spawned(reader, process, self, area)

    def close(self) -> None:
        self._close()


# --- a warm fork server ------------------------------------------------------------------------


@dataclass
class _Forked:
    reader: int
    server: ForkServer
    area: Path | None
    workdir: str

    def finish(self, wait: bool = True) -> int | None:
        return self.server.finish(self.area, self.workdir, wait)


class ForkServer(_Worker):
    """A warm Python with numpy loaded, in the sandbox, that forks a fresh child per attempt.
    If it dies (it runs no student code, but a child might still reach it), it is restarted.

    An attempt's end can overlap the grader's own work: ``finish(wait=False)`` sends the
    server its kill-and-clean request and returns; the reply (and the grader's own part: the
    job's mount, its user's IPC objects) is awaited at the next ``start`` or ``close``. The
    server works through its requests in order, so the next child is forked only after the
    last one's processes were killed and its folder removed; a server that does not confirm
    that is killed, with all its sandbox user's processes, and a fresh one started."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.scratch = _scratch()
        self._prepare()
        self.process: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None
        self._finishing: list[Path | None] = []  # the area of a finish not yet confirmed

    def _boot(self) -> tuple[subprocess.Popen[bytes], socket.socket]:
        if self.process is not None and self.process.poll() is None and self.control:
            return self.process, self.control
        self._kill()
        ours, theirs = socket.socketpair()
        argv = [
            interpreter(),
            "-E",
            "-s",
            "-u",
            str(self.code_dir / "child.py"),
            "--zygote",
            str(theirs.fileno()),
        ]
        inside = self.sandbox.workdir(self.scratch)
        jobs = self.areas.root if self.areas.mounted else None
        try:
            self.process = subprocess.Popen(
                self.sandbox.command(argv, self.code_dir, server=True, jobs=jobs),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.scratch,
                env=self.sandbox.environment(inside),
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
                preexec_fn=self._join(),
            )
        finally:
            theirs.close()
        self.control = ours
        return self.process, ours

    def boot(self) -> None:
        """Start the server now (its Python and numpy load while the caller goes on); the
        first ``start`` would do it otherwise."""
        try:
            self._boot()
        except (OSError, subprocess.SubprocessError):
            self._kill()  # ``start`` tries again and reports a failure as the child's

    def start(self, job: wire.Job, output: BinaryIO) -> Handle:
        self.settle()
        area, workdir = self._new_area(job)
        options = self.sandbox.child_options(self.code_dir, Path(workdir))
        request: wire.RunRequest = {"op": "run", "job": wire.sandboxed(job, options, workdir)}
        reader, writer = result_pipe()
        try:
            _, control = self._boot()
            header, data = wire.request_bytes(request)
            socket.send_fds(control, [header], [writer, output.fileno()])
            control.sendall(data)
            self._reply(control)
        except (OSError, ValueError, subprocess.SubprocessError):
            self._kill()  # the child will look dead, and never started: the boundary says so
        finally:
            os.close(writer)
        return _Forked(reader, self, area, workdir)

    def finish(self, area: Path | None, workdir: str, wait: bool = True) -> int | None:
        """Kill the attempt's group and user's processes, destroy its folder; its exit code
        (with ``wait``; without, the server's reply is awaited by the next start)."""
        self.settle()  # one request in flight at most
        self._finishing.append(area)
        try:
            if self.control is None:
                raise OSError("the fork server is gone")
            # the server cleans only a folder it made itself, inside its own sandbox
            request: wire.FinishRequest = {
                "op": "finish",
                "uid": self.sandbox.uid if self.sandbox.owns_uid() else None,
                "workdir": workdir if area is None else None,
                "ipc": self.sandbox.name == "bwrap",  # the worker's namespace, not the host's
            }
            self.control.sendall(b"".join(wire.request_bytes(request)))
        except OSError:
            self._kill()
        return self.settle() if wait else None

    def settle(self) -> int | None:
        """Complete the last attempt's end (nothing if it is complete): await the server's
        reply to its finish, then do the grader's part; its exit code. A server that is gone,
        or does not confirm it cleaned up, is killed, and with it every process of the
        sandbox's user, before anything else starts."""
        if not self._finishing:
            return None
        area = self._finishing.pop()
        status = None
        try:
            if self.control is None:  # killed already (and its user's processes with it)
                raise ConnectionError("the fork server is gone")
            reply = self._reply(self.control)
            status, clean = reply.get("status"), reply.get("clean")
            if type(status) is not int or clean is not True:
                raise ValueError(f"the fork server could not clean up after the job: {reply}")
        except (OSError, ValueError):
            status = None
            if self.control is not None:
                self._kill()
        self.sandbox.sweep_ipc()
        self._drop_area(area)
        return status

    def _reply(self, control: socket.socket) -> dict[str, Any]:
        control.settimeout(30)
        line = b""
        while not line.endswith(b"\n"):
            chunk = control.recv(4096)
            if not chunk:
                raise OSError("the fork server is gone")
            line += chunk
        return json.loads(line)

    def _kill(self) -> None:
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
            self.process = None
        self.sandbox.reap()

    def close(self) -> None:
        self.settle()
        self._kill()
        self._close()
