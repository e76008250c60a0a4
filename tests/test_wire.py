"""The wire between the child and the grader: messages read back in whatever pieces the pipe
delivers them, arrays read from .npy bytes without pickle, each into memory of its own."""

from __future__ import annotations

import io
import json
import os
import threading
import time

import numpy as np
import pytest

from grader.model import Call, Rng
from grader.run import boundary, wire
from grader.run.boundary import ProtocolViolation


class _Handle:
    """A stand-in for a started child: the read end of a pipe nobody writes to."""

    def __init__(self) -> None:
        self.reader, self._writer = os.pipe()

    def finish(self, wait: bool = True) -> int | None:
        os.close(self._writer)
        return 0


def _attempt() -> boundary._Attempt:
    return boundary._Attempt(_Handle(), boundary._Budget(boundary.MAX_SUBMISSION, 1_000))


def _outcome_message(call: int, value: object) -> bytes:
    blobs: list[wire.Blob] = []
    encoded = wire.encode(value, blobs)
    return wire.frame({"event": "outcome", "call": call, "status": "ok", "value": encoded}, blobs)


def _feed(attempt: boundary._Attempt, data: bytes, piece: int) -> list[dict]:
    """Hand ``data`` to the reader ``piece`` bytes at a time, as the pipe might."""
    for start in range(0, len(data), piece):
        attempt.take(data[start : start + piece])
        boundary._parse(attempt)
    return list(attempt.messages)


@pytest.mark.parametrize("piece", [1, 7, 4096, 1 << 20])
def test_messages_arrive_whole_whatever_the_pieces(piece: int) -> None:
    big = np.arange(20_000, dtype=np.float64).reshape(100, 200)
    values = [big, [1.5, 2], np.float64(3.0), np.arange(6, dtype=np.int32), {"a": big[:3]}]
    data = b"".join(_outcome_message(i, v) for i, v in enumerate(values))
    attempt = _attempt()
    messages = _feed(attempt, data, piece)
    assert [m["call"] for m in messages] == list(range(len(values)))
    for message, value in zip(messages, values, strict=True):
        outcome = boundary._outcome(message, message["call"])
        assert outcome.status == "ok"
        if isinstance(value, dict):
            np.testing.assert_array_equal(outcome.value["a"], value["a"])
        else:
            np.testing.assert_array_equal(outcome.value, value)
    assert attempt.offset == len(attempt.buffer)  # nothing left over, nothing parsed twice
    attempt.finish()


def test_a_message_waiting_for_its_arrays_survives_the_buffer_being_compacted() -> None:
    """The reader drops the parsed part of its buffer while a message's arrays are still
    coming: the message must still find them."""
    first = _outcome_message(0, [1.0])
    second = _outcome_message(1, np.linspace(0, 1, 10_000))
    attempt = _attempt()
    line_end = second.index(b"\n") + 1
    attempt.take(first + second[:line_end])
    boundary._parse(attempt)
    assert attempt.head is not None and attempt.offset > 0
    attempt.take(second[line_end : line_end + 100])  # compacts: the parsed part is most of it
    assert boundary._parse(attempt) is False
    attempt.take(second[line_end + 100 :])
    assert boundary._parse(attempt)
    outcome = boundary._outcome(attempt.messages[-1], 1)
    np.testing.assert_array_equal(outcome.value, np.linspace(0, 1, 10_000))
    attempt.finish()


def test_each_array_owns_its_memory() -> None:
    """The checks get writeable arrays that share memory with nothing else read."""
    data = _outcome_message(0, [np.zeros(1000), np.ones(1000)]) + _outcome_message(1, np.ones(9))
    attempt = _attempt()
    first, second = (boundary._outcome(m, m["call"]) for m in _feed(attempt, data, 1 << 20))
    a, b = first.value
    assert a.flags.writeable and b.flags.writeable
    a[:] = 7.0
    np.testing.assert_array_equal(b, np.ones(1000))
    np.testing.assert_array_equal(second.value, np.ones(9))
    assert not np.shares_memory(a, b) and not np.shares_memory(a, second.value)
    attempt.finish()


class _Piped:
    """A started child that really writes: the read end of a pipe, and the child's writer
    on the write end (run in a thread)."""

    def __init__(self) -> None:
        self.reader, self.writer = os.pipe()

    def finish(self, wait: bool = True) -> int | None:
        return 0


VALUES = [
    np.arange(300_000, dtype=np.float64).reshape(600, 500),  # more than the pipe holds
    [1.5, 2],
    np.zeros((0, 3)),
    {"a": np.arange(6, dtype=">i4").reshape(2, 3), "b": np.array([True, False])},
    np.asfortranarray(np.arange(12.0).reshape(3, 4)),
    np.float64(3.0),
]


