"""Compare one returned value with one expectation, in the grader's own process.

Type, shape and finiteness are checked before values, and every message says what was expected
and what came back. Each verdict carries a detailed ``message`` (for public cases) and a
``summary`` without input or expected values (for hidden cases).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.check.stats import Normal, test_normal_sample
from grader.model import NotPlain, Verdict


def as_numbers(value: Any) -> tuple[np.ndarray | None, str]:
    """The value as a float array, or None and what it was instead."""
    if isinstance(value, NotPlain):
        return None, value.reason
    if value is None:
        return None, "returned None: is a `return` statement missing?"
    if isinstance(value, str):
        return None, f"returned the text {value[:40]!r}, not a number or an array"
    if isinstance(value, dict):
        return None, "returned a dict, not a number or an array"
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None, "returned nested lists of different lengths, not an array of numbers"
    return array, ""


def describe_shape(shape: tuple[int, ...]) -> str:
    if shape == ():
        return "a single number"
    if len(shape) == 1:
        return f"a vector of length {shape[0]}"
    if len(shape) == 2:
        return f"a {shape[0]}×{shape[1]} matrix"
    return f"an array of shape {shape}"


def compare_allclose(value: Any, expected: Any, rtol: float, atol: float) -> Verdict:
    """Equal within ``|value - expected| <= atol + rtol * |expected|``, entry by entry."""
    want = np.asarray(expected, dtype=np.float64)
    got, problem = as_numbers(value)
    if got is None:
        return Verdict(False, problem, summary=problem)
    if want.ndim == 0 and got.size == 1:
        got = got.reshape(())
    if got.shape != want.shape:
        text = f"expected {describe_shape(want.shape)}, got {describe_shape(got.shape)}"
        return Verdict(
            False, text + _swapped(got.shape, want.shape), summary="the result has the wrong shape"
        )
    bad = ~np.isfinite(got)
    if bad.any():
        where = _index(np.argwhere(bad)[0]) if got.ndim else ""
        text = f"the result contains {got[bad].flat[0]}{' at ' + where if where else ''}"
        return Verdict(False, text, summary="the result contains NaN or infinity")
    close = np.isclose(got, want, rtol=rtol, atol=atol)
    error = _relative_error(got, want, atol)
    if close.all():
        return Verdict(True, "correct", summary="correct")
    if got.ndim == 0:
        text = f"expected {want.item():.6g}, got {got.item():.6g} (relative error {error:.2g})"
    else:
        first = tuple(np.argwhere(~close)[0])
        text = (
            f"{(~close).sum()} of {close.size} entries differ; the first is {_index(first)}: "
            f"expected {want[first]:.6g}, got {got[first]:.6g} "
            f"(largest relative error {error:.2g})"
        )
    return Verdict(False, text, summary=f"wrong value (relative error {error:.2g})")


def compare_normal(value: Any, expected: Normal, alpha: float) -> Verdict:
    """A sample that should be i.i.d. N(mean, var) of a given shape, tested at level ``alpha``."""
    got, problem = as_numbers(value)
    if got is None:
        return Verdict(False, problem, summary=problem)
    shape = tuple(expected.shape)
    if got.shape != shape:
        text = f"expected {describe_shape(shape)} of weights, got {describe_shape(got.shape)}"
        return Verdict(
            False, text + _swapped(got.shape, shape), summary="the weights have the wrong shape"
        )
    if not np.isfinite(got).all():
        return Verdict(False, "the weights contain NaN or infinity", summary="not finite")
    result = test_normal_sample(got, expected, alpha)
    ratio = result.var / expected.var
    observed = f"mean {result.mean:.3g}, variance {result.var:.4g}"
    if result.passed:
        return Verdict(
            True,
            f"consistent with N({expected.mean:g}, {expected.var:.4g}) ({observed})",
            summary="consistent with the distribution",
        )
    text = (
        f"not consistent with i.i.d. N({expected.mean:g}, {expected.var:.4g}): the "
        f"{result.failed} test rejects it at level {alpha / 5:.1g}; {observed}, "
        f"{ratio:.3g}× the expected variance"
    )
    return Verdict(
        False,
        text,
        summary=f"the {result.failed} test rejects the weights "
        f"({ratio:.3g}× the expected variance)",
    )


def _swapped(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    if len(got) == len(want) >= 2 and got != want and got == want[:-2] + (want[-1], want[-2]):
        return " (rows and columns swapped: is it transposed?)"
    return ""


def _relative_error(got: np.ndarray, want: np.ndarray, atol: float) -> float:
    scale = np.maximum(np.abs(want), atol if atol > 0 else np.finfo(float).tiny)
    return float(np.max(np.abs(got - want) / scale)) if got.size else 0.0


def _index(position: Any) -> str:
    return "[" + ", ".join(str(int(i)) for i in position) + "]"
