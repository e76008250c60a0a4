"""The trusted side of the boundary: start a child per submission, send it the calls, read back
plain outcomes, and enforce the timeouts. A call that hangs or kills its child costs only that
call: the child is killed with its whole process group and a fresh one runs the calls left.
"""

from __future__ import annotations

import os
import selectors
import signal
import tempfile
import time
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

from grader.model import Call, CallStatus, NotPlain, Outcome, Rng, RunLog, Submission
from grader.run import wire
from grader.run.launch import Handle, Launcher, LaunchError, Spawner
from grader.run.sandbox import Sandbox, choose_sandbox

OUTPUT_CAP = 20_000
# What the parent decodes of one child's messages, whatever the child writes (it can find its
# result descriptor and forge anything): a message beyond these is that submission's error.
MAX_LINE = 4 * 1024**2  # bytes of one message's JSON line
MAX_ITEMS = 200_000  # values and containers in one JSON line (counted before parsing)
MAX_FRAMES = 64  # raw array frames after one line
MAX_MESSAGE = 64 * 1024**2  # bytes of one message's frames
MAX_SUBMISSION = 256 * 1024**2  # bytes read from all of one submission's children
MAX_ERROR = 2_200  # characters of one error text (the child's own cap, plus where)
# bytes asked of the pipe per read of message lines (arrays are read straight into their own
# memory): small enough to come from the heap the last read freed, not a fresh mapping
READ_CHUNK = 1 << 16
OUT_OF_TIME = Outcome(status="timeout", error="the submission ran out of time")


class ProtocolViolation(Exception):
    """A child's message beyond the bounds, or not of the protocol's shape."""


@dataclass(frozen=True)
class Limits:
    """How much a submission may take. The defaults suit small numeric exercises; a rubric
    may set its own under `limits:`."""

    load_timeout: float = 20.0  # seconds to start Python and run every cell
    submission_timeout: float = 180.0  # seconds for everything one submission does
    cpu_seconds: int = 120
    memory_mb: int = 4096
    file_mb: int = 16  # per file written, and the captured output
    open_files: int = 256
    processes: int = 64  # enforced only when the child runs as its own user

    def for_child(self, with_processes: bool = False) -> dict[str, int]:
        limits = {
            "cpu_seconds": self.cpu_seconds,
            "memory_bytes": self.memory_mb * 1024**2,
            "file_bytes": self.file_mb * 1024**2,
            "open_files": self.open_files,
        }
        if with_processes:
            limits["processes"] = self.processes
        return limits


@dataclass
class _Budget:
    """What one submission's children may still send: bytes and messages, over all attempts."""

    bytes_left: int
    messages_left: int

    def spend(self, data: int = 0, messages: int = 0) -> None:
        self.bytes_left -= data
        self.messages_left -= messages
        if self.bytes_left < 0:
            raise ProtocolViolation(f"sent more than {MAX_SUBMISSION // 1024**2} MB of results")
        if self.messages_left < 0:
            raise ProtocolViolation("sent more result messages than it was asked for")


@dataclass
class _Attempt:
    """One child and what has been read from it so far: ``buffer[offset:]`` is not parsed
    yet (the buffer is compacted once most of it has been parsed, not after each message)."""

    handle: Handle
    budget: _Budget
    buffer: bytearray = field(default_factory=bytearray)
    offset: int = 0
    head: _Head | None = None  # the parsed line of a message whose arrays are still coming
    messages: deque[dict[str, Any]] = field(default_factory=deque)
    eof: bool = False
    exit_code: int | None = None
    finished: bool = False
    started: bool = False  # the child said it was ready: what follows is the submission's
    selector: selectors.BaseSelector | None = None

    @property
    def reader(self) -> int:
        return self.handle.reader

    def take(self, chunk: bytes) -> None:
        """Append what was read, first dropping the parsed part if it is most of the buffer."""
        if self.offset and self.offset * 2 >= len(self.buffer):
            del self.buffer[: self.offset]
            self.offset = 0
        self.buffer += chunk

    def finish(self, wait: bool = True) -> None:
        """End the attempt; with ``wait``, learn its exit code (the launcher otherwise
        completes the clean-up before its next start)."""
        if not self.finished:
            self.exit_code = self.handle.finish(wait)
            self.finished = True
            os.close(self.handle.reader)
            if self.selector is not None:
                self.selector.close()