def _send_all(fd: int, values: list[object]) -> None:
    for i, value in enumerate(values):
        blobs: list[wire.Blob] = []
        encoded = wire.encode(value, blobs)
        wire.write(fd, {"event": "outcome", "call": i, "status": "ok", "value": encoded}, blobs)
    os.close(fd)


def _equal(got: object, value: object) -> None:
    if isinstance(value, dict):
        assert isinstance(got, dict) and got.keys() == value.keys()
        for key in value:
            _equal(got[key], value[key])
    else:
        expected = np.asarray(value)
        assert np.asarray(got).dtype == expected.dtype or not isinstance(value, np.ndarray)
        np.testing.assert_array_equal(got, value)


def test_the_childs_messages_are_read_from_the_pipe_into_their_arrays() -> None:
    """The child writes each message's parts in one writev, the arrays from their own memory;
    the reader reads the arrays' bytes straight into the memory they are decoded from."""
    handle = _Piped()
    attempt = boundary._Attempt(handle, boundary._Budget(boundary.MAX_SUBMISSION, 1_000))
    writer = threading.Thread(target=_send_all, args=(handle.writer, VALUES))
    writer.start()
    got = []
    while boundary._fill(attempt, deadline=time.monotonic() + 30):
        while attempt.messages:
            message = attempt.messages.popleft()
            got.append(boundary._outcome(message, message["call"]))
    writer.join()
    assert attempt.eof and [o.status for o in got] == ["ok"] * len(VALUES)
    for outcome, value in zip(got, VALUES, strict=True):
        _equal(outcome.value, value)
    big = got[0].value
    assert big.flags.writeable and big.base is not None  # a view of the buffer it was read into
    assert attempt.budget.bytes_left == boundary.MAX_SUBMISSION - sum(
        len(wire.frame({"event": "outcome", "call": i, "status": "ok", "value": v}, b))
        for i, (v, b) in enumerate(_encoded(value) for value in VALUES)
    )
    attempt.finish()


def _encoded(value: object) -> tuple[object, list[wire.Blob]]:
    blobs: list[wire.Blob] = []
    return wire.encode(value, blobs), blobs


