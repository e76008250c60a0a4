"""Make a check's calls on the functions of the running kernel, and keep only plain data.

In Jupyter the student's code runs in the student's own kernel: this is their machine, and only
the public bundle is here. The answers are still reduced to plain data exactly as they are at
the batch's boundary (:mod:`grader.run.wire`), so the checks judge the same values both ways.
"""

from __future__ import annotations

import copy
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from grader.model import Call, Outcome, Rng
from grader.run import wire

MAX_ERROR = 2_000
_GRADER = str(Path(__file__).resolve().parents[1])


def call_here(call: Call, namespace: Mapping[str, Any]) -> Outcome:
    """One call of a student function found in ``namespace``, as an Outcome of plain data.
    The arguments are fresh copies, so the student cannot change the cases."""
    function = namespace.get(call.function)
    if function is None:
        return Outcome(status="missing")
    if not callable(function):
        kind = type(function).__name__
        return Outcome(status="error", error=f"`{call.function}` is a {kind}, not a function")
    values: list[Any] = []
    args: list[Any] = []
    started = time.perf_counter()
    try:
        for repeat in range(call.repeat):
            args = [_argument(a, repeat) for a in call.args]
            values.append(function(*args))
    except Exception as exc:  # KeyboardInterrupt stops the check, as the student asked
        return Outcome(status="error", error=f"raised {describe(exc)}", seconds=_since(started))
    seconds = _since(started)
    try:
        value = values[0] if call.repeat == 1 else wire.stack(values)
        after = (
            tuple(_plain(a) for a in args if not isinstance(a, np.random.Generator))
            if call.return_args
            else None
        )
        return Outcome(status="ok", value=_plain(value), args_after=after, seconds=seconds)
    except wire.WireError as exc:
        return Outcome(status="error", error=f"returned {exc}", seconds=seconds)
    except Exception as exc:
        return Outcome(status="error", error=f"returned {describe(exc)}", seconds=seconds)


def _argument(value: Any, repeat: int) -> Any:
    if isinstance(value, Rng):
        return np.random.default_rng(value.seed + repeat)  # as the batch's child does
    return copy.deepcopy(value)


def _plain(value: Any) -> Any:
    """The value as it would arrive from the batch's child: plain numbers and arrays only."""
    blobs: list[wire.Blob] = []
    return wire.decode(wire.encode(value, blobs), blobs)


def describe(exc: BaseException) -> str:
    """ "TypeError: message (in hessian, line 4)": the student's last frame, not the grader's."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_GRADER)
    ]
    where = f" (in {frames[-1].name}, line {frames[-1].lineno})" if frames else ""
    try:
        text = str(exc)
    except Exception:
        text = "(its message could not be read)"
    name = type(exc).__name__
    return (f"{name}: {text}" if text else name)[:MAX_ERROR] + where


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 6)
