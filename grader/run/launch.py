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
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from grader.run.sandbox import Sandbox

HERE = Path(__file__).parent
CHILD_FILES = ("child.py", "wire.py", "landlock.py")
HEADER = 16  # the fork server's request header: the JSON's length, as 16 ASCII bytes


class Handle(Protocol):
    reader: int

    def finish(self) -> int | None:
        """Kill what is left of the attempt; its exit code (negative: signal), if known."""


class Launcher(Protocol):
    sandbox: Sandbox

    def start(self, job: dict[str, Any], output: BinaryIO) -> Handle: ...

    def close(self) -> None: ...


def prepare_code(scratch: Path, sandbox: Sandbox) -> Path:
    """A copy of the child's three files: all of the grader the child ever sees."""
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


def _private_folder(path: Path, sandbox: Sandbox) -> Path:
    path.mkdir()
    if sandbox.uid is not None and os.geteuid() == 0:
        os.chown(path, sandbox.uid, sandbox.uid)
    return path


# --- a fresh interpreter per attempt ----------------------------------------------------------


@dataclass
class _Spawned:
    reader: int
    process: subprocess.Popen[bytes]
    sandbox: Sandbox

    def finish(self) -> int | None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        self.sandbox.reap()  # anything that left the group (a setsid daemon) goes too
        return code


@dataclass
class Spawner:
    """One interpreter per attempt: simplest, for a single submission (`grader check`)."""

    sandbox: Sandbox
    scratch: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="grader-")))

    def __post_init__(self) -> None:
        self.code_dir = prepare_code(self.scratch, self.sandbox)
        self.workdir = _private_folder(self.scratch / "work", self.sandbox)

    def start(self, job: dict[str, Any], output: BinaryIO) -> Handle:
        inside = self.sandbox.workdir(self.scratch)
        job = {**job, **self.sandbox.child_options(self.code_dir, inside), "workdir": str(inside)}
        reader, writer = result_pipe()
        argv = [sys.executable, "-E", "-s", "-u", str(self.code_dir / "child.py"), str(writer)]
        process = subprocess.Popen(
            self.sandbox.command(argv, self.code_dir),
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            env=self.sandbox.environment(inside),
            pass_fds=(writer,),
            start_new_session=True,  # its own session and process group, killed as one
        )
        os.close(writer)
        try:
            assert process.stdin is not None
            process.stdin.write(json.dumps(job).encode())
            process.stdin.close()
        except BrokenPipeError:
            pass
        return _Spawned(reader, process, self.sandbox)

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)


# --- a warm fork server ------------------------------------------------------------------------


@dataclass
class _Forked:
    reader: int
    server: ForkServer
    workdir: str

    def finish(self) -> int | None:
        return self.server.finish(self.workdir)


class ForkServer:
    """A warm Python with numpy loaded, in the sandbox, that forks a fresh child per attempt.
    If it dies (it runs no student code, but a child might still reach it), it is restarted."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.scratch = Path(tempfile.mkdtemp(prefix="grader-"))
        self.code_dir = prepare_code(self.scratch, sandbox)
        self.numbers = itertools.count()
        self.process: subprocess.Popen[bytes] | None = None
        self.control: socket.socket | None = None

    def _boot(self) -> tuple[subprocess.Popen[bytes], socket.socket]:
        if self.process is not None and self.process.poll() is None and self.control:
            return self.process, self.control
        self._kill()
        ours, theirs = socket.socketpair()
        argv = [
            sys.executable,
            "-E",
            "-s",
            "-u",
            str(self.code_dir / "child.py"),
            "--zygote",
            str(theirs.fileno()),
        ]
        inside = self.sandbox.workdir(self.scratch)
        self.process = subprocess.Popen(
            self.sandbox.command(argv, self.code_dir, server=True),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.scratch,
            env=self.sandbox.environment(inside),
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
        )
        theirs.close()
        self.control = ours
        return self.process, ours

    def start(self, job: dict[str, Any], output: BinaryIO) -> Handle:
        number = next(self.numbers)
        if self.sandbox.name == "bwrap":
            workdir = f"{self.sandbox.workdir(self.scratch)}/job-{number}"
        else:
            workdir = str(_private_folder(self.scratch / f"work-{number}", self.sandbox))
        job = {
            **job,
            **self.sandbox.child_options(self.code_dir, Path(workdir)),
            "workdir": workdir,
        }
        reader, writer = result_pipe()
        try:
            _, control = self._boot()
            data = json.dumps({"op": "run", "job": job}).encode()
            socket.send_fds(control, [b"%015d\n" % len(data)], [writer, output.fileno()])
            control.sendall(data)
            self._reply(control)
        except (OSError, ValueError):
            self._kill()  # the child will look dead: no message ever arrives on its pipe
        finally:
            os.close(writer)
        return _Forked(reader, self, workdir)

    def finish(self, workdir: str) -> int | None:
        """Kill the attempt's group and user's processes, clean its folder; its exit code."""
        status = None
        try:
            assert self.control is not None
            request = {"op": "finish", "uid": self.sandbox.uid, "workdir": workdir}
            data = json.dumps(request).encode()
            self.control.sendall(b"%015d\n" % len(data) + data)
            status = self._reply(self.control).get("status")
        except (OSError, ValueError, AssertionError):
            self._kill()
        if self.sandbox.name != "bwrap":
            shutil.rmtree(workdir, ignore_errors=True)
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
        self._kill()
        shutil.rmtree(self.scratch, ignore_errors=True)
