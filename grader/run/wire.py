"""Plain data across the boundary: JSON, with arrays as base64 ``.npy`` bytes (never pickle),
and every message of the boundary's protocol, defined once.

This module stands alone (standard library and numpy only) because the sandboxed child imports
it by path, without the rest of the grader.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple, TypedDict, cast

import numpy as np
from numpy.lib import format as npy

ARRAY_KEY = "__ndarray__"  # an array as base64 .npy text, inside the JSON
BLOB_KEY = "__blob__"  # an array as raw .npy bytes after the JSON line (see frame)
RNG_KEY = "__rng__"
ALLOWED_KINDS = "biuf"  # bool, int, unsigned, float: no objects, strings, records or complex
NPY_HEADER = 10_000  # bytes of an .npy header at most (numpy's own bound)
MAX_DEPTH = 8
MAX_STRING = 10_000


class WireError(ValueError):
    """A value that is not plain data."""


class Blob(NamedTuple):
    """One array's ``.npy`` bytes in two parts, so that none is copied to be sent: the header,
    and the array's own memory (a plain, C-ordered array the encoder made or was given)."""

    header: bytes
    data: memoryview

    @property
    def size(self) -> int:
        return len(self.header) + self.data.nbytes

    def join(self) -> bytes:
        """The ``.npy`` bytes as one copy, as ``np.save`` writes them."""
        return self.header + self.data.tobytes()


# What a raw array frame is read from: bytes (copied when read), or writable memory that the
# decoded array then owns (a bytearray, a NumPy buffer of bytes)
FrameData = bytes | bytearray | np.ndarray


# --- the protocol ------------------------------------------------------------------------------
# The job (grader -> child, as JSON on standard input or inside a fork server's `run` request),
# the child's messages back (one JSON line each, on its result descriptor, with raw arrays after
# the line), and the fork server's control messages (grader <-> server, on a socket pair). Each
# is a TypedDict: plain JSON at run time, checked by mypy on both sides.


class CallRequest(TypedDict):
    """One call the child is to make: ``args`` are :func:`encode`'s output (an Rng as RNG_KEY)."""

    id: int
    function: str
    args: list[Any]
    repeat: int
    return_args: bool


class Confinement(TypedDict):
    """The folders Landlock leaves readable and writable."""

    readable: list[str]
    writable: list[str]


class _JobBase(TypedDict):
    cells: list[tuple[int, str]]  # (cell number, source), a JSON list of pairs on the wire
    module_name: str
    limits: dict[str, int]  # resource names of the child's _limit_resources
    calls: list[CallRequest]


class Job(_JobBase, total=False):
    """One attempt at a submission; the launcher adds the sandbox's part (user, confinement,
    working folder)."""

    uid: int  # the sandbox's own user, to become; absent: stay the grader's user
    keep_read: bool
    confine: Confinement
    workdir: str


class Started(TypedDict):
    """Everything the child wrote before this was the grader's doing (sandbox set-up)."""

    event: Literal["started"]


class Loaded(TypedDict):
    """The cells have run."""

    event: Literal["loaded"]
    cell_errors: list[tuple[int, str]]
    landlock: int  # the Landlock ABI the child confined itself with, 0 for none


OutcomeStatus = Literal["ok", "missing", "error", "not_plain"]


class _OutcomeBase(TypedDict):
    event: Literal["outcome"]
    call: int
    status: OutcomeStatus


class OutcomeMessage(_OutcomeBase, total=False):
    """One call's outcome: a value (``ok``), or why there is none."""

    value: Any
    args_after: list[Any]
    seconds: float
    error: str
    blobs: list[int]  # on the wire: the sizes of the raw arrays after the line


class Done(TypedDict):
    """Every call has been answered."""

    event: Literal["done"]


ChildMessage = Started | Loaded | OutcomeMessage | Done
Event = Literal["started", "loaded", "outcome", "done"]


class RunRequest(TypedDict):
    """Fork a child for this job (its result and output descriptors come with the header)."""

    op: Literal["run"]
    job: Job


