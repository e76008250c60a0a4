"""Compare one returned value with one expectation, in the grader's own process.

Type, shape and finiteness are checked before values, and every message says what was expected
and what came back. Each verdict carries a detailed ``message`` (for public cases) and a
``summary`` without input or expected values (for hidden cases).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.check.stats import Distribution
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
    close = _close(got, want, rtol, atol)
    if close.all():
        return Verdict(True, "correct", summary="correct")
    error = _relative_error(got, want, atol)  # for the words of a wrong value only
    tolerance = f"the tolerance is |got − expected| ≤ {atol:g} + {rtol:g}·|expected|"
    hint = NEAR_MISS if error <= NEAR_MISS_ERROR else ""
    if got.ndim == 0:
        want_text, got_text = _differing(want.item(), got.item())
        text = f"expected {want_text}, got {got_text} (relative error {error:.2g}; {tolerance})"
    else:
        first = tuple(np.argwhere(~close)[0])
        want_text, got_text = _differing(float(want[first]), float(got[first]))
        text = (
            f"{(~close).sum()} of {close.size} entries differ; the first is {_index(first)}: "
            f"expected {want_text}, got {got_text} "
            f"(largest relative error {error:.2g}; {tolerance})"
        )
    return Verdict(
        False,
        text + hint,
        summary=f"wrong value (relative error {error:.2g}; {tolerance}){hint}",
    )


def _close(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """``np.isclose(got, want, rtol=rtol, atol=atol)`` for float64 arrays of one shape: the
    same booleans (numpy's own formula, |got − want| ≤ atol + rtol·|want| or equal), without
    the cost of its generality (about 20 µs a call on small arrays, four times this). An
    expectation that is not finite everywhere goes to np.isclose itself."""
    if not np.isfinite(want).all():
        return np.asarray(np.isclose(got, want, rtol=rtol, atol=atol))
    return np.less_equal(np.abs(got - want), atol + rtol * np.abs(want)) | (got == want)


NEAR_MISS_ERROR = 1e-5
NEAR_MISS = (
    ". An error this small usually comes from computing in float32 or from a finite-difference "
    "approximation: compute in float64, with the exact formula"
)


def _differing(want: float, got: float) -> tuple[str, str]:
    """Both numbers with the fewest significant digits (6 or more) that tell them apart."""
    for digits in range(6, 18):
        want_text, got_text = f"{want:.{digits}g}", f"{got:.{digits}g}"
        if want_text != got_text:
            return want_text, got_text
    return repr(want), repr(got)


def compare_normal(value: Any, expected: Distribution, alpha: float) -> Verdict:
    """A sample that should be drawn from ``expected`` (a Normal, or any distribution of
    ``grader.check.stats``), of a given shape, tested at level ``alpha`` in all."""
    got, problem = as_numbers(value)
    if got is None:
        return Verdict(False, problem, summary=problem)
    shape = tuple(expected.shape)
    if got.shape != shape:
        text = f"expected {describe_shape(shape)} of values, got {describe_shape(got.shape)}"
        return Verdict(
            False, text + _swapped(got.shape, shape), summary="the values have the wrong shape"
        )
    if not np.isfinite(got).all():
        return Verdict(False, "the values contain NaN or infinity", summary="not finite")
    evidence = expected.test(got, alpha)
    observed = f"mean {evidence.mean:.3g}, variance {evidence.var:.4g}"
    if evidence.passed:
        return Verdict(
            True,
            f"consistent with {expected.describe()} ({observed})",
            summary="consistent with the distribution",
        )
    first = evidence.rejected[0]
    others = [f.name for f in evidence.rejected[1:]]
    also = f" (also rejected: {', '.join(others[:3])}{', ...' if len(others) > 3 else ''})"
    text = (
        f"not consistent with {expected.describe()}: the {first.name} test rejects it "
        f"({_p(first.p_value)}, each test at level {evidence.level:.1g}): {first.words}"
        f"{also if others else ''}; {observed}"
    )
    return Verdict(False, text, summary=f"the {first.name} test rejects the values: {first.words}")


compare_distribution = compare_normal  # the name for the family


def _p(value: float) -> str:
    return f"p = {value:.2g}" if value > 0 else "p < 1e-300"


def _swapped(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    if len(got) == len(want) >= 2 and got != want and got == want[:-2] + (want[-1], want[-2]):
        return " (rows and columns swapped: is it transposed?)"
    return ""


def _relative_error(got: np.ndarray, want: np.ndarray, atol: float) -> float:
    scale = np.maximum(np.abs(want), atol if atol > 0 else np.finfo(float).tiny)
    return float(np.max(np.abs(got - want) / scale)) if got.size else 0.0


def _index(position: Any) -> str:
    return "[" + ", ".join(str(int(i)) for i in position) + "]"
