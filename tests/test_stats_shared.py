"""The Normal test shares one standardisation and its sums among its tests (bench cut 4): the
verdicts must be those of the direct computation it replaced, on the same samples.

What changed is only where ‖a‖² and ‖b‖² of the lag tests and the sample's reported mean and
variance come from (shared sums instead of a pass of their own): the same numbers up to the
order of a floating-point sum. Every other finding is computed from the same z, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest

from grader.check import stats
from grader.check.stats import LAGS, Normal, Standardised


def direct_lag(z: np.ndarray, axis: int, k: int) -> float:
    """The lag test as it was: three sums over strided views of one stack of matrices."""
    count, rows, columns = z.shape
    blocks = (columns if axis == -1 else rows) // (2 * k)
    if blocks == 0:
        return 1.0
    if axis == -1:
        view = z[..., : blocks * 2 * k].reshape(count, rows, blocks, 2, k)
        a, b = view[..., 0, :], view[..., 1, :]
    else:
        view = z[:, : blocks * 2 * k].reshape(count, blocks, 2, k, columns)
        a, b = view[:, :, 0], view[:, :, 1]
    return stats._correlation(a, b)[1]


def direct_evidence(x: np.ndarray, expected: Normal, alpha: float) -> dict[str, float]:
    """Every p-value by the direct computation, and the moments as numpy gives them."""
    z = (x - expected.mean) / expected.std
    matrices = z.reshape(1, 1, -1) if z.ndim < 2 else z.reshape(-1, *z.shape[-2:])
    p_values = stats.test_normal_sample(x, expected, alpha).p_values
    for axis, along in ((-1, "along rows"), (-2, "along columns")):
        for k in LAGS:
            p_values[f"independence {along}, lag {k}"] = direct_lag(matrices, axis, k)
    return p_values


def samples() -> list[tuple[np.ndarray, Normal]]:
    """Correct and wrong samples of the shapes the rubrics use, seeded."""
    rng = np.random.default_rng(20261202)
    made = []
    for shape in ((60, 40), (3, 24, 20), (500,), (10, 32, 32), (7, 5)):
        expected = Normal(shape, 0.04, 0.0)
        for _ in range(40):
            x = rng.normal(0.0, 0.2, shape)
            made.append((x, expected))
            made.append((0.1 * rng.standard_t(8, shape), expected))  # heavy tails
            y = rng.normal(0.0, 0.2, shape)
            made.append((0.8 * y + 0.6 * np.roll(y, 1, axis=-1), expected))  # neighbours alike
        made.append((rng.normal(1.5, 0.3, shape), Normal(shape, 0.09, 1.5)))  # a mean of its own
    return made


@pytest.mark.parametrize("alpha", [1e-6, 1e-2, 0.2])
def test_verdicts_are_those_of_the_direct_computation(alpha: float) -> None:
    changed_verdicts = 0
    for x, expected in samples():
        evidence = stats.test_normal_sample(x, expected, alpha)
        direct = direct_evidence(x, expected, alpha)
        assert list(evidence.p_values) == list(direct)  # the same tests, in the same order
        for name, p in evidence.p_values.items():
            assert p == pytest.approx(direct[name], rel=1e-9, abs=1e-300), name
        passed = all(p >= evidence.level for p in direct.values())
        changed_verdicts += passed != evidence.passed
        assert evidence.mean == pytest.approx(float(x.mean()), rel=1e-9, abs=1e-15)
        assert evidence.var == pytest.approx(float(x.var()), rel=1e-9)
    assert changed_verdicts == 0


def test_the_moments_of_a_sample_far_from_its_mean_are_computed_directly() -> None:
    """A variance tiny beside the squared mean would lose its digits in Σz²/m − (Σz/m)²."""
    x = 1e6 + np.random.default_rng(1).normal(0.0, 1e-3, (50, 40))
    evidence = stats.test_normal_sample(x, Normal(x.shape, 1.0, 0.0), 1e-6)
    assert evidence.var == pytest.approx(float(x.var()), rel=1e-6)
    assert evidence.mean == pytest.approx(float(x.mean()), rel=1e-12)


def test_the_shared_sums_are_the_sample_s() -> None:
    x = np.random.default_rng(2).normal(0.5, 2.0, (3, 6, 5))
    z = Standardised.of(x, 0.5, 2.0)
    direct = (x - 0.5) / 2.0
    assert np.array_equal(z.matrices, direct)  # bit for bit: what every other test sees
    assert z.total == pytest.approx(direct.sum(), rel=1e-12)
    assert z.squares == pytest.approx(np.sum(direct**2), rel=1e-12)
    assert np.allclose(z.column_squares, np.sum(direct**2, axis=(0, 1)), rtol=1e-12)
    assert np.allclose(z.row_squares, np.sum(direct**2, axis=(0, 2)), rtol=1e-12)
    assert np.array_equal(Standardised.of(x, 0.0, 2.0).matrices, (x - 0.0) / 2.0)


@pytest.mark.parametrize("size", [1, 7, stats.COUNT_CHUNK, 2 * stats.COUNT_CHUNK + 13])
def test_the_counts_in_chunks_are_those_of_the_whole_sample(size: int) -> None:
    """The six counts go through the sample in chunks; they must be the whole-array counts,
    thresholds themselves included (|z| = c counts in neither |z| > c nor |z| < c)."""
    rng = np.random.default_rng(size)
    z = rng.normal(0.0, 1.5, size)
    edges = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 4.0, -4.0])
    z[rng.integers(0, size, min(size, 40))] = rng.choice(edges, min(size, 40))
    tails, centre, positive = stats._threshold_counts(z)
    assert tails == [int(np.sum(np.abs(z) > c)) for c in stats.TAIL_THRESHOLDS]
    assert centre == [int(np.sum(np.abs(z) < c)) for c in stats.CENTRE_THRESHOLDS]
    assert positive == int(np.sum(z > 0))