class FinishRequest(TypedDict):
    """Kill what the job left running, as its user too, and remove its folder if given;
    with ``ipc``, empty the server's IPC namespace (bwrap: the worker's own)."""

    op: Literal["finish"]
    uid: int | None
    workdir: str | None
    ipc: bool


ServerRequest = RunRequest | FinishRequest


class RunReply(TypedDict):
    pid: int


class FinishReply(TypedDict):
    status: int  # the job's exit code (negative: the signal that killed it)
    clean: bool  # its folder (if the server was to remove it) is gone, and its IPC objects


HEADER = 16  # a fork-server request's header: the JSON's length, as 15 digits and a newline


def sandboxed(job: Job, options: Mapping[str, Any], workdir: str) -> Job:
    """The job with the sandbox's part: ``options`` from ``Sandbox.child_options`` (a uid
    of None: the child keeps the grader's user) and the working folder as the child sees it."""
    full = cast(Job, {**job, **options, "workdir": workdir})
    if full.get("uid") is None:
        full.pop("uid", None)
    return full


def request_bytes(request: ServerRequest) -> tuple[bytes, bytes]:
    """A fork-server request as its header and its JSON (descriptors go with the header)."""
    data = json.dumps(request).encode()
    return b"%015d\n" % len(data), data


def request_size(header: bytes) -> int:
    """The JSON's length a request header announces; WireError if it is not a header."""
    if len(header) != HEADER or not header[:-1].isdigit() or header[-1:] != b"\n":
        raise WireError("a fork-server request header that is not one")
    return int(header)