class _Head:
    """A message's JSON line, parsed, and the memory its arrays are read into: one buffer
    per array, of the size the line announced (bounded by MAX_MESSAGE before any is made;
    the pages are the kernel's to give only as the bytes arrive)."""

    def __init__(self, message: dict[str, Any], sizes: list[int]) -> None:
        self.message = message
        self.frames = [np.empty(size, dtype=np.uint8) for size in sizes]
        self.missing = sum(sizes)  # bytes still to come
        self.part = 0  # the frame being filled, and how much of it is
        self.within = 0
        self._skip_full()

    def _skip_full(self) -> None:
        while self.part < len(self.frames) and self.within == self.frames[self.part].size:
            self.part += 1
            self.within = 0

    def unfilled(self) -> list[memoryview]:
        """The memory still to fill, in order (for ``readv``)."""
        rest = [frame.data for frame in self.frames[self.part :]]
        rest[0] = rest[0][self.within :]
        return rest

    def filled(self, count: int) -> None:
        """``count`` more bytes have been written into :meth:`unfilled`'s memory."""
        self.missing -= count
        while count:
            step = min(count, self.frames[self.part].size - self.within)
            self.within += step
            count -= step
            self._skip_full()

    def put(self, data: memoryview) -> int:
        """Copy the start of ``data`` into the memory still to fill; how much it took."""
        taken = 0
        while self.missing and taken < len(data):
            frame = self.frames[self.part]
            step = min(len(data) - taken, frame.size - self.within)
            frame[self.within : self.within + step] = data[taken : taken + step]
            taken += step
            self.filled(step)
        return taken


def run_submission(
    submission: Submission,
    calls: list[Call],
    limits: Limits | None = None,
    sandbox: Sandbox | None = None,
    launcher: Launcher | None = None,
) -> tuple[RunLog, list[Outcome]]:
    """Run the submission's cells, then every call; return the load log and one outcome a call.
    ``launcher`` starts the child (a warm fork server in a batch); by default, a fresh one."""
    own = launcher is None
    launcher = launcher or Spawner(sandbox or choose_sandbox("process"))
    run = _Run.begin(submission, calls, limits or Limits(), launcher)
    try:
        with tempfile.TemporaryFile() as output_file:
            while run.pending and _one_attempt(run, output_file):
                pass
            output = _read_output(output_file, OUTPUT_CAP)
    finally:
        if own:
            launcher.close()
    return run.log(output), run.results()


@dataclass
class _Run:
    """One submission's run over its attempts: the calls still to make, what came back."""

    calls: list[Call]
    limits: Limits
    launcher: Launcher
    job: wire.Job  # without its calls: each attempt asks for the calls still pending
    cell_numbers: set[int]
    deadline: float
    budget: _Budget
    pending: list[int]
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    cell_errors: tuple[tuple[int, str], ...] = ()
    load_error: str = ""
    landlock: object = None

    @classmethod
    def begin(
        cls, submission: Submission, calls: list[Call], limits: Limits, launcher: Launcher
    ) -> _Run:
        job: wire.Job = {
            "cells": [(cell.index, cell.source) for cell in submission.cells],
            "module_name": "__main__" if submission.kind == "notebook" else "submission",
            "limits": limits.for_child(with_processes=launcher.sandbox.uid is not None),
            "calls": [],
        }
        return cls(
            calls,
            limits,
            launcher,
            job,
            cell_numbers={cell.index for cell in submission.cells},
            deadline=time.monotonic() + limits.submission_timeout,
            budget=_Budget(MAX_SUBMISSION, 4 * (len(calls) + 2) + 64),
            pending=list(range(len(calls))),
        )

    def settle(self, numbers: list[int], outcome: Outcome) -> None:
        """Give these calls this outcome: they are no longer pending."""
        for i in numbers:
            self.outcomes[i] = outcome
            self.pending.remove(i)

    def violated(self, exc: ProtocolViolation) -> None:
        """The child broke the protocol: the whole submission's error, not a retry."""
        self.load_error = f"its code broke the grader's result protocol: {exc}"
        self.cell_errors = ()
        failed = Outcome(status="error", error=self.load_error)
        self.outcomes = {i: failed for i in range(len(self.calls))}
        self.pending.clear()

    def log(self, output: str) -> RunLog:
        layer = self.launcher.sandbox.describe() + _landlock_note(self.landlock)
        return RunLog(
            cell_errors=self.cell_errors, output=output, load_error=self.load_error, sandbox=layer
        )

    def results(self) -> list[Outcome]:
        return [self.outcomes[i] for i in range(len(self.calls))]


def _one_attempt(run: _Run, output: BinaryIO) -> bool:
    """One child for the calls still pending; False when no further one is to be started."""
    job: wire.Job = {**run.job, "calls": [_encode_call(i, run.calls[i]) for i in run.pending]}
    attempt = _Attempt(run.launcher.start(job, output), run.budget)
    try:
        if not _read_loaded(run, attempt):
            return False
        _call_each(run, attempt)
    except ProtocolViolation as exc:
        run.violated(exc)
        return False
    finally:
        attempt.finish(wait=False)  # the clean-up overlaps what the grader does next
    if _left(run.deadline) <= 0:
        run.settle(list(run.pending), OUT_OF_TIME)
        return False
    return True


