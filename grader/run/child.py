"""The untrusted side of the boundary: runs one submission's code and the calls asked of it.

Started by :mod:`grader.run.launch` as a separate Python process, with this file's folder on
``sys.path`` and nothing else of the grader: either for one job (JSON on standard input), or as
a warm fork server (``--zygote``) that forks a fresh child per job. A job's child runs the
student's cells in order, then makes each call and writes each outcome as one line of plain
data to its result file descriptor. It knows no expected value.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import resource
import shutil
import signal
import socket
import sys
import time
import traceback
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the same files, as mypy finds them; the child has only its own folder
    from grader.run import ipc, landlock, wire
else:
    import ipc  # the sibling modules, imported by path
    import landlock
    import wire

MAX_ERROR = 2_000
Decoded = dict[int, list[Any]]  # a job's calls' arguments, decoded, by call id
Send = Callable[..., None]  # (message: wire.ChildMessage, blobs: list[wire.Blob] | None = None)


def main() -> None:
    if sys.argv[1] == "--zygote":
        serve(socket.socket(fileno=int(sys.argv[2])))
        return
    job: wire.Job = json.loads(sys.stdin.buffer.read())
    sys.stdin.close()
    run_job(job, int(sys.argv[1]))


def run_job(job: wire.Job, result_fd: int, decoded: Decoded | None = None) -> None:
    """Become the sandbox's user, confine, limit; say so ("started": everything before it is
    the grader's doing); run the cells, then every call. ``decoded``: the calls' arguments,
    decoded already by the fork server (by call id)."""
    workdir = job.get("workdir")
    _first_to_go()
    if job.get("uid") is not None and os.getuid() == 0:
        _own_ipc_namespace()
        _become(int(job["uid"]), keep_read=bool(job.get("keep_read")))
    if workdir:
        os.makedirs(workdir, exist_ok=True)
        os.chdir(workdir)
    confined = 0
    if job.get("confine"):
        confined = landlock.confine(job["confine"]["readable"], job["confine"]["writable"])
    _limit_resources(job.get("limits", {}))
    _no_unix_sockets()
    send = _sender(result_fd)
    send({"event": "started"})

    namespace = types.ModuleType(job.get("module_name", "__main__")).__dict__
    cell_errors = []
    for index, source in job["cells"]:
        error = _run_cell(index, source, namespace)
        if error:
            cell_errors.append((index, error))
    send({"event": "loaded", "cell_errors": cell_errors, "landlock": confined})

    for call in job["calls"]:
        send(*_make_call(call, namespace, (decoded or {}).get(call["id"])))
    send({"event": "done"})


# --- the warm fork server ----------------------------------------------------------------------


def serve(control: socket.socket) -> None:
    """Fork a fresh child per job, with numpy already imported: a job costs a fork, not an
    interpreter. Requests are one JSON line each; a job comes with its result and output fds.
    ``run`` forks; ``finish`` kills the job's process group and its user's processes, reaps,
    empties the IPC namespace if asked (bwrap: the worker's, shared with every job: a child
    cannot have one of its own there), and answers with the exit status and whether all is
    clean. This process runs no student code itself."""
    current: int = 0
    job: wire.Job | None = None
    _preload()
    while True:
        request, fds = _receive(control)
        if request is None:  # the grader's worker is gone: so goes what the job left running
            if current and job is not None:
                _finish(current, job.get("uid"), job.get("workdir"), False)
            return
        if request["op"] == "run":
            job = request["job"]
            decoded = _decode_arguments(job)
            gc.freeze()  # the child's collections leave the server's objects (and pages) alone
            pid = os.fork()
            if pid == 0:
                _run_forked(control, request["job"], fds, decoded)
            del decoded
            for fd in fds:
                os.close(fd)
            current = pid
            run_reply: wire.RunReply = {"pid": pid}
            control.sendall(wire.dumps(run_reply))
        elif request["op"] == "finish":
            workdir = request.get("workdir")
            status, emptied = _finish(current, request.get("uid"), workdir, request.get("ipc"))
            current = 0
            clean = emptied and not (workdir and os.path.lexists(workdir))
            finish_reply: wire.FinishReply = {"status": status, "clean": clean}
            control.sendall(wire.dumps(finish_reply))


def _preload() -> None:
    """Import, once in the server, what nearly every job's cells use and numpy loads only when
    asked: numpy.random (~10 ms of each child's CPU otherwise). Each child draws the legacy
    global generator's state afresh (:func:`_run_forked`), as its own import would have.
    Then the child's own per-call code is run once on made-up values: Python specialises code
    as it first runs it, and a child that inherits it specialised does not redo that (nor
    copy the pages it writes) in each fork."""
    import numpy.random  # noqa: F401

    values = [np.zeros((2, 3)), np.arange(3), np.float64(1.5), 2.5, 3, True, None, "x"]
    for value in [*values, [1.0, np.ones(2)], {"k": np.zeros(1, dtype=np.float32)}]:
        blobs: list[wire.Blob] = []
        message = {
            "event": "outcome",
            "call": 0,
            "status": "ok",
            "value": wire.encode(value, blobs),
        }
        wire.frame_parts(message, blobs)
        wire.decode(wire.encode(value))
    wire.stack([np.zeros(2), np.ones(2)])
    del values, message, blobs
    # glibc maps each large block afresh (page faults on every first touch) until a block it
    # mapped is freed; then it serves blocks up to that size from its heap, reusing memory
    # already paged in: one 16 MiB block freed here (never touched) sets that for every child
    np.empty(16 << 20, dtype=np.uint8)


def _receive(control: socket.socket) -> tuple[wire.ServerRequest | None, list[int]]:
    """One request: a length header (carrying the fds), then that much JSON. None when the
    grader's side has closed the socket."""
    header, fds, _, _ = socket.recv_fds(control, wire.HEADER, 4)
    while header and len(header) < wire.HEADER:
        more = control.recv(wire.HEADER - len(header))
        if not more:
            return None, []
        header += more
    if not header:
        return None, []
    size, data = wire.request_size(header), b""
    while len(data) < size:
        chunk = control.recv(min(size - len(data), 1 << 20))
        if not chunk:
            return None, []
        data += chunk
    request: wire.ServerRequest = json.loads(data)
    return request, list(fds)


def _decode_arguments(job: wire.Job) -> Decoded:
    """Every call's arguments decoded here, once, for the child to find in its fork (for its
    first repeat: each further repeat decodes a fresh copy). A call whose arguments do not
    decode is left to the child, which reports it."""
    decoded: Decoded = {}
    for call in job["calls"]:
        try:
            decoded[call["id"]] = [wire.decode(arg) for arg in call["args"]]
        except (wire.WireError, RecursionError):
            pass
    return decoded


def _run_forked(
    control: socket.socket, job: wire.Job, fds: list[int], decoded: Decoded | None = None
) -> None:
    code = 0
    try:
        control.close()
        os.setsid()  # its own session and process group, killed as one
        result_fd, output_fd = fds
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.close(output_fd)
        np.random.seed()  # not the server's state: fresh entropy, as a fresh import has
        run_job(job, result_fd, decoded)
    except BaseException:
        code = 70
    finally:
        os._exit(code)


def _remove_tree(path: str) -> None:
    """Remove a job's folder as its owner, even subfolders it made mode 000."""

    def grant(function: Any, failed: str, _: Any) -> None:
        for where in (os.path.dirname(failed), failed):
            try:
                if os.path.isdir(where) and not os.path.islink(where):
                    os.chmod(where, 0o700)
            except OSError:
                pass
        try:
            if os.path.isdir(failed) and not os.path.islink(failed):
                shutil.rmtree(failed, onerror=grant)
            else:
                os.unlink(failed)
        except OSError:
            pass

    if os.path.lexists(path):
        shutil.rmtree(path, onerror=grant)


def _finish(
    pid: int, uid: int | None, workdir: str | None, empty_ipc: bool | None
) -> tuple[int, bool]:
    """Kill what the job left running, clean its folder and (``empty_ipc``) every IPC object
    of this namespace; its exit code, and whether the namespace was emptied."""
    if pid:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    emptied = True
    if uid is not None and os.getuid() == 0:
        reaper = os.fork()
        if reaper == 0:  # as the job's user: kill all its processes, remove its files
            code = 1
            try:
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                os.kill(-1, signal.SIGKILL)
                if workdir:
                    _remove_tree(workdir)
                # the job's objects are its user's (root here made none): removable by it
                code = 0 if not empty_ipc or ipc.empty_namespace() else 1
            finally:
                os._exit(code)
        emptied = os.waitpid(reaper, 0)[1] == 0
    else:  # the job ran as this process's own user: it may clean up itself
        if workdir:
            _remove_tree(workdir)
        if empty_ipc:
            emptied = ipc.empty_namespace()
    status = 0
    if pid:
        _, status = os.waitpid(pid, 0)
    while True:  # reap any zombie the job's forks left us
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
    return (os.waitstatus_to_exitcode(status) if pid else 0), emptied


def _limit_resources(limits: dict[str, int]) -> None:
    """Cap what the code may take; the parent's wall-clock timeout backs these up."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the file-size cap fails, no kill
    names = {
        "cpu_seconds": resource.RLIMIT_CPU,
        "memory_bytes": resource.RLIMIT_AS,
        "file_bytes": resource.RLIMIT_FSIZE,
        "open_files": resource.RLIMIT_NOFILE,
        "processes": resource.RLIMIT_NPROC,
    }
    for name, which in names.items():
        if name in limits:
            resource.setrlimit(which, (limits[name], limits[name]))


def _first_to_go() -> None:
    """Mark this job (and all it forks) the first the kernel kills when memory runs out, so
    that an OOM kill in the worker's memory cgroup takes the job, not the fork server."""
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass


CLONE_NEWIPC = 0x08000000


def _own_ipc_namespace() -> None:
    """A SysV IPC namespace of the job's own (as root, under `process`; bwrap already gave it
    one): its shared memory, queues and semaphores go when its last process ends."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.unshare(CLONE_NEWIPC)  # EPERM inside bwrap, which has done it already


# seccomp: socket(AF_UNIX, ...) fails with EACCES (Landlock does not scope pathname sockets)
SECCOMP_SET_MODE_FILTER, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS = 1, 22, 38
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
AF_UNIX, EACCES, ENOSYS = 1, 13, 38
NATIVE = {  # machine: (audit arch, socket syscall number, x32 bit or 0)
    "x86_64": (0xC000003E, 41, 0x40000000),
    "aarch64": (0xC00000B7, 198, 0),
}


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def _unix_socket_filter(machine: str) -> list[tuple[int, int, int, int]]:
    """The BPF program: other architectures' and x32 system calls fail (ENOSYS), socket()
    of the AF_UNIX family fails (EACCES), everything else is allowed."""
    arch, socket_nr, x32 = NATIVE[machine]
    load, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    # (code, jump if true, jump if false, k); a jump is an offset or a label resolved below
    program: list[tuple[int, int | str, int | str, int]] = [
        (load, 0, 0, 4),
        (jeq, 0, "enosys", arch),
        (load, 0, 0, 0),
    ]
    if x32:
        program.append((jge, "enosys", 0, x32))
    program += [
        (jeq, 0, "allow", socket_nr),
        (load, 0, 0, 16),  # args[0], low 32 bits: the address family
        (jeq, "eacces", "allow", AF_UNIX),
    ]
    labels = {"allow": len(program), "eacces": len(program) + 1, "enosys": len(program) + 2}
    program += [
        (ret, 0, 0, SECCOMP_RET_ALLOW),
        (ret, 0, 0, SECCOMP_RET_ERRNO | EACCES),
        (ret, 0, 0, SECCOMP_RET_ERRNO | ENOSYS),
    ]

    def offset(jump: int | str, pc: int) -> int:
        return labels[jump] - pc - 1 if isinstance(jump, str) else jump

    return [
        (code, offset(jt, pc), offset(jf, pc), k) for pc, (code, jt, jf, k) in enumerate(program)
    ]


def _no_unix_sockets() -> bool:
    """No new UNIX-domain socket for the job (Linux x86-64 and arm64): it cannot connect to a
    pathname socket of the host's (a database, a container daemon). socketpair() still works.
    Permanent for the process and everything it starts; False where it could not be set."""
    machine = os.uname().machine
    if not sys.platform.startswith("linux") or machine not in NATIVE:
        return False
    program = _unix_socket_filter(machine)
    filters = (_SockFilter * len(program))(*(_SockFilter(*op) for op in program))
    fprog = _SockFprog(len(program), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(PR_SET_SECCOMP, 2, ctypes.byref(fprog), 0, 0) == 0


def _become(uid: int, keep_read: bool) -> None:
    """Drop root for the sandbox's own user. With ``keep_read``, keep only the capability to
    read files (CAP_DAC_READ_SEARCH), for a Python installed where that user cannot read."""
    libc = ctypes.CDLL(None, use_errno=True)
    if keep_read:
        libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if keep_read:
        header = _CapHeader(CAPABILITY_VERSION_3, 0)
        data = (_CapData * 2)()
        data[0].effective = data[0].permitted = 1 << CAP_DAC_READ_SEARCH
        if libc.capset(ctypes.byref(header), data) != 0:
            raise OSError(ctypes.get_errno(), "capset failed")
        libc.prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("could not drop privileges")


PR_SET_KEEPCAPS = 8
CAPABILITY_VERSION_3 = 0x20080522
CAP_DAC_READ_SEARCH = 2


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _sender(fd: int) -> Send:
    def send(message: wire.ChildMessage, blobs: list[wire.Blob] | None = None) -> None:
        wire.write(fd, message, blobs or [])

    return send


def _run_cell(index: int, source: str, namespace: dict[str, Any]) -> str:
    """Run one cell; return "" or the error it raised, as a notebook would show it."""
    try:
        code = compile(source, f"<cell {index}>", "exec")
        exec(code, namespace)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included: the next cell runs
        return _describe(exc)
    return ""


def _make_call(
    call: wire.CallRequest, namespace: dict[str, Any], decoded: list[Any] | None = None
) -> tuple[wire.OutcomeMessage, list[wire.Blob]]:
    """The outcome message of one call, and the raw arrays that go with it; ``decoded``: its
    arguments, decoded already."""
    blobs: list[wire.Blob] = []
    reply = _answer(call, namespace, blobs, decoded)
    return reply, blobs if reply["status"] == "ok" else []


def _answer(
    call: wire.CallRequest,
    namespace: dict[str, Any],
    blobs: list[wire.Blob],
    decoded: list[Any] | None = None,
) -> wire.OutcomeMessage:
    """Call the function (``repeat`` times, each with arguments of its own), then encode what
    it returned."""
    number = call["id"]
    function = namespace.get(call["function"])
    if function is None:
        return _failed(number, "missing", "")
    if not callable(function):
        kind = type(function).__name__
        return _failed(number, "error", f"`{call['function']}` is a {kind}, not a function")
    values: list[Any] = []
    args: list[Any] = []
    started = time.perf_counter()
    try:
        for repeat in range(call.get("repeat", 1)):
            fresh = repeat > 0 or decoded is None
            given = [wire.decode(arg) for arg in call["args"]] if fresh else decoded
            args = [_argument(value, repeat) for value in given or []]
            values.append(function(*args))
    except BaseException as exc:
        return _failed(number, "error", f"raised {_describe(exc)}", _since(started))
    return _encoded(call, values, args, blobs, _since(started))


def _encoded(
    call: wire.CallRequest,
    values: list[Any],
    args: list[Any],
    blobs: list[wire.Blob],
    seconds: float,
) -> wire.OutcomeMessage:
    """The ``ok`` message of a call that returned, or why its value cannot cross."""
    reply: wire.OutcomeMessage = {"event": "outcome", "call": call["id"], "status": "ok"}
    try:
        value = values[0] if call.get("repeat", 1) == 1 else wire.stack(values)
        reply["value"] = wire.encode(value, blobs)
        reply["seconds"] = seconds
        if call.get("return_args"):
            reply["args_after"] = [wire.encode(arg, blobs) for arg in args if not _is_rng(arg)]
    except wire.WireError as exc:  # not plain data: a wrong answer, not an exception
        return _failed(call["id"], "not_plain", f"returned {exc}", seconds)
    except Exception as exc:
        return _failed(call["id"], "error", f"returned {_describe(exc)}", seconds)
    return reply


def _failed(
    number: int, status: wire.OutcomeStatus, error: str, seconds: float | None = None
) -> wire.OutcomeMessage:
    """A call's outcome without a value: ``missing``, ``error`` or ``not_plain``."""
    reply: wire.OutcomeMessage = {"event": "outcome", "call": number, "status": status}
    if error:
        reply["error"] = error
    if seconds is not None:
        reply["seconds"] = seconds
    return reply


def _argument(value: Any, repeat: int) -> Any:
    if isinstance(value, dict) and set(value) == {wire.RNG_KEY}:
        return np.random.default_rng(int(value[wire.RNG_KEY]) + repeat)
    return value


def _is_rng(value: Any) -> bool:
    return isinstance(value, np.random.Generator)


def _describe(exc: BaseException) -> str:
    """ "TypeError: message (cell 3, line 4)" — short, with where in the student's code."""
    where = ""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell")]
    if frames:
        where = f" ({frames[-1].filename[1:-1]}, line {frames[-1].lineno})"
    elif isinstance(exc, SyntaxError) and exc.filename and exc.filename.startswith("<cell"):
        where = f" ({exc.filename[1:-1]}, line {exc.lineno})"
    try:
        text = exc.msg if isinstance(exc, SyntaxError) else str(exc)
    except BaseException:
        text = "(its message could not be read)"
    name = type(exc).__name__
    return (f"{name}: {text}" if text else name)[:MAX_ERROR] + where


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 6)


if __name__ == "__main__":
    main()