def test_the_sender_goes_on_where_the_pipe_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A writev that takes only part of a message (a signal, a full pipe) is continued from
    the byte it stopped at, whatever part that falls in."""
    written = bytearray()

    def writev(fd: int, buffers: list[memoryview]) -> int:
        data = b"".join(bytes(b) for b in buffers)[:7_777]
        written.extend(data)
        return len(data)

    monkeypatch.setattr(wire.os, "writev", writev)
    value = {"x": np.arange(5_000.0), "y": [np.ones(3), 2.0]}
    encoded, blobs = _encoded(value)
    message = {"event": "outcome", "call": 0, "status": "ok", "value": encoded}
    wire.write(99, message, blobs)
    assert bytes(written) == wire.frame(message, blobs)


@pytest.mark.parametrize(
    "array",
    [
        np.float64(2.5).reshape(()),
        np.zeros((0, 3)),
        np.arange(12, dtype=">i4").reshape(3, 4),
        np.arange(12.0).reshape(3, 4)[:, ::2],  # not contiguous: copied
        np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        np.array([True, False]),
        np.arange(4, dtype=np.float16),
        np.zeros((1,) * 40),
    ],
)
def test_an_arrays_blob_is_what_np_save_writes(array: np.ndarray) -> None:
    blob = wire._npy_blob(wire._plain_array(array))
    assert blob.join() == _npy(np.array(array, order="C")) and blob.size == len(blob.join())


def test_a_plain_array_is_sent_from_its_own_memory_and_anything_else_is_copied() -> None:
    plain = np.arange(10.0)
    assert wire._plain_array(plain) is plain

    class Sub(np.ndarray):
        pass

    for other in (plain.view(Sub), plain[::2], np.array([1, None], dtype=object)):
        copied = wire._plain_array(other)
        assert type(copied) is np.ndarray and not np.shares_memory(copied, plain)


def test_decoding_an_encoders_blobs_gives_arrays_of_their_own() -> None:
    """What selfcheck does (encode, then decode the same blobs): a copy, never a view."""
    value = np.arange(6.0)
    encoded, blobs = _encoded([value])
    got = wire.decode(encoded, blobs)[0]
    value[:] = -1
    np.testing.assert_array_equal(got, np.arange(6.0))


def test_garbage_lines_are_skipped_and_counted() -> None:
    attempt = boundary._Attempt(_Handle(), boundary._Budget(boundary.MAX_SUBMISSION, 5))
    attempt.take(b"x\n[1,2]\n" + _outcome_message(0, 1.0))
    assert boundary._parse(attempt)
    assert [m["call"] for m in attempt.messages] == [0]
    assert attempt.budget.messages_left == 2  # two garbage lines and one message
    attempt.take(b"x\n" * 3)
    with pytest.raises(ProtocolViolation):
        boundary._parse(attempt)
    attempt.finish()


def test_a_line_without_end_is_refused_once_past_the_bound() -> None:
    attempt = _attempt()
    attempt.take(b"[" * (boundary.MAX_LINE - 1))
    assert boundary._parse(attempt) is False
    attempt.take(b"[[")
    with pytest.raises(ProtocolViolation, match="longer than"):
        boundary._parse(attempt)
    attempt.finish()


def _npy(array: np.ndarray, version: tuple[int, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    if version is None:
        np.save(buffer, array, allow_pickle=True)
    else:
        np.lib.format.write_array(buffer, array, version=version)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "array",
    [
        np.float64(2.5).reshape(()),
        np.zeros((0, 3)),
        np.arange(12, dtype=">i4").reshape(3, 4),
        np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        np.array([True, False]),
        np.arange(5, dtype=np.uint8),
        np.arange(4, dtype=np.float16),
    ],
)
def test_npy_bytes_read_as_numpy_reads_them(array: np.ndarray) -> None:
    for data in (_npy(array), _npy(array, (2, 0))):
        got = wire._read_npy_bytes(bytearray(data))
        expected = np.load(io.BytesIO(data), allow_pickle=False)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
        assert got.flags.writeable


@pytest.mark.parametrize(
    "data",
    [
        _npy(np.array([object(), 1], dtype=object)),  # a pickle inside
        _npy(np.zeros(2, dtype=[("a", "<f8")])),  # records
        _npy(np.zeros(2, dtype=np.complex128)),
        _npy(np.array(["ab"])),
        _npy(np.arange(3.0))[:-1],  # shorter than its shape says
        _npy(np.arange(3.0)).replace(b"(3,)", b"(-3,)"),
        _npy(np.arange(3.0)).replace(b"(3,)", b"(9,)"),
        _npy(np.arange(3.0)).replace(b"'<f8'", b"'|O8'"),
        _npy(np.arange(3.0), (3, 0)),  # what np.save writes only for text field names
        b"\x93NUMPY\x01\x00\xff\xff{",
        b"not an array at all",
        b"",
    ],
)
def test_npy_bytes_that_are_not_plain_numbers_are_refused(data: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire._read_npy_bytes(bytearray(data))


def test_a_remembered_header_does_not_vouch_for_the_data_after_it() -> None:
    good = _npy(np.arange(100.0))
    wire._read_npy_bytes(bytearray(good))  # its header is now remembered
    with pytest.raises(wire.WireError, match="shorter"):
        wire._read_npy_bytes(bytearray(good[:-8]))


def test_a_fork_server_request_is_a_header_then_its_json() -> None:
    request: wire.FinishRequest = {"op": "finish", "uid": None, "workdir": "/tmp/work/job-3"}
    header, data = wire.request_bytes(request)
    assert len(header) == wire.HEADER and wire.request_size(header) == len(data)
    assert json.loads(data) == request
    for forged in (b"-00000000000001\n", b"000000000000012 ", b"12\n", b" " * 15 + b"\n"):
        with pytest.raises(wire.WireError):
            wire.request_size(forged)


def test_the_sandbox_part_of_a_job_leaves_out_a_user_it_does_not_have() -> None:
    job: wire.Job = {"cells": [(1, "x = 1")], "module_name": "m", "limits": {}, "calls": []}
    confine = {"readable": ["/usr"], "writable": ["/tmp/w"]}
    mine = wire.sandboxed(job, {"uid": None, "keep_read": False, "confine": confine}, "/tmp/w")
    assert "uid" not in mine and mine["workdir"] == "/tmp/w" and mine["confine"] == confine
    own = wire.sandboxed(job, {"uid": 61234, "keep_read": True, "confine": confine}, "/tmp/w")
    assert own["uid"] == 61234 and own["keep_read"] is True
    assert job == {"cells": [(1, "x = 1")], "module_name": "m", "limits": {}, "calls": []}


def test_a_calls_arguments_are_encoded_once_while_it_lives() -> None:
    call = Call("f", (np.arange(3.0), Rng(7), [1, 2]))
    first = boundary._encode_call(0, call)
    again = boundary._encode_call(4, call)
    assert again["args"] is first["args"] and again["id"] == 4
    assert wire.decode(first["args"][0]).tolist() == [0.0, 1.0, 2.0]
    assert first["args"][1] == {wire.RNG_KEY: 7}
    key = id(call)
    del call, first, again
    assert key not in boundary._ENCODED  # forgotten with the call
