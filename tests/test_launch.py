"""The warm fork server's end of an attempt overlaps the grader's own work (finish without
waiting), and still keeps its promise: the next child starts only after the last one's
processes were killed and its folder removed, and a server that cannot confirm it is
replaced."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest

from grader.model import Call, Cell, Submission
from grader.run import wire
from grader.run.boundary import run_submission
from grader.run.launch import ForkServer
from grader.run.sandbox import choose_sandbox

LEAVES_A_PROCESS = """
import os, time
def leftover():
    pid = os.fork()
    if pid == 0:
        open("left-behind.txt", "w").write("mine")
        while True:
            time.sleep(0.01)
    while not os.path.exists("left-behind.txt"):
        time.sleep(0.001)
    return pid
"""


def _submission(source: str) -> Submission:
    return Submission("student", Path("student.py"), (Cell(1, textwrap.dedent(source)),))


def _dead(pid: int) -> bool:
    """Gone, a zombie, exiting, or with SIGKILL pending: it will run no code again."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    fields = stat[stat.rindex(")") + 2 :].split()
    state, flags = fields[0], int(fields[6])
    pending = [
        int(line.split()[1], 16) for line in status.splitlines() if line[:6] in ("SigPnd", "ShdPnd")
    ]
    exiting = 0x4  # PF_EXITING
    return (
        state in "ZX"
        or bool(flags & exiting)
        or any(p & (1 << (signal.SIGKILL - 1)) for p in pending)
    )


@pytest.fixture
def server():
    server = ForkServer(choose_sandbox("process"))  # host pids and host folders: observable
    yield server
    server.close()


def _start_after(server: ForkServer, seen: dict) -> None:
    """Record, as each start returns (the next child forked), what the last attempt left."""
    start = server.start

    def observed(job, output):
        handle = start(job, output)
        seen.setdefault("starts", []).append(
            {area: area.exists() for area in seen.get("areas", []) if area is not None}
        )
        seen["leftover_dead"] = [_dead(pid) for pid in seen.get("pids", [])]
        seen.setdefault("areas", []).append(handle.area)  # type: ignore[attr-defined]
        return handle

    server.start = observed  # type: ignore[method-assign]


def test_the_next_child_starts_only_after_the_last_one_is_cleaned_up(server) -> None:
    seen: dict = {}
    _start_after(server, seen)
    _, [first] = run_submission(_submission(LEAVES_A_PROCESS), [Call("leftover")], launcher=server)
    assert first.status == "ok" and isinstance(first.value, int)
    assert server._finishing, "the end of the attempt was not left to overlap"
    seen["pids"] = [first.value]
    _, [second] = run_submission(
        _submission("def f():\n    return 1\n"), [Call("f")], launcher=server
    )
    assert second.status == "ok" and second.value == 1
    assert seen["starts"][1] == {seen["areas"][0]: False}  # its folder was gone first
    assert seen["leftover_dead"] == [True]  # and what it left running was killed


def test_a_server_that_dies_before_confirming_is_replaced(server) -> None:
    _, [first] = run_submission(_submission(LEAVES_A_PROCESS), [Call("leftover")], launcher=server)
    assert first.status == "ok"
    old = server.process
    assert old is not None and server._finishing
    os.killpg(old.pid, signal.SIGKILL)  # gone, perhaps before it read the finish request
    old.wait()
    _, [second] = run_submission(
        _submission("def f():\n    return 2\n"), [Call("f")], launcher=server
    )
    assert second.status == "ok" and second.value == 2
    assert server.process is not None and server.process.pid != old.pid
    if server.sandbox.owns_uid():  # every process of the sandbox's user went with it
        assert _dead(first.value)


def test_a_server_that_could_not_clean_up_is_killed_before_the_next_start(server) -> None:
    ours, theirs = socket.socketpair()
    stand_in = subprocess.Popen(["sleep", "60"], start_new_session=True)
    area = Path(tempfile.mkdtemp(dir=server.areas.root))
    server.process, server.control = stand_in, ours  # type: ignore[assignment]
    server._finishing.append(area)
    theirs.sendall(json.dumps({"status": 0, "clean": False}).encode() + b"\n")
    assert server.settle() is None
    assert stand_in.poll() == -signal.SIGKILL and server.process is None
    assert not area.exists()  # the grader's own part is still done
    theirs.close()


def test_a_finish_waited_for_says_how_the_child_ended(server) -> None:
    job: wire.Job = {
        "cells": [(1, "import os\nos._exit(3)\n")],
        "module_name": "submission",
        "limits": {},
        "calls": [],
    }
    with tempfile.TemporaryFile() as output:
        handle = server.start(job, output)
        while os.read(handle.reader, 1 << 16):
            pass
        assert handle.finish() == 3
        os.close(handle.reader)


UNSEEDED = """
import numpy as np
import random
def draws():
    return [float(np.random.rand()), random.random(), float(np.random.default_rng().random())]
"""


def test_each_forked_child_draws_unseeded_numbers_of_its_own(server) -> None:
    """The server has numpy.random loaded before it forks: a child that draws without a
    seed still gets numbers of its own, as a fresh interpreter would, not the server's."""
    seen = []
    for _ in range(3):
        _, [outcome] = run_submission(_submission(UNSEEDED), [Call("draws")], launcher=server)
        assert outcome.status == "ok"
        seen.append(outcome.value)
    for column in zip(*seen, strict=True):
        assert len(set(column)) == 3, seen


MUTATES = """
def bump(x):
    x += 1
    return x.copy()
"""


def test_each_repeat_gets_arguments_of_its_own_from_the_server(server) -> None:
    """The server decodes a call's arguments once before it forks; the first repeat gets
    those, each later one a fresh copy: a function that changes its argument in place sees
    the original every time."""
    calls = [Call("bump", (np.zeros(3),), repeat=3), Call("bump", (np.ones(2),), return_args=True)]
    _, [repeated, once] = run_submission(_submission(MUTATES), calls, launcher=server)
    assert repeated.status == "ok" and once.status == "ok"
    np.testing.assert_array_equal(repeated.value, np.ones((3, 3)))
    np.testing.assert_array_equal(once.value, [2.0, 2.0])
    np.testing.assert_array_equal(once.args_after[0], [2.0, 2.0])
