"""Seeded stress tests of the statistical checks: correct initializers pass across many seeds,
wrong ones fail on every seed, and the stated levels are honest.

Everything here is seeded, so each run draws the same samples; the comments state how often a
test of this kind would fail if the seeds were drawn afresh.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from grader.check import stats
from grader.check.stats import Normal

SEEDS = range(500)
ALPHA = 1e-6
# Fan-in ≠ fan-out, both ways round, so that fan-in, fan-out and Glorot all differ.
SHAPES = [(72, 40), (40, 72), (60, 36), (36, 60)]  # (n_out, n_in)


def shape_of(seed: int) -> tuple[int, int]:
    return SHAPES[seed % len(SHAPES)]


def draw(seed: int, var: float) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, np.sqrt(var), size=shape_of(seed))


# variance of the weights as a function of (n_in, n_out)
HE = {
    "correct 2/n_in": lambda n_in, n_out: 2.0 / n_in,
    "LeCun 1/n_in": lambda n_in, n_out: 1.0 / n_in,
    "Glorot 2/(n_in + n_out)": lambda n_in, n_out: 2.0 / (n_in + n_out),
    "fan-out 2/n_out": lambda n_in, n_out: 2.0 / n_out,
    "std as variance (2/n_in)²": lambda n_in, n_out: (2.0 / n_in) ** 2,
}
TANH = {
    "correct 1/n_in": lambda n_in, n_out: 1.0 / n_in,
    "He's 2/n_in for tanh": lambda n_in, n_out: 2.0 / n_in,
    "fan-out 1/n_out": lambda n_in, n_out: 1.0 / n_out,
    "std as variance (1/n_in)²": lambda n_in, n_out: (1.0 / n_in) ** 2,
}


def failures(right, drawn) -> list[int]:
    """The seeds whose sample from the ``drawn`` variance fails the test for ``right``."""
    failed = []
    for seed in SEEDS:
        n_out, n_in = shape_of(seed)
        expected = Normal((n_out, n_in), right(n_in, n_out))
        sample = draw(seed, drawn(n_in, n_out))
        if not stats.test_normal_sample(sample, expected, ALPHA).passed:
            failed.append(seed)
    return failed


@pytest.mark.parametrize("family", [HE, TANH], ids=["he", "tanh"])
def test_correct_initializers_pass_on_every_seed(family):
    # Each seed fails with probability at most ALPHA = 1e-6, so over 500 seeds the expected
    # number of false failures is 500 × 1e-6 = 5e-4: seeing even one would be a real finding.
    right = next(iter(family.values()))
    assert failures(right, right) == []


@pytest.mark.parametrize(
    "family, name",
    [(HE, name) for name in list(HE)[1:]] + [(TANH, name) for name in list(TANH)[1:]],
    ids=[f"he: {name}" for name in list(HE)[1:]] + [f"tanh: {name}" for name in list(TANH)[1:]],
)
def test_wrong_initializers_fail_on_every_seed(family, name):
    right = next(iter(family.values()))
    assert failures(right, family[name]) == list(SEEDS)


def binomial_interval(n: int, p: float, level: float = 0.9999) -> tuple[float, float]:
    low, high = scipy_stats.binom.interval(level, n, p)
    return low / n, high / n


def test_the_variance_and_mean_tests_reject_at_their_stated_level():
    """At alpha = 0.05, the mean-known chi-square test (and the z-test of the mean) reject about
    5% of 2,000 correct samples: inside the binomial 99.99% interval around 0.05, so the level
    is honest, neither loose nor conservative."""
    n, level = 2000, 0.05
    rejected = {"variance": 0, "mean": 0}
    any_rejected = 0
    for seed in range(n):
        sample = np.random.default_rng([7, seed]).normal(0.0, 0.3, size=(20, 30))
        result = stats.test_normal_sample(sample, Normal((20, 30), 0.09), level)
        for name in rejected:
            rejected[name] += result.p_values[name] < level
        any_rejected += not result.passed
    low, high = binomial_interval(n, level)
    assert low <= rejected["variance"] / n <= high
    assert low <= rejected["mean"] / n <= high
    # All five tests together run at level / 5 each, so they fail correct work at most `level`.
    assert any_rejected / n <= high


# --- the depth test ---------------------------------------------------------------------------

WIDTH, LAYERS = 128, 10  # as reference.network_cases draws them


def network(seed: int, var: float) -> list[np.ndarray]:
    rng = np.random.default_rng([2026, seed])
    return [rng.normal(0.0, np.sqrt(var), size=(WIDTH, WIDTH)) for _ in range(LAYERS)]


def test_depth_growth_of_correct_he_networks_stays_far_inside_the_bound(sheet3):
    """reference.depth_growth's statistic, log g, has a spread far below the bound
    log(√2) = log(2)/2 that relu_depth allows: the bound is over 6 standard deviations away,
    and no network of 100 comes within half of it."""
    reference = sheet3.reference
    logs = np.array(
        [np.log(reference.depth_growth(network(s, 2.0 / WIDTH), "relu")[1]) for s in range(100)]
    )
    assert np.abs(logs).max() < np.log(2) / 2 / 2
    assert abs(logs.mean()) < 0.02 and logs.std() < np.log(2) / 2 / 6  # measured: -0.006, 0.049
    assert np.log(reference.GROWTH_BOUND) == pytest.approx(np.log(2) / 2)


def test_relu_depth_accepts_he_and_rejects_lecun_weights(sheet3):
    reference = sheet3.reference
    he = reference.relu_depth(np.stack(network(1, 2.0 / WIDTH)), WIDTH, WIDTH)
    assert he.passed, he.message
    lecun = reference.relu_depth(np.stack(network(1, 1.0 / WIDTH)), WIDTH, WIDTH)
    assert not lecun.passed
    assert "shrinks" in lecun.message
    assert lecun.plot is not None and len(lecun.plot.series["your weights"]) == LAYERS


def test_tanh_depth_accepts_1_over_n_and_rejects_2_over_n(sheet3):
    reference = sheet3.reference
    assert reference.tanh_depth(np.stack(network(2, 1.0 / WIDTH)), WIDTH, WIDTH).passed
    doubled = reference.tanh_depth(np.stack(network(2, 2.0 / WIDTH)), WIDTH, WIDTH)
    assert not doubled.passed and "grows" in doubled.message