def encode(value: Any, blobs: list[Blob] | None = None, depth: int = 0) -> Any:
    """Turn a value into JSON-ready plain data, or raise WireError saying what it was. With
    ``blobs``, arrays go there as raw .npy bytes (see :func:`frame`) instead of base64: an
    array that is plain already is not copied, so it must not change before it is sent."""
    if depth > MAX_DEPTH:
        raise WireError("a value nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value[:MAX_STRING] if isinstance(value, str) else value
    if isinstance(value, (int, float)) and type(value) in (int, float, bool):
        return value
    if isinstance(value, np.generic):  # a NumPy scalar of any width is a number
        plain = _plain_array(np.asarray(value))
        item = plain.item()
        if isinstance(item, np.generic):  # np.longdouble.item() stays a longdouble
            item = float(item) if plain.dtype.kind == "f" else int(item)
        return encode(item, blobs, depth + 1)
    if isinstance(value, np.ndarray):
        if blobs is None:
            return {ARRAY_KEY: _npy_text(_plain_array(value))}
        blobs.append(_npy_blob(_plain_array(value)))
        return {BLOB_KEY: len(blobs) - 1}
    if type(value) in (list, tuple):
        return [encode(item, blobs, depth + 1) for item in value]
    if type(value) is dict and all(type(key) is str for key in value):
        return {key: encode(item, blobs, depth + 1) for key, item in value.items()}
    raise WireError(f"a value of type {type(value).__name__}, not a number, list or array")


class Frames:
    """The raw array frames of one message, each decoded at most once: :func:`encode` refers
    to every frame exactly once, so a second reference is a forged message, refused (it could
    otherwise make one frame cost its size once per reference)."""

    def __init__(self, blobs: list[FrameData] | list[Blob]) -> None:
        self.blobs: list[FrameData | Blob] = list(blobs)
        self.used: set[int] = set()

    def take(self, index: Any) -> np.ndarray:
        if type(index) is not int or not 0 <= index < len(self.blobs):
            raise WireError("an array reference to nothing")
        if index in self.used:
            raise WireError("an array referred to twice")
        self.used.add(index)
        data, self.blobs[index] = self.blobs[index], b""  # the bytes are let go once read
        if isinstance(data, Blob):  # an encoder's own output: read from a copy of its own
            data = bytearray(data.join())
        return _read_npy_bytes(data)


def decode(
    data: Any, frames: Frames | list[FrameData] | list[Blob] | None = None, depth: int = 0
) -> Any:
    """Rebuild plain values from :func:`encode`'s output; arrays are read without pickle.
    Strings longer than encode sends, and values nested deeper, are refused."""
    if depth > MAX_DEPTH + 1:
        raise WireError("a value nested too deeply")
    if frames is not None and not isinstance(frames, Frames):
        frames = Frames(frames)
    if isinstance(data, list):
        return [decode(item, frames, depth + 1) for item in data]
    if isinstance(data, dict):
        if set(data) == {ARRAY_KEY}:
            return _read_npy(data[ARRAY_KEY])
        if set(data) == {BLOB_KEY}:
            if frames is None:
                raise WireError("an array reference to nothing")
            return frames.take(data[BLOB_KEY])
        return {_string(key): decode(item, frames, depth + 1) for key, item in data.items()}
    if isinstance(data, str):
        return _string(data)
    if data is None or isinstance(data, (bool, int, float)):
        return data
    raise WireError(f"unexpected {type(data).__name__} in a message")


def _string(text: Any) -> str:
    if not isinstance(text, str) or len(text) > MAX_STRING:
        raise WireError(f"a text longer than {MAX_STRING} characters")
    return text


def stack(values: list[Any]) -> Any:
    """The outcomes of a repeated call: one array when they share a shape, else a list."""
    try:
        arrays = [np.asarray(v, dtype=np.float64) for v in values]
        if len({a.shape for a in arrays}) == 1:
            return np.stack(arrays)
    except (TypeError, ValueError):
        pass
    return list(values)


def dumps(message: Mapping[str, Any]) -> bytes:
    """One message as one line of JSON."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def frame(message: Mapping[str, Any], blobs: list[Blob]) -> bytes:
    """A message with raw arrays: its JSON line (saying the blobs' sizes), then the bytes."""
    return b"".join(frame_parts(message, blobs))


def frame_parts(message: Mapping[str, Any], blobs: list[Blob]) -> list[bytes | memoryview]:
    """:func:`frame`'s bytes as the pieces they are made of, none copied (for ``writev``)."""
    if not blobs:
        return [dumps(message)]
    parts: list[bytes | memoryview] = [dumps({**message, "blobs": [b.size for b in blobs]})]
    for blob in blobs:
        parts += [blob.header, blob.data]
    return parts


IOV_MAX = 1024  # buffers one writev takes (Linux); a message has 2 per array, plus its line


def write(fd: int, message: Mapping[str, Any], blobs: list[Blob]) -> None:
    """Write :func:`frame`'s bytes in one ``writev`` of their parts (the arrays' own memory,
    uncopied), more only where the descriptor takes part of them."""
    parts = [memoryview(part).cast("B") for part in frame_parts(message, blobs)]
    while parts:
        written = os.writev(fd, parts[:IOV_MAX])
        while parts and written >= parts[0].nbytes:
            written -= parts.pop(0).nbytes
        if written:
            parts[0] = parts[0][written:]


def loads(line: bytes | bytearray) -> dict[str, Any]:
    """Parse one message line; anything that is not a JSON object is refused."""
    message = json.loads(line)
    if not isinstance(message, dict):
        raise WireError("a message that is not a JSON object")
    return message


def _plain_array(array: np.ndarray) -> np.ndarray:
    """The array as a base-class, C-ordered array of a numeric dtype: itself if it is one
    already, else a copy (subclasses lose their methods here)."""
    if (
        type(array) is np.ndarray
        and array.dtype.kind in ALLOWED_KINDS
        and not array.dtype.hasobject
        and array.flags.c_contiguous
    ):
        return array
    plain = np.array(array, copy=True, subok=False)
    if plain.dtype.kind == "O":
        try:
            plain = plain.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise WireError("an array of Python objects, not of numbers") from exc
    if plain.dtype.kind not in ALLOWED_KINDS:
        raise WireError(f"an array of dtype {plain.dtype}, not of real numbers")
    return plain if plain.flags.c_contiguous else plain.copy(order="C")


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


_WRITTEN: dict[tuple[np.dtype[Any], tuple[int, ...]], bytes] = {}


def _npy_blob(array: np.ndarray) -> Blob:
    """A plain C-ordered array as :class:`Blob`: the header ``np.save`` writes for it
    (remembered per dtype and shape), and a view of its memory."""
    key = (array.dtype, array.shape)
    header = _WRITTEN.get(key)
    if header is None:
        buffer = io.BytesIO()
        fields = npy.header_data_from_array_1_0(array)
        try:
            npy.write_array_header_1_0(buffer, fields)
        except ValueError:  # a header too long for format 1.0: np.save writes 2.0 then
            buffer = io.BytesIO()
            npy.write_array_header_2_0(buffer, fields)
        header = buffer.getvalue()
        if len(_WRITTEN) >= _HEADERS_KEPT:
            _WRITTEN.pop(next(iter(_WRITTEN)))
        _WRITTEN[key] = header
    return Blob(header, array.reshape(-1).view(np.uint8).data)


def _npy_text(array: np.ndarray) -> str:
    return base64.b64encode(_npy_bytes(array)).decode("ascii")


def _read_npy(text: Any) -> np.ndarray:
    if not isinstance(text, str):
        raise WireError("an array field that is not text")
    try:
        data = bytearray(base64.b64decode(text, validate=True))
    except ValueError as exc:
        raise WireError("an unreadable array (bad base64)") from exc
    return _read_npy_bytes(data)


def _read_npy_bytes(data: FrameData) -> np.ndarray:
    """An array from ``.npy`` bytes (format 1.0 or 2.0, what ``np.save`` writes for numbers),
    never unpickled. A bytearray's (or a NumPy byte buffer's) memory becomes the array's own
    (writeable, no copy); immutable bytes are copied once."""
    shape, fortran, dtype, start = _npy_header(data)
    count = math.prod(shape)
    if len(data) - start < count * dtype.itemsize:
        raise WireError("an unreadable array (shorter than its shape)")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=start)
    if isinstance(data, bytes):
        array = array.copy()
    return array.reshape(shape[::-1]).transpose() if fortran else array.reshape(shape)


_HEADERS: dict[bytes, tuple[tuple[int, ...], bool, np.dtype[Any], int]] = {}
_HEADERS_KEPT = 64  # distinct headers remembered (a submission sends a few dozen)


def _npy_header(data: FrameData) -> tuple[tuple[int, ...], bool, np.dtype[Any], int]:
    """An .npy header's shape, Fortran order, dtype (of real numbers) and length. The same
    header bytes always mean the same: they are parsed once (numpy evaluates the header's
    text with ``ast``, the largest part of reading a small array)."""
    with data.data if isinstance(data, np.ndarray) else memoryview(data) as view:
        start = view[:10].tobytes()
        size = 10 + int.from_bytes(start[8:10], "little") if start[6:8] == b"\x01\x00" else -1
        key = view[:size].tobytes() if 10 < size <= NPY_HEADER else b""
        if key and key in _HEADERS:
            return _HEADERS[key]
        head = view[: NPY_HEADER + 16].tobytes()
    try:
        header = io.BytesIO(head)
        version = npy.read_magic(header)
        if version == (1, 0):
            shape, fortran, dtype = npy.read_array_header_1_0(header, NPY_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = npy.read_array_header_2_0(header, NPY_HEADER)
        else:
            raise ValueError(f"format version {version}")
    except Exception as exc:  # any malformed payload is the sender's fault, never ours
        raise WireError(f"an unreadable array ({type(exc).__name__})") from exc
    if dtype.kind not in ALLOWED_KINDS or dtype.hasobject:
        raise WireError("an array that is not of real numbers")
    if not all(type(n) is int and n >= 0 for n in shape):
        raise WireError("an unreadable array (its shape)")
    parsed = (tuple(shape), bool(fortran), dtype, header.tell())
    if key and header.tell() == size:
        if len(_HEADERS) >= _HEADERS_KEPT:
            _HEADERS.pop(next(iter(_HEADERS)))
        _HEADERS[key] = parsed
    return parsed