def _read_loaded(run: _Run, attempt: _Attempt) -> bool:
    """Wait for the cells to have run; False (every call pending settled) if they never did."""
    wait = min(run.limits.load_timeout, _left(run.deadline))
    loaded = _read_until(attempt, "loaded", wait)
    if loaded is None and not attempt.started:
        reason = _why_stopped(attempt, wait, "the sandbox's setup")
        raise LaunchError(f"the child never started: {reason}")
    if loaded is None:
        run.load_error = _why_stopped(attempt, wait, "loading your code")
        status: CallStatus = "crashed" if attempt.eof else "timeout"
        run.settle(list(run.pending), Outcome(status=status, error=run.load_error))
        return False
    run.cell_errors = _cell_errors(loaded.get("cell_errors"), run.cell_numbers)
    run.landlock = loaded.get("landlock")
    return True


def _call_each(run: _Run, attempt: _Attempt) -> None:
    """Read each pending call's outcome, until the child hangs or dies on one (a fresh child
    then takes the calls left)."""
    for i in list(run.pending):
        timeout = min(run.calls[i].timeout, _left(run.deadline))
        message = _read_until(attempt, "outcome", timeout, i)
        if message is None:
            reason = _why_stopped(attempt, timeout, f"`{run.calls[i].function}`")
            status: CallStatus = "crashed" if attempt.eof else "timeout"
            run.settle([i], Outcome(status=status, error=reason, seconds=timeout))
            return
        run.settle([i], _outcome(message, i))


def _landlock_note(landlock: object) -> str:
    """What the child said of Landlock, for the report's sandbox line."""
    if isinstance(landlock, int) and landlock > 0:
        return f", landlock ABI {landlock}"
    return ", no landlock" if landlock is not None else ""


def _encode_call(i: int, call: Call) -> wire.CallRequest:
    return {
        "id": i,
        "function": call.function,
        "args": _encoded_args(call),
        "repeat": call.repeat,
        "return_args": call.return_args,
    }


_ENCODED: dict[int, tuple[weakref.ref[Call], list[Any]]] = {}  # id(call) -> its args, encoded


def _encoded_args(call: Call) -> list[Any]:
    """A call's arguments as the wire carries them, encoded once while the call lives (a
    batch sends its plan's calls to every submission); never to be changed by the caller."""
    key = id(call)
    known = _ENCODED.get(key)
    if known is not None and known[0]() is call:
        return known[1]
    args = [{wire.RNG_KEY: a.seed} if isinstance(a, Rng) else wire.encode(a) for a in call.args]

    def forget(_: weakref.ref[Call]) -> None:
        _ENCODED.pop(key, None)

    _ENCODED[key] = (weakref.ref(call, forget), args)
    return args


def _read_until(
    attempt: _Attempt, event: wire.Event, timeout: float, call: int | None = None
) -> dict[str, Any] | None:
    """The next message of the given event (and call), or None if the child hung or died
    first. Any other message, an outcome of another call included, is ignored."""
    deadline = time.monotonic() + max(timeout, 0.0)
    while True:
        while attempt.messages:
            message = attempt.messages.popleft()
            attempt.started = attempt.started or message.get("event") == "started"
            if message.get("event") == event and (call is None or message.get("call") == call):
                return message
        if attempt.eof or not _fill(attempt, deadline):
            return None


def _fill(attempt: _Attempt, deadline: float) -> bool:
    """Read until at least one whole message has arrived; False on timeout or EOF. A message
    is a JSON line, followed by the raw arrays its ``blobs`` field announces: those are read
    straight into the memory the decoded arrays will own. Raises ProtocolViolation when the
    child sends more than the bounds allow."""
    if attempt.selector is None:
        attempt.selector = selectors.DefaultSelector()
        attempt.selector.register(attempt.reader, selectors.EVENT_READ)
    while not _parse(attempt):
        left = deadline - time.monotonic()
        if left <= 0 or not attempt.selector.select(left):
            return False
        head = attempt.head  # _parse has moved every byte read so far into its arrays
        if head is not None:
            got = os.readv(attempt.reader, head.unfilled())
            head.filled(got)
        else:
            chunk = os.read(attempt.reader, READ_CHUNK)
            got = len(chunk)
            attempt.take(chunk)
        if not got:
            attempt.eof = True
            return False
        attempt.budget.spend(got)
    return True


