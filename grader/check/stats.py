"""Statistical tests for values drawn at random, with a stated rate of failing correct work.

A sample claimed to be i.i.d. N(mean, var) is tested five ways, each at alpha / 5 so that a
correct sampler fails with probability at most alpha in all (Bonferroni):

- the sample mean, whose z-score is exactly N(0, 1);
- the variance: sum((x - mean)^2) / var is exactly chi-square with m degrees of freedom;
- the shape of the distribution: a Kolmogorov-Smirnov test against the fully given normal
  (asymptotic distribution, accurate for the thousands of weights tested here);
- independence along rows and along columns: the lag-one products, summed and scaled, are
  N(0, 1) by the central limit theorem (a repeated row or a sorted sample fails here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TESTS = 5


def _special():  # imported on first use: scipy costs a tenth of a second to import
    from scipy import special

    return special


@dataclass(frozen=True)
class Normal:
    """The expectation "an array of this shape, entries i.i.d. N(mean, var)"."""

    shape: tuple[int, ...]
    var: float
    mean: float = 0.0

    @property
    def std(self) -> float:
        return float(np.sqrt(self.var))


@dataclass(frozen=True)
class SampleTest:
    """What the tests found; ``failed`` names the first test that rejected, or is empty."""

    failed: str
    mean: float
    var: float
    p_values: dict[str, float]

    @property
    def passed(self) -> bool:
        return not self.failed


def test_normal_sample(sample: np.ndarray, expected: Normal, alpha: float) -> SampleTest:
    """Test ``sample`` (any shape, at least 2-D for the independence tests) against ``expected``."""
    x = np.asarray(sample, dtype=np.float64)
    flat = x.ravel()
    m = flat.size
    centred = flat - expected.mean
    level = alpha / TESTS
    p = {
        "mean": _two_sided_normal(centred.mean() / np.sqrt(expected.var / m)),
        "variance": _two_sided_chi2(float(np.sum(centred**2) / expected.var), m),
        "normality": _kolmogorov_smirnov(flat, expected),
        "independence along rows": _lag_one(x - expected.mean, axis=-1, var=expected.var),
        "independence along columns": _lag_one(x - expected.mean, axis=-2, var=expected.var),
    }
    rejected = [name for name, value in p.items() if value < level]
    failed = min(rejected, key=lambda name: p[name]) if rejected else ""  # the most decisive
    return SampleTest(failed=failed, mean=float(flat.mean()), var=float(flat.var()), p_values=p)


def variance_consistent(sample: np.ndarray, expected: Normal, alpha: float) -> bool:
    """Only the shape and the variance test: enough to recognise a known wrong distribution."""
    x = np.asarray(sample, dtype=np.float64)
    if x.shape != tuple(expected.shape):
        return False
    statistic = float(np.sum((x - expected.mean) ** 2) / expected.var)
    return _two_sided_chi2(statistic, x.size) >= alpha / TESTS


def _kolmogorov_smirnov(flat: np.ndarray, expected: Normal) -> float:
    """p-value of the one-sample KS test against the fully given normal. For the sample sizes
    used here (thousands) the asymptotic Kolmogorov distribution is accurate, and much faster
    than scipy's exact computation."""
    if flat.size < 1000:  # small samples: scipy's exact distribution (a slower import)
        from scipy import stats

        return float(stats.kstest(flat, "norm", args=(expected.mean, expected.std)).pvalue)
    cdf = _special().ndtr((np.sort(flat) - expected.mean) / expected.std)
    n = flat.size
    d_plus = np.max(np.arange(1, n + 1) / n - cdf)
    d_minus = np.max(cdf - np.arange(n) / n)
    return float(_special().kolmogorov(max(d_plus, d_minus) * np.sqrt(n)))


def _two_sided_chi2(statistic: float, dof: int) -> float:
    lower = _special().chdtr(dof, statistic)
    upper = _special().chdtrc(dof, statistic)
    return float(min(1.0, 2 * min(lower, upper)))


def _two_sided_normal(z: float) -> float:
    return float(2 * _special().ndtr(-abs(z)))


def _lag_one(centred: np.ndarray, axis: int, var: float) -> float:
    """p-value of "neighbours along ``axis`` are uncorrelated"; 1.0 where there are none."""
    if centred.ndim < -axis or centred.shape[axis] < 2:
        return 1.0
    first = np.take(centred, np.arange(centred.shape[axis] - 1), axis=axis)
    second = np.take(centred, np.arange(1, centred.shape[axis]), axis=axis)
    products = (first * second).ravel()
    return _two_sided_normal(products.sum() / (var * np.sqrt(products.size)))