def _parse(attempt: _Attempt) -> bool:
    """Move every complete message out of the buffer; True if there was at least one."""
    found = False
    while True:
        head = attempt.head or _read_head(attempt)
        if head is None:
            return found
        if head.missing:
            with memoryview(attempt.buffer) as view:
                attempt.offset += head.put(view[attempt.offset :])
        if head.missing:
            attempt.head = head  # its arrays are still on their way
            return found
        attempt.head = None
        attempt.budget.spend(messages=1)
        head.message["blobs"] = head.frames
        attempt.messages.append(head.message)
        found = True


def _read_head(attempt: _Attempt) -> _Head | None:
    """Parse the next message's JSON line, or None until a whole line is there. A line that
    is not a message is skipped (never trusted) and counted against the budget."""
    buffer = attempt.buffer
    while True:
        start = attempt.offset
        end = buffer.find(b"\n", start, start + MAX_LINE + 1)
        if end < 0:
            if len(buffer) - start > MAX_LINE:
                raise ProtocolViolation(f"a result line longer than {MAX_LINE // 1024**2} MB")
            return None
        items = sum(buffer.count(mark, start, end) for mark in (b",", b"[", b"{"))
        if items > MAX_ITEMS:
            raise ProtocolViolation(f"a result message of more than {MAX_ITEMS} values")
        attempt.offset = end + 1
        try:
            message = wire.loads(buffer[start:end])
            sizes = message.get("blobs", [])
            if not isinstance(sizes, list) or len(sizes) > MAX_FRAMES:
                raise ProtocolViolation(f"a result message of more than {MAX_FRAMES} arrays")
            if not all(type(n) is int and n >= 0 for n in sizes):
                raise ValueError("array sizes that are not sizes")
        except (ValueError, RecursionError):
            attempt.budget.spend(messages=1)  # garbage is ignored, never trusted, and counted
            continue
        if sum(sizes) > MAX_MESSAGE:
            raise ProtocolViolation(
                f"a result message of {sum(sizes)} bytes of arrays (at most "
                f"{MAX_MESSAGE // 1024**2} MB)"
            )
        return _Head(message, sizes)


def _cell_errors(errors: Any, cells: set[int]) -> tuple[tuple[int, str], ...]:
    """The ``loaded`` message's cell errors: at most one per cell of the submission, each a
    cell number it has and a short text."""
    if errors is None:
        return ()
    if not isinstance(errors, list) or len(errors) > len(cells):
        raise ProtocolViolation("more cell errors than the submission has cells")
    found: dict[int, str] = {}
    for item in errors:
        if not (
            isinstance(item, list)
            and len(item) == 2
            and type(item[0]) is int
            and item[0] in cells
            and item[0] not in found
            and isinstance(item[1], str)
        ):
            raise ProtocolViolation("a cell error that names no cell of the submission")
        found[item[0]] = item[1][:MAX_ERROR]
    return tuple(found.items())


def _outcome(message: dict[str, Any], i: int) -> Outcome:
    """Turn a child's message into an Outcome, refusing anything that is not plain data."""
    if message.get("call") != i:
        return Outcome(status="error", error="the answer to this call came back garbled")
    status = message.get("status")
    given = message.get("seconds")
    seconds = float(given) if isinstance(given, (int, float)) and type(given) is not bool else 0.0
    error = message.get("error")
    error = error[:MAX_ERROR] if isinstance(error, str) else ""
    if status == "missing":
        return Outcome(status="missing")
    if status == "not_plain":  # a value that is not plain data: a wrong answer
        return Outcome(status="ok", value=NotPlain(error or "returned a value that is not plain"))
    if status != "ok":
        return Outcome(status="error", error=error, seconds=seconds)
    try:
        frames = wire.Frames(message.get("blobs") or [])
        value = wire.decode(message.get("value"), frames)
        after = message.get("args_after")
        args_after = (
            tuple(wire.decode(a, frames) for a in after) if isinstance(after, list) else None
        )
    except (wire.WireError, RecursionError) as exc:
        return Outcome(status="error", error=f"returned {exc}", seconds=seconds)
    return Outcome(status="ok", value=value, args_after=args_after, seconds=seconds)


def _why_stopped(attempt: _Attempt, timeout: float, what: str) -> str:
    if not attempt.eof:
        return f"{what} did not finish within {timeout:g} s"
    attempt.finish()
    code = attempt.exit_code
    if code is not None and code < 0:
        number = -code
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else code
        return f"the process running {what} was killed by signal {name}"
    return f"the process running {what} exited (code {code}) before it answered"


def _read_output(output: Any, cap: int) -> str:
    output.seek(0)
    return output.read(cap).decode("utf-8", "replace")


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 0.0)
