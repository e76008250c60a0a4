"""Exact statistical tests for values drawn at random, with an honest rate of failing correct work.

A random expectation is a *distribution*: an open family, today ``Normal``, ``Bernoulli``,
``Uniform`` and ``Categorical`` (``DISTRIBUTIONS`` maps a rubric's ``kind`` to its class). Each
member brings its test (``test(sample, alpha) -> Evidence``), its JSON form for the public
bundle (``to_json`` / ``distribution_from_json``) and its mistake matching (``explains``: would
this wrong distribution produce the sample, by the same tests).

The Normal test, and why a correct sampler fails with probability at most alpha
=================================================================================

H0: the m entries of the sample x (shape (..., R, C); a leading axis stacks L calls made with
different generators) are i.i.d. N(μ, σ²) with μ and σ² given. Write z = (x − μ)/σ: under H0 the
z's are i.i.d. N(0, 1). Every statistic below has an *exact* null distribution (or an exact
upper bound on its tail); none uses the central limit theorem. Each test gets the level
alpha / T, where T is the number of tests run on the case, so by the union bound (Bonferroni,
valid whatever the dependence between the tests) the case fails correct work with probability
at most alpha. The engine gives each statistical case of a check alpha = rate / (number of
statistical cases), so the check as a whole fails a correct submission with probability at
most the rubric's ``false_failure_rate`` (1e-6). The depth curve drawn for a hidden case never
rejects by itself and so spends none of it (see the rubric); nothing else is tested.

Two-sided p-values are 2·min(P(S ≤ s), P(S ≥ s)), capped at 1. For any statistic, continuous
or discrete, P(p ≤ a) ≤ P(F(S) ≤ a/2) + P(G(S) ≤ a/2) ≤ a, so the doubling is valid (it is
conservative for discrete statistics).

1. mean: Σz / √m ~ N(0, 1) exactly.                                               (1 test)
2. variance: Σz² ~ χ²(m) exactly; scipy's regularised incomplete gamma.          (1 test)
3. tails and shape: for a threshold c, the count of |z| > c is exactly Binomial(m, 2Φ(−c)),
   of |z| < c Binomial(m, 1 − 2Φ(−c)), and of z > 0 Binomial(m, ½) (the entries are i.i.d.,
   so each count is a sum of i.i.d. Bernoulli variables); exact binomial tails.
   Thresholds: |z| > 2, 3, 4 (tails), |z| < 0.5, 1 (shape), z > 0 (symmetry).    (6 tests)
   weighted tails: the same counts split |z| into six bins ([0, ½), [½, 1), [1, 2], (2, 3],
   (3, 4], (4, ∞)), whose counts are exactly Multinomial(m, P(bin)) under H0, P(bin) from
   Φ. S = Σ w_k·n_k (``BIN_WEIGHTS``: mass gained in the centre and beyond 3σ and lost at
   1σ-2σ, the signature of positive excess kurtosis) is a sum of m i.i.d. bounded variables,
   so Chernoff's bound P(S ≥ s) ≤ exp(m·Λ(θ) − θs), Λ(θ) = log Σ P(bin)·e^{θ w_k}, holds
   exactly for every θ ≥ 0; its minimum over θ (found numerically: any θ gives a valid
   bound, so a search that stops short only loosens it) is a one-sided p-value for heavier
   tails. It is conservative (about ten times the exact tail at these levels), and it sees
   a Student-t(30) with 60% of the values the counts alone need.                  (1 test)
4. dependence, all through one exact fact: if a is any vector (a ≠ 0) and b is independent
   of a with i.i.d. N(0, 1) entries, then b/‖b‖ is uniform on the sphere, so the uncentred
   correlation r = ⟨a, b⟩ / (‖a‖‖b‖) has r² ~ Beta(½, (n − 1)/2) exactly, n = len(a).
   - lags along rows and along columns, k = 1, 2, 3, 4: a holds the entries j with
     ⌊j/k⌋ even (in whole blocks of 2k), b the entries j + k. The two index sets are
     disjoint, so a and b are independent under H0 and the Beta law is exact (using only half
     of the lag-k pairs is the price of exactness).                             (8 tests)
   - any pair of rows, any pair of columns: the largest |r| over all P pairs of the first
     matrix of the stack (a pattern of copies repeats in every call, and two matrix products
     per call would be the most expensive step of all); each pair is exactly Beta, and
     P(max ≥ t) ≤ P · P(one ≥ t) by the union bound, so P · p(one) is a valid p-value. The
     products run in float32, and their worst-case rounding is taken off |r| first. (2 tests)
   - between calls (L ≥ 2): calls 0, 2, 4, ... against calls 1, 3, 5, ... (disjoint, so
     exact); a function that ignores its generator returns correlated or equal matrices.
                                                                                 (1 test)
   T = 20 for a stack of calls, 19 for a single matrix (``tests_run``).

The Bernoulli test
==================

H0: the m entries of the sample (shape (..., R, C), a leading axis stacking L calls) are
i.i.d.: ``value`` with probability p, else 0. Write d for the indicator "entry is the value".

1. values: every entry is 0 or the value (relative error ≤ 1e-9). Certain under H0, so this
   test's p-value is 1 or 0 and it spends none of alpha.                           (1 test)
2. share drawn: Σd ~ Binomial(m, p) exactly; two-sided exact binomial tail.      (1 test)
3. dependence: along rows, entries 2j and 2j + 1 (disjoint pairs); along columns, rows 2i
   and 2i + 1; between calls (L ≥ 2), calls 0, 2, ... against 1, 3, .... Under H0 the two
   members of a pair are independent, so each pair is equal with probability
   q = p² + (1 − p)², independently of the other pairs: the count of equal pairs is exactly
   Binomial(pairs, q). A mask shared by every row, or a seed fixed inside the function, makes
   nearly every pair equal.                                                    (2 or 3 tests)
   Each test at alpha / T by the union bound, as for the Normal; T = 4, or 5 with calls.

The Uniform test
================

H0: the entries are i.i.d. uniform on [low, high). Write u = (x − low)/(high − low).

1. range: every entry in [low, high). Certain under H0 (p-value 1 or 0).          (1 test)
2. shape: the counts of u < 0.5, 0.25, 0.1 and of u ≥ 0.75, 0.9 are exactly
   Binomial(m, c) (resp. Binomial(m, 1 − c)): a shrunk, shifted or lopsided range.  (5 tests)
3. dependence: the quarters ⌊4u⌋ of the two members of a disjoint pair (the pairs of the
   Bernoulli test) are equal with probability ¼ exactly: Binomial(pairs, ¼).  (2 or 3 tests)
   T = 8, or 9 with calls.

The Categorical test
====================

H0: the entries are i.i.d., each one of k distinct values v₁ … v_k with probabilities
p₁ … p_k (all positive, summing to 1).

1. values: every entry is one of the values (relative error ≤ 1e-9). Certain under H0
   (p-value 1 or 0); the feedback names the values seen that are none of them.  (1 test)
2. shares: the count of each value is exactly Binomial(m, pᵢ); two-sided exact binomial
   tails, one test per value.                                                     (k tests)
   Why not Pearson's χ² (the textbook test, every cell expecting ≥ 5 entries): its law is
   the asymptotic one, and at the levels used here (about 1e-7 per test) it is far off. For
   two values, where its exact tail is a binomial sum, it fails correct work 56× as often as
   stated when a cell expects 5 entries, 20-36× at 10 to 20, 2-3× at 100 to 150 and 1.5× at
   200: no pooling rule makes it honest at these levels, and the exact counts need none.
3. dependence: the pairs of the Bernoulli test (rows, columns, calls), each equal with
   probability q = Σpᵢ² exactly under H0: Binomial(pairs, q).                  (2 or 3 tests)
   T = k + 3, or k + 4 with calls.

The p-values come from scipy.special (ndtr, chdtr/chdtrc, bdtr/bdtrc, betainc), accurate to
about 1e-13 relatively at these arguments: nothing that could move a level of 1e-8. The rate of
failing correct work is therefore at most alpha by construction; bench/power.py and
tests/test_stats.py count false failures (and check each test's level at 0.05) to show that
nothing in the code undoes it.

Power, and what each test costs. The check's 1e-6 is shared by its five statistical cases and
each case's by its 20 tests: 1e-8 a test, a two-sided threshold of z ≈ 5.73 (5.57 in the
self-check, whose two public cases share the 1e-6). A 5% variance error then needs about
64,000 values in one sample for a power of 0.999 (0.05·√(m/2) ≥ √2·(5.73 + 1.05·3.09)). A
Student-t(30) (excess kurtosis 0.23) needed more with the counts alone: the best of them, beyond
3σ, sees it at z ≈ 0.0275·√m, so that ≈ 117,000 values gave 0.999; the weighted tail test
holds it at 0.9998 with 73,960 (bench/power.py --sizes: the counts and the weighted test
simulated from their exact multinomial law, each with the grader's own p-values). The hidden
network case is 10×86×86 = 73,960 values (a 5% variance error at z ≈ 9.6). The hidden cases
must carry the grading run's power on their own (a student who passed the self-check meets the
seeded public cases again, with the same verdict); the two hidden matrices (8,000-11,600
values) add nothing measurable to it and are there for other shapes. The public four-call
case, about 52,000 values (z ≈ 8), keeps the self-check at 0.99 for a 5% variance error. The
tail and shape counts see a Student-t(10), a 2σ-truncated normal or a ½/½ scale mixture of
variances 0.5σ² and 1.5σ² at z of 15 to 40 on the hidden case; the lag, pair and call
correlations see copied rows, correlated neighbours and a matrix that ignores its generator at
r = 0.5 to 1, where a lag or call test on the hidden case resolves r ≈ 0.046 and a pair test
r ≈ 0.66. Measured rejection rates: bench/RESULTS.md.
CPU cost on the 163,840-value case of ten 128×128 calls (the hidden network case until it was
sized for the power it needs; best of 80, one core, quiet): 1.25 ms in all (2.15 ms
before the counts went in cached chunks and the lags along rows by offset), of which
standardising with its two sums (Σz, Σz²) 0.15 ms, the squares per row and per column 0.08 ms,
the six counts 0.22 ms, the eight lags 0.37 ms, the two pair tests (one 128×128 matrix)
0.14 ms, the call test 0.07 ms (each part timed alone; in the whole test, fresh arrays of a
megabyte cost their page faults too, which is why the counts reuse one small buffer). The
sample is standardised once (``Standardised``) and its sums are passed down: the mean and
variance tests, the reported moments, and ‖a‖², ‖b‖² of every lag test come from them, so
each lag test sums only its products ⟨a, b⟩ (cut 4 of bench/RESULTS.md: 3.9 ms before). No
sort (the Kolmogorov–Smirnov test this replaces sorted the sample and had no exact tail at
these sizes).
"""

from __future__ import annotations

import functools
import math
import operator
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, Protocol, runtime_checkable

import numpy as np

LAGS = (1, 2, 3, 4)
TAIL_THRESHOLDS = (2.0, 3.0, 4.0)  # counts of |z| > c
CENTRE_THRESHOLDS = (0.5, 1.0)  # counts of |z| < c
# The weighted tail test's weight of each bin of |z|: [0, 0.5), [0.5, 1), [1, 2], (2, 3],
# (3, 4], (4, ∞). Positive excess kurtosis puts mass in the centre and beyond 3σ and takes it
# from 1σ-2σ; the weights (near the log-likelihood ratio of a Student-t(30), kept small where
# it is large, which a Chernoff bound needs) add those shifts up into one statistic.
BIN_WEIGHTS = (0.7, 0.0, -1.1, 0.2, 12.0, 20.0)


@functools.cache
def _special() -> Any:
    """scipy.special, imported on first use (scipy costs a tenth of a second to import, even
    lean: grader/check/special.py) and looked up once: the tests call it some 150 times per
    check."""
    from grader.check.special import special

    return special


class Finding(NamedTuple):
    """One test's result: its p-value and, in plain words, what it saw (the words written only
    when asked for: most findings pass and are never shown). A named tuple: some twenty are made
    per sample, at a quarter of a frozen dataclass's cost each."""

    name: str  # "variance", "tails beyond 3σ", "independence between calls", ...
    kind: str  # mean | variance | tails | shape | dependence
    p_value: float
    text: str | Callable[[], str]  # the words, or a function that writes them

    @property
    def words(self) -> str:
        """What the sample shows, for the feedback."""
        return self.text if isinstance(self.text, str) else self.text()


@dataclass(frozen=True)
class Evidence:
    """What the tests of one sample found, at the level they were run at."""

    findings: tuple[Finding, ...]
    level: float  # each test's level: alpha / len(findings)
    mean: float
    var: float
    size: int

    @functools.cached_property
    def rejected(self) -> tuple[Finding, ...]:
        """The tests that rejected, the most decisive first (found once: asked for twice)."""
        return tuple(
            sorted((f for f in self.findings if f.p_value < self.level), key=lambda f: f.p_value)
        )

    @property
    def passed(self) -> bool:
        return not self.rejected

    @property
    def failed(self) -> str:
        """The name of the most decisive test that rejected, or ""."""
        rejected = self.rejected
        return rejected[0].name if rejected else ""

    @property
    def p_values(self) -> dict[str, float]:
        return {f.name: f.p_value for f in self.findings}


@runtime_checkable
class Distribution(Protocol):
    """An expectation "an array of this shape, drawn from this distribution"."""

    kind: ClassVar[str]
    shape: tuple[int, ...]

    def describe(self) -> str: ...
    def test(self, sample: np.ndarray, alpha: float) -> Evidence: ...
    def explains(self, sample: np.ndarray, alpha: float) -> bool: ...
    def stacked(self, repeat: int) -> Distribution: ...
    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Normal:
    """The expectation "an array of this shape, entries i.i.d. N(mean, var)"."""

    shape: tuple[int, ...]
    var: float
    mean: float = 0.0
    kind: ClassVar[str] = "normal"

    @property
    def std(self) -> float:
        return float(np.sqrt(self.var))

    def describe(self) -> str:
        return f"i.i.d. N({self.mean:g}, {self.var:.4g})"

    def test(self, sample: np.ndarray, alpha: float) -> Evidence:
        return test_normal_sample(sample, self, alpha)

    def explains(self, sample: np.ndarray, alpha: float) -> bool:
        """The sample passes this distribution's full test (its variance first: cheap)."""
        x = np.asarray(sample, dtype=np.float64)
        if x.shape != tuple(self.shape):
            return False
        level = alpha / tests_run(x.shape)
        if self.mean == 0 and x.flags.c_contiguous:  # a first look with no standardised copy
            # (most named mistakes are a wrong variance): Σx²/σ² is Σz² but for rounding,
            # which moves the p-value by far less than the factor 2 kept in hand, so it
            # decides only where the exact test below would reject too
            flat = x.ravel()
            if _two_sided_chi2(float(np.dot(flat, flat)) / self.var, x.size) < level / 2:
                return False
        z = Standardised.of(x, self.mean, self.std, scratch=True)
        if _two_sided_chi2(z.squares, x.size) < level:
            return False
        return normal_evidence(z, self, alpha).passed

    def stacked(self, repeat: int) -> Normal:
        return Normal((repeat, *self.shape), self.var, self.mean)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "shape": list(self.shape), "var": self.var, "mean": self.mean}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Normal:
        return cls(tuple(int(n) for n in data["shape"]), float(data["var"]), float(data["mean"]))


class FullTest:
    """What most kinds share: a sample "explains" a distribution (a named mistake) when it has
    its shape and passes its whole test."""

    shape: tuple[int, ...]

    def test(self, sample: np.ndarray, alpha: float) -> Evidence:
        raise NotImplementedError

    def explains(self, sample: np.ndarray, alpha: float) -> bool:
        x = np.asarray(sample, dtype=np.float64)
        return x.shape == tuple(self.shape) and self.test(x, alpha).passed


@dataclass(frozen=True)
class Bernoulli(FullTest):
    """The expectation "an array of this shape, entries i.i.d.: ``value`` with probability
    ``p``, else 0" (an inverted-dropout mask: p the keep-probability, value 1/p)."""

    shape: tuple[int, ...]
    p: float
    value: float = 1.0
    kind: ClassVar[str] = "bernoulli"

    def __post_init__(self) -> None:
        if not 0.0 < self.p < 1.0:
            raise ValueError(f"Bernoulli: p = {self.p} must lie strictly between 0 and 1")
        if self.value == 0.0:
            raise ValueError("Bernoulli: value must not be 0 (it is the entry drawn with p)")

    def describe(self) -> str:
        return f"i.i.d. {self.value:.4g} with probability {self.p:.4g}, else 0"

    def test(self, sample: np.ndarray, alpha: float) -> Evidence:
        return test_bernoulli_sample(sample, self, alpha)

    def stacked(self, repeat: int) -> Bernoulli:
        return Bernoulli((repeat, *self.shape), self.p, self.value)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "shape": list(self.shape), "p": self.p, "value": self.value}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Bernoulli:
        return cls(tuple(int(n) for n in data["shape"]), float(data["p"]), float(data["value"]))


@dataclass(frozen=True)
class Uniform(FullTest):
    """The expectation "an array of this shape, entries i.i.d. uniform on [low, high)"."""

    shape: tuple[int, ...]
    low: float
    high: float
    kind: ClassVar[str] = "uniform"

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"Uniform: low = {self.low} must be below high = {self.high}")

    def describe(self) -> str:
        return f"i.i.d. uniform on [{self.low:.4g}, {self.high:.4g})"

    def test(self, sample: np.ndarray, alpha: float) -> Evidence:
        return test_uniform_sample(sample, self, alpha)

    def stacked(self, repeat: int) -> Uniform:
        return Uniform((repeat, *self.shape), self.low, self.high)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "shape": list(self.shape), "low": self.low, "high": self.high}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Uniform:
        return cls(tuple(int(n) for n in data["shape"]), float(data["low"]), float(data["high"]))


@dataclass(frozen=True)
class Categorical(FullTest):
    """The expectation "an array of this shape, entries i.i.d., each one of ``values`` with
    the matching entry of ``probabilities``" (a class label drawn from a softmax, a die)."""

    shape: tuple[int, ...]
    values: tuple[float, ...]
    probabilities: tuple[float, ...]
    kind: ClassVar[str] = "categorical"

    def __post_init__(self) -> None:
        values = tuple(float(v) for v in self.values)
        probabilities = tuple(float(p) for p in self.probabilities)
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "probabilities", probabilities)
        if len(values) < 2 or len(values) != len(probabilities):
            raise ValueError(
                f"Categorical: {len(values)} values and {len(probabilities)} probabilities: "
                "give two or more values, one probability each"
            )
        if not all(np.isfinite(values)) or len(_cells(np.asarray(values), values)[1]) > 0:
            raise ValueError(f"Categorical: the values {values} must be finite and distinct")
        if min(probabilities) <= 0.0 or abs(sum(probabilities) - 1.0) > 1e-9:
            raise ValueError(
                f"Categorical: the probabilities {probabilities} must be positive and sum to 1"
            )

    def describe(self) -> str:
        values = ", ".join(f"{v:.6g}" for v in self.values)
        shares = ", ".join(f"{p:.4g}" for p in self.probabilities)
        return f"i.i.d., each one of {values} with probabilities {shares}"

    def test(self, sample: np.ndarray, alpha: float) -> Evidence:
        return test_categorical_sample(sample, self, alpha)

    def stacked(self, repeat: int) -> Categorical:
        return Categorical((repeat, *self.shape), self.values, self.probabilities)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "shape": list(self.shape),
            "values": list(self.values),
            "probabilities": list(self.probabilities),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Categorical:
        return cls(
            tuple(int(n) for n in data["shape"]),
            tuple(float(v) for v in data["values"]),
            tuple(float(p) for p in data["probabilities"]),
        )


DISTRIBUTIONS: dict[str, Any] = {  # kind -> class, with from_json
    Normal.kind: Normal,
    Bernoulli.kind: Bernoulli,
    Uniform.kind: Uniform,
    Categorical.kind: Categorical,
}


def distribution_from_json(data: dict[str, Any]) -> Distribution:
    """A distribution from its JSON form, whatever its kind."""
    kind = data.get("kind", "normal")
    if kind not in DISTRIBUTIONS:
        raise ValueError(f"unknown distribution kind {kind!r}")
    return DISTRIBUTIONS[kind].from_json(data)


# --- the Normal test ------------------------------------------------------------------------


def tests_run(shape: tuple[int, ...]) -> int:
    """How many tests a sample of this shape gets (the Bonferroni divisor)."""
    calls = len(shape) >= 3 and int(np.prod(shape[:-2])) >= 2
    counts = len(TAIL_THRESHOLDS) + len(CENTRE_THRESHOLDS) + 2  # and symmetry, weighted tails
    return 2 + counts + 2 * len(LAGS) + 2 + int(calls)


class Standardised:
    """One sample as z = (x − mean)/std, a stack of matrices (L, R, C), with the sums that
    several of its tests need: computed once per sample (the squares per line on first use)
    and passed down."""

    def __init__(self, matrices: np.ndarray) -> None:
        self.matrices = matrices
        flat = matrices.ravel()
        self.total = float(flat.sum())  # Σz
        self.squares = float(np.dot(flat, flat))  # Σz²

    @property
    def flat(self) -> np.ndarray:
        return self.matrices.ravel()

    @classmethod
    def of(cls, x: np.ndarray, mean: float, std: float, scratch: bool = False) -> Standardised:
        """z of ``x``; with ``scratch``, written into this thread's reused buffer (no fresh
        pages to fault in), for a caller that is done with it before it standardises again."""
        z = _scratch("z", x.size, np.float64).reshape(x.shape) if scratch else None
        if mean == 0:  # x − 0 is x: one pass fewer
            z = np.divide(x, std, out=z)
        else:
            z = np.subtract(x, mean, out=z)
            z /= std  # in place: the same numbers as (x − mean) / std, one array fewer
        return cls(z.reshape(1, 1, -1) if z.ndim < 2 else z.reshape(-1, *z.shape[-2:]))

    @functools.cached_property
    def _line_squares(self) -> tuple[np.ndarray, np.ndarray]:
        square = np.einsum("lrc,lrc->rc", self.matrices, self.matrices)  # summed over calls
        return square.sum(axis=0), square.sum(axis=1)

    @property
    def column_squares(self) -> np.ndarray:
        """Σz² per column, over calls and rows: (C,)."""
        return self._line_squares[0]

    @property
    def row_squares(self) -> np.ndarray:
        """Σz² per row, over calls and columns: (R,)."""
        return self._line_squares[1]

    def moments(self, mean: float, std: float) -> tuple[float, float]:
        """The sample's own mean and variance (x's, not z's), from the shared sums. Where the
        variance is tiny beside the squared mean (a difference of two near-equal numbers),
        it is computed directly instead."""
        m = self.matrices.size
        centre = self.total / m
        spread = self.squares / m - centre * centre
        if spread < 1e-6 * self.squares / m:
            spread = float(self.matrices.var())
        return mean + std * centre, std * std * spread


def test_normal_sample(sample: np.ndarray, expected: Normal, alpha: float) -> Evidence:
    """Test ``sample`` against ``expected`` at total level ``alpha`` (see the module's text)."""
    x = np.asarray(sample, dtype=np.float64)
    z = Standardised.of(x, expected.mean, expected.std, scratch=True)
    return normal_evidence(z, expected, alpha)


_SCRATCH = threading.local()  # each thread's reused buffers, by name


def _scratch(name: str, size: int, dtype: type) -> np.ndarray:
    """A buffer of ``size`` entries of this thread's own, reused from call to call (grown when
    too small): a fresh array of a sample's size is a fresh mapping, whose pages fault in at
    every test (some 270 faults per submission on sheet3's two initializer checks)."""
    buffer = getattr(_SCRATCH, name, None)
    if buffer is None or buffer.size < size:
        buffer = np.empty(size, dtype=dtype)
        setattr(_SCRATCH, name, buffer)
    return buffer[:size]


def normal_evidence(z: Standardised, expected: Normal, alpha: float) -> Evidence:
    """The Normal tests of a sample already standardised by ``expected``'s mean and std."""
    matrices, flat = z.matrices, z.flat
    # in this order, which breaks ties between p-values that underflow to 0 in the feedback
    findings = [_mean(z), _variance(z)]
    correlations = [_calls(matrices)] if matrices.shape[0] >= 2 else []
    first = matrices[:1]  # a pattern of copies repeats in every call; one matrix is enough
    correlations += [_pairs(first, "rows"), _pairs(first.transpose(0, 2, 1), "columns")]
    correlations += _lags(z)
    # their Beta tails in one vector call (the same numbers as one scalar call each)
    tails = _beta_tails([c.r for c in correlations], [c.n for c in correlations])
    findings += [c.finding(tail) for c, tail in zip(correlations, tails, strict=True)]
    findings += _counts(flat)
    level = alpha / len(findings)  # == alpha / tests_run(shape): the union bound
    mean, var = z.moments(expected.mean, expected.std)
    return Evidence(tuple(findings), level, mean, var, flat.size)


def _mean(z: Standardised) -> Finding:
    m = z.matrices.size
    statistic = z.total / np.sqrt(m)
    return Finding(
        "mean",
        "mean",
        _two_sided_normal(statistic),
        lambda: f"the mean is {statistic / np.sqrt(m):+.3g}σ",
    )


def _variance(z: Standardised) -> Finding:
    m, squares = z.matrices.size, z.squares
    return Finding(
        "variance",
        "variance",
        _two_sided_chi2(z.squares, m),
        lambda: f"the variance is {squares / m:.4g}× the expected one",
    )


COUNT_CHUNK = 65536  # values per pass of ``_threshold_counts``: 512 KB, kept in the cache


def _threshold_counts(flat: np.ndarray) -> tuple[list[int], list[int], int]:
    """The counts of |z| > c (tails), of |z| < c (centre) and of z > 0, in chunks.

    Exact integers, as from whole-array comparisons; but |z| of a chunk goes into one reused
    buffer and stays in the cache for its six comparisons (a fresh 1.3 MB |z| of the hidden
    case cost more to map than to compute: 0.86 → 0.20 ms on its 163,840 values)."""
    m = flat.size
    tails, centre, positive = [0] * len(TAIL_THRESHOLDS), [0] * len(CENTRE_THRESHOLDS), 0
    size = _scratch("counts", min(m, COUNT_CHUNK), np.float64)
    mask = _scratch("mask", min(m, COUNT_CHUNK), np.bool_)
    for start in range(0, m, COUNT_CHUNK):
        part = flat[start : start + COUNT_CHUNK]
        absolute, below = np.abs(part, out=size[: part.size]), mask[: part.size]
        for i, c in enumerate(TAIL_THRESHOLDS):
            tails[i] += int(np.count_nonzero(np.greater(absolute, c, out=below)))
        for i, c in enumerate(CENTRE_THRESHOLDS):
            centre[i] += int(np.count_nonzero(np.less(absolute, c, out=below)))
        positive += int(np.count_nonzero(np.greater(part, 0, out=below)))
    return tails, centre, positive


def _counts(flat: np.ndarray) -> list[Finding]:
    m = flat.size
    tails, centre, positive = _threshold_counts(flat)
    tail_p, centre_p = _count_probabilities()
    # the seven binomial tails in one vector call (the same numbers as seven scalar calls)
    p_values = _binomials(tails + centre + [positive], m, tail_p + centre_p + (0.5,))
    findings = []
    tail_values, centre_values = p_values[: len(tails)], p_values[len(tails) : -1]
    for c, count, p, p_value in zip(TAIL_THRESHOLDS, tails, tail_p, tail_values, strict=True):
        words = functools.partial(_tail_words, c, count, m, p)
        findings.append(Finding(f"tails beyond {c:g}σ", "tails", p_value, words))
    for c, count, p, p_value in zip(
        CENTRE_THRESHOLDS, centre, centre_p, centre_values, strict=True
    ):
        words = functools.partial(_centre_words, c, count, m, p)
        findings.append(Finding(f"shape within {c:g}σ", "shape", p_value, words))
    words = functools.partial(_symmetry_words, positive, m)
    findings.append(Finding("symmetry", "shape", p_values[-1], words))
    findings.append(_weighted_tails(m, tails, centre))
    return findings


def _tail_words(c: float, count: int, m: int, p: float) -> str:
    heavier = "heavier" if count > m * p else "lighter"
    return (
        f"{count} of {m:,} values lie beyond {c:g}σ where about {m * p:,.0f} would for a "
        f"normal: the tails are {heavier} than a normal's"
    )


def _centre_words(c: float, count: int, m: int, p: float) -> str:
    return (
        f"{count:,} of {m:,} values lie within ±{c:g}σ where about {m * p:,.0f} would for "
        "a normal: the shape of the distribution is not a normal's"
    )


def _symmetry_words(positive: int, m: int) -> str:
    return f"{positive:,} of {m:,} values are above the mean: the distribution is lopsided"


@functools.cache
def _count_probabilities() -> tuple[tuple[float, ...], tuple[float, ...]]:
    """P(|z| > c) for each tail threshold and P(|z| < c) for each centre one, z ~ N(0, 1):
    constants, computed once."""
    ndtr = _special().ndtr
    tails = tuple(float(2 * ndtr(-c)) for c in TAIL_THRESHOLDS)
    return tails, tuple(float(1 - 2 * ndtr(-c)) for c in CENTRE_THRESHOLDS)


@functools.cache
def _bin_probabilities() -> tuple[float, ...]:
    """P(|z| in each bin of BIN_WEIGHTS) for z ~ N(0, 1), from the counts' own constants (the
    bins' edges are the centre and tail thresholds)."""
    tails, centre = _count_probabilities()
    inside = [0.0, *centre, *(1 - p for p in tails), 1.0]
    return tuple(high - low for low, high in zip(inside, inside[1:]))


def _weighted_tails(m: int, tails: list[int], centre: list[int]) -> Finding:
    """S = Σ w(|z_i|) over the bins of BIN_WEIGHTS, from the counts already made: the bin counts
    are exactly Multinomial(m, bin probabilities) under H0, and Chernoff's bound (below) is an
    exact upper bound on P(S ≥ s): a one-sided, conservative p-value for heavier tails."""
    bins = [
        centre[0],
        centre[1] - centre[0],
        m - centre[1] - tails[0],
        tails[0] - tails[1],
        tails[1] - tails[2],
        tails[2],
    ]
    total = sum(w * n for w, n in zip(BIN_WEIGHTS, bins, strict=True))
    probabilities = _bin_probabilities()
    expected = m * sum(w * p for w, p in zip(BIN_WEIGHTS, probabilities, strict=True))

    def words() -> str:
        return (
            f"{bins[4] + bins[5]:,} of {m:,} values lie beyond 3σ and {bins[0]:,} within 0.5σ, "
            f"{bins[2]:,} between 1σ and 2σ, where a normal puts about "
            f"{m * (probabilities[4] + probabilities[5]):,.0f}, {m * probabilities[0]:,.0f} and "
            f"{m * probabilities[2]:,.0f}: the tails are heavier than a normal's"
        )

    p = _chernoff_tail(total, m, BIN_WEIGHTS, probabilities) if total > expected else 1.0
    return Finding("tails, weighted", "tails", p, words)


def _chernoff_tail(
    total: float, m: int, weights: tuple[float, ...], probs: Sequence[float]
) -> float:
    """An upper bound on P(S ≥ total), S the sum of m i.i.d. copies of a variable that is
    weights[k] with probability probs[k]: for every θ ≥ 0, Markov's inequality on e^{θS} gives
    P(S ≥ total) ≤ exp(m·Λ(θ) − θ·total), Λ(θ) = log Σ p_k e^{θ w_k}. The bound holds at any
    θ ≥ 0, so the search below for the best one (Newton's steps on Λ'(θ) = total/m, kept
    inside a bracket) can only make it looser, never wrong."""
    mean, top = total / m, max(weights)
    if mean >= top:  # every value in the top bin: S ≥ total exactly when all are there
        return math.exp(m * math.log(sum(p for w, p in zip(weights, probs) if w == top)))

    shifts = [w - top for w in weights]

    def tilted(theta: float) -> tuple[float, float, float]:
        """Λ(θ), Λ'(θ) and Λ''(θ), without overflow (t·w·w is (t·w)·w: the products reused)."""
        terms = [p * math.exp(theta * s) for s, p in zip(shifts, probs)]
        weighted = list(map(operator.mul, terms, weights))
        norm = sum(terms)
        first = sum(weighted) / norm
        second = sum(map(operator.mul, weighted, weights)) / norm - first * first
        return theta * top + math.log(norm), first, max(second, 1e-300)

    low, high, theta = 0.0, math.inf, 0.0
    for _ in range(60):
        _, slope, curvature = tilted(theta)
        if slope < mean:
            low = theta
        else:
            high = theta
        step = theta + (mean - slope) / curvature
        if not low < step < high:  # Newton left the bracket: bisect (or grow it)
            step = 2 * low + 1.0 if high == math.inf else (low + high) / 2
        if abs(step - theta) <= 1e-12 * max(1.0, theta):
            break
        theta = step
    log_bound = min(m * tilted(t)[0] - t * total for t in (theta, low))  # each a valid bound
    return math.exp(min(log_bound, 0.0))


class Correlation(NamedTuple):
    """A dependence test before its Beta tail: |r| of n pairs. Its p-value is
    min(1, times · P(|R| ≥ r)): times is the number of correlations r is the largest of."""

    name: str
    r: float
    n: int
    times: int
    words: str | Callable[[], str]

    def finding(self, tail: float) -> Finding:
        """The test's finding, given P(|R| ≥ r)."""
        return Finding(self.name, "dependence", min(1.0, self.times * tail), self.words)


def _lags(z: Standardised) -> list[Correlation]:
    """The lag tests along rows, then along columns, k in LAGS."""
    correlations = []
    for axis in (-1, -2):
        along = "along rows" if axis == -1 else "along columns"
        for k in LAGS:
            ab, aa, bb, n = _lag_sums(z, axis, k)
            r = _correlation_of(ab, aa, bb)
            # too short for this lag: no pair, nothing seen
            words = functools.partial(_lag_words, axis, k, r) if n else ""
            correlations.append(Correlation(f"independence {along}, lag {k}", abs(r), n, 1, words))
    return correlations


def _lag_words(axis: int, k: int, r: float) -> str:
    unit = ("column" if axis == -1 else "row") + ("s" if k > 1 else "")
    where = "in a row" if axis == -1 else "in a column"
    return (
        f"entries {k} {unit} apart {where} are correlated (r = {r:.3g}); every value must be "
        "drawn independently of the others"
    )


def _lag_sums(z: Standardised, axis: int, k: int) -> tuple[float, float, float, int]:
    """Entries j (⌊j/k⌋ even) against entries j + k along ``axis``: disjoint, hence exact.
    The products ⟨a, b⟩ are summed here; ‖a‖² and ‖b‖² come from the sample's shared sums of
    squares per column (per row, along columns). Returns ⟨a, b⟩, ‖a‖², ‖b‖² and len(a)."""
    matrices = z.matrices
    count, rows, columns = matrices.shape
    blocks = (columns if axis == -1 else rows) // (2 * k)  # a tail shorter than 2k is left out
    if blocks == 0:
        return 0.0, 0.0, 0.0, 0  # no pair: r = 0, p = 1
    end = blocks * 2 * k
    pairs = count * blocks * k * (rows if axis == -1 else columns)  # the size of a, and of b
    if axis == -1:  # strided views, no copies: one per offset i < k in the block, whose rows
        # (entries i, i + 2k, ... and i + k, i + 3k, ...) are long (a view of pairs of k
        # neighbours has inner lines of length k, and costs twice as much to sum)
        ab = sum(
            _dot(matrices[..., i : end : 2 * k], matrices[..., k + i : end : 2 * k])
            for i in range(k)
        )
        squares = z.column_squares
    else:  # views, no copies: the last axis stays the contiguous one
        view = matrices[:, :end].reshape(count, blocks, 2, k, columns)
        ab = _dot(view[:, :, 0], view[:, :, 1])
        squares = z.row_squares
    lines = squares[:end].reshape(blocks, 2, k)  # the lines of a, then of b
    return ab, float(lines[:, 0].sum()), float(lines[:, 1].sum()), pairs


def _pairs(matrices: np.ndarray, of: str) -> Correlation:
    """The most correlated pair of rows (of columns, given the transpose) of any matrix.

    The products run in float32 (half the time of float64). A float32 dot product of two unit
    vectors of length n is off by at most (n + 2)·2⁻²⁴ (n for the sum, 2 for rounding the
    entries); that much is taken off |r| before its p-value is computed, so the test stays
    conservative."""
    count, rows, n = matrices.shape
    name = f"independence between {of}"
    if rows < 2 or n < 2:
        return Correlation(name, 0.0, 0, 1, "")  # no pair: p = 1
    norms = np.sqrt(np.einsum("lij,lij->li", matrices, matrices))
    norms[norms == 0] = 1.0  # a zero row correlates with nothing
    # divided in float64 and rounded to float32 in one pass, in the layout of ``matrices``
    unit = np.empty_like(matrices, dtype=np.float32)
    np.divide(matrices, norms[:, :, None], out=unit, casting="unsafe")
    gram = unit @ unit.transpose(0, 2, 1)
    np.abs(gram, out=gram)
    gram.reshape(count, -1)[:, :: rows + 1] = 0.0  # the diagonal: a row with itself
    where = int(np.argmax(gram))  # into the flattened stack
    largest = min(float(gram.reshape(-1)[where]), 1.0)
    pairs = count * rows * (rows - 1) // 2
    rounding = (n + 2) * 2.0**-24

    def words() -> str:
        i, j = sorted(divmod(where % (rows * rows), rows))
        singular = of[:-1]
        return (
            f"{singular}s {i + 1} and {j + 1} are correlated (r = {largest:.3g})"
            + (": one is a copy of the other" if largest > 0.999 else "")
            + f"; every {singular} must be drawn independently of the others"
        )

    return Correlation(name, max(largest - rounding, 0.0), n, pairs, words)


def _calls(matrices: np.ndarray) -> Correlation:
    half = matrices.shape[0] // 2
    a, b = matrices[0 : 2 * half : 2], matrices[1 : 2 * half : 2]
    r = _correlation_of(_dot(a, b), _dot(a, a), _dot(b, b))

    def words() -> str:
        return (
            f"calls with different generators returned correlated values (r = {r:.3g})"
            + (": the same matrix every time" if r > 0.999 else "")
            + "; is `rng` used for every draw, with no seed of your own inside the function?"
        )

    return Correlation("independence between calls", abs(r), a.size, 1, words)


def _correlation(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Uncentred correlation of a with b (arrays of one shape) and its exact two-sided p-value
    under H0."""
    r = _correlation_of(_dot(a, b), _dot(a, a), _dot(b, b))
    return r, _beta_tail(abs(r), a.size)


def _correlation_of(ab: float, aa: float, bb: float) -> float:
    """r = ⟨a, b⟩ / (‖a‖‖b‖) from its three sums (0 where a or b is zero)."""
    norm = math.sqrt(aa * bb)  # correctly rounded, as np.sqrt
    return ab / norm if norm > 0 else 0.0


_SUBSCRIPTS = {ndim: f"{'abcdefgh'[:ndim]},{'abcdefgh'[:ndim]}->" for ndim in range(1, 9)}


def _dot(u: np.ndarray, v: np.ndarray) -> float:
    """Σ u·v over every entry of two arrays of one shape, strided views included (no copy)."""
    return float(np.einsum(_SUBSCRIPTS[u.ndim], u, v))


def _beta_tail(r: float, n: int) -> float:
    """P(|R| ≥ r) for R² ~ Beta(½, (n − 1)/2): the uncentred correlation of n independent
    pairs whose second member is i.i.d. normal."""
    if n < 2:
        return 1.0
    r2 = min(max(r * r, 0.0), 1.0)
    return float(_special().betainc((n - 1) / 2, 0.5, 1.0 - r2))


def _beta_tails(rs: list[float], ns: list[int]) -> list[float]:
    """``_beta_tail`` of each (r, n), in one vector call of betainc (the same numbers as one
    scalar call each)."""
    r2 = np.minimum(np.square(np.array(rs, dtype=np.float64)), 1.0)  # a square: ≥ 0 or NaN
    n = np.array(ns, dtype=np.float64)
    tails = _special().betainc((n - 1) / 2, 0.5, 1.0 - r2)
    return [1.0 if count < 2 else p for count, p in zip(ns, tails.tolist(), strict=True)]


def _binomial(count: int, n: int, p: float) -> float:
    special = _special()
    lower = special.bdtr(count, n, p)  # P(X ≤ count)
    upper = special.bdtrc(count - 1, n, p) if count > 0 else 1.0  # P(X ≥ count)
    return float(min(1.0, 2 * min(lower, upper)))


def _binomials(counts: list[int], n: int, ps: tuple[float, ...]) -> list[float]:
    """``_binomial`` of each count (of n trials, with its p), in one vector call of each tail:
    scipy's ufuncs give every element the same number as a scalar call."""
    special = _special()
    k = np.array(counts, dtype=np.int64)
    p = np.array(ps, dtype=np.float64)
    lower = special.bdtr(k, n, p)  # P(X ≤ count)
    upper = np.where(k > 0, special.bdtrc(np.maximum(k - 1, 0), n, p), 1.0)  # P(X ≥ count)
    return [min(1.0, 2 * v) for v in np.minimum(lower, upper).tolist()]


def _two_sided_chi2(statistic: float, dof: int) -> float:
    lower = _special().chdtr(dof, statistic)
    upper = _special().chdtrc(dof, statistic)
    return float(min(1.0, 2 * min(lower, upper)))


def _two_sided_normal(z: float) -> float:
    return float(2 * _special().ndtr(-abs(z)))


# --- the Bernoulli test ---------------------------------------------------------------------

VALUE_RTOL = 1e-9  # an entry "is" the value within this relative error (1/p in float64)


def test_bernoulli_sample(sample: np.ndarray, expected: Bernoulli, alpha: float) -> Evidence:
    """Test ``sample`` against ``expected`` at total level ``alpha`` (see the module's text)."""
    x = np.asarray(sample, dtype=np.float64)
    matrices = x.reshape(1, 1, -1) if x.ndim < 2 else x.reshape(-1, *x.shape[-2:])
    drawn = np.isclose(matrices, expected.value, rtol=VALUE_RTOL, atol=0.0)
    zero = matrices == 0.0
    findings = [_support(drawn | zero, x, expected), _drawn_count(drawn, expected.p)]
    findings += _pair_tests(drawn, expected.p**2 + (1 - expected.p) ** 2)
    level = alpha / len(findings)
    return Evidence(tuple(findings), level, float(x.mean()), float(x.var()), x.size)


def _pair_tests(categories: np.ndarray, q: float) -> list[Finding]:
    """Equal categories in disjoint neighbouring pairs of a stack of matrices (L, R, C):
    between calls (L ≥ 2), along rows and along columns; q is P(equal) under H0."""
    findings = []
    if categories.shape[0] >= 2:
        half = categories.shape[0] // 2
        calls = (categories[0 : 2 * half : 2], categories[1 : 2 * half : 2])
        findings.append(_equal_pairs(*calls, q, "between calls"))
    columns = categories.shape[-1] // 2 * 2
    rows = categories.shape[-2] // 2 * 2
    across = (categories[..., 0:columns:2], categories[..., 1:columns:2])
    findings.append(_equal_pairs(*across, q, "along rows, lag 1"))
    down = (categories[:, 0:rows:2], categories[:, 1:rows:2])
    findings.append(_equal_pairs(*down, q, "along columns, lag 1"))
    return findings


def _support(allowed: np.ndarray, x: np.ndarray, expected: Bernoulli) -> Finding:
    """Every entry is 0 or the value: certain under H0, so its p-value is 1 or 0."""
    outside = int(allowed.size - np.count_nonzero(allowed))
    if outside == 0:
        return Finding("values", "support", 1.0, "")
    seen = np.unique(x[np.isfinite(x)])[:4]
    words = (
        f"{outside:,} of {x.size:,} values are neither 0 nor {expected.value:.6g} (seen: "
        f"{', '.join(f'{v:.6g}' for v in seen)}{', ...' if seen.size == 4 else ''})"
    )
    return Finding("values", "support", 0.0, words)


def _drawn_count(drawn: np.ndarray, p: float) -> Finding:
    count, m = int(np.count_nonzero(drawn)), drawn.size
    words = (
        f"{count:,} of {m:,} entries are drawn (nonzero), a share of {count / max(m, 1):.4g} "
        f"where the probability is {p:.4g}"
    )
    return Finding("share drawn", "mean", _binomial(count, m, p), words)


def _equal_pairs(a: np.ndarray, b: np.ndarray, q: float, where: str) -> Finding:
    """Disjoint pairs (a, b): each is equal with probability q under H0, independently of the
    others, so the count of equal pairs is exactly Binomial(pairs, q)."""
    name = f"independence {where}"
    n = a.size
    if n == 0:
        return Finding(name, "dependence", 1.0, "")
    equal = int(np.count_nonzero(a == b))
    words = (
        f"{equal:,} of {n:,} neighbouring pairs ({where}) are equal where about {n * q:,.0f} "
        "would be: every entry must be drawn independently of the others"
    )
    return Finding(name, "dependence", _binomial(equal, n, q), words)


# --- the Uniform test -----------------------------------------------------------------------

UNIFORM_LOWER = (0.5, 0.25, 0.1)  # counts of u < c: a shifted, shrunk or lopsided range
UNIFORM_UPPER = (0.75, 0.9)  # counts of u ≥ c


def test_uniform_sample(sample: np.ndarray, expected: Uniform, alpha: float) -> Evidence:
    """Test ``sample`` against ``expected`` at total level ``alpha`` (see the module's text)."""
    x = np.asarray(sample, dtype=np.float64)
    matrices = x.reshape(1, 1, -1) if x.ndim < 2 else x.reshape(-1, *x.shape[-2:])
    u = (matrices - expected.low) / (expected.high - expected.low)
    inside = (matrices >= expected.low) & (matrices < expected.high)
    outside = int(inside.size - np.count_nonzero(inside))
    m = u.size
    words = (
        f"{outside:,} of {m:,} values lie outside [{expected.low:.4g}, {expected.high:.4g}) "
        f"(they run from {np.min(matrices):.4g} to {np.max(matrices):.4g})"
    )
    findings = [Finding("range", "support", 0.0 if outside else 1.0, words if outside else "")]
    for c in UNIFORM_LOWER:
        count = int(np.count_nonzero(u < c))
        text = f"{count:,} of {m:,} values lie in the lowest {c:.0%} of the range"
        findings.append(Finding(f"share below {c:g}", "shape", _binomial(count, m, c), text))
    for c in UNIFORM_UPPER:
        count = int(np.count_nonzero(u >= c))
        text = f"{count:,} of {m:,} values lie in the highest {1 - c:.0%} of the range"
        findings.append(Finding(f"share above {c:g}", "shape", _binomial(count, m, 1 - c), text))
    quarters = np.clip(np.floor(u * 4), -1, 4).astype(np.int8)
    findings += _pair_tests(quarters, 0.25)
    level = alpha / len(findings)
    return Evidence(tuple(findings), level, float(x.mean()), float(x.var()), x.size)


# --- the Categorical test -------------------------------------------------------------------


def _cells(x: np.ndarray, values: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The index of the value each entry is (relative error ≤ VALUE_RTOL), -1 for none, and the
    entries that are more than one value (non-empty only for values too close together)."""
    index = np.full(x.shape, -1, dtype=np.int32)
    twice = np.zeros(x.shape, dtype=bool)
    for i, value in enumerate(values):
        match = np.isclose(x, value, rtol=VALUE_RTOL, atol=0.0)
        twice |= match & (index >= 0)
        index[match] = i
    return index, np.flatnonzero(twice)


def test_categorical_sample(sample: np.ndarray, expected: Categorical, alpha: float) -> Evidence:
    """Test ``sample`` against ``expected`` at total level ``alpha`` (see the module's text)."""
    x = np.asarray(sample, dtype=np.float64)
    matrices = x.reshape(1, 1, -1) if x.ndim < 2 else x.reshape(-1, *x.shape[-2:])
    index, _ = _cells(matrices, expected.values)
    findings = [_categorical_support(index, x, expected)]
    findings += _shares(index, expected)
    findings += _pair_tests(index, float(np.sum(np.square(expected.probabilities))))
    level = alpha / len(findings)
    return Evidence(tuple(findings), level, float(x.mean()), float(x.var()), x.size)


def _categorical_support(index: np.ndarray, x: np.ndarray, expected: Categorical) -> Finding:
    """Every entry is one of the values: certain under H0, so its p-value is 1 or 0."""
    outside = int(np.count_nonzero(index < 0))
    if outside == 0:
        return Finding("values", "support", 1.0, "")
    strays = np.unique(x.ravel()[(index < 0).ravel()])[:4]
    allowed = ", ".join(f"{v:.6g}" for v in expected.values)
    words = (
        f"{outside:,} of {x.size:,} values are none of {allowed} (seen: "
        f"{', '.join(f'{v:.6g}' for v in strays)}{', ...' if strays.size == 4 else ''})"
    )
    return Finding("values", "support", 0.0, words)


def _shares(index: np.ndarray, expected: Categorical) -> list[Finding]:
    """The count of each value: exactly Binomial(m, p) under H0, one exact test per value."""
    m = index.size
    counts = np.bincount(index[index >= 0].ravel(), minlength=len(expected.values))
    findings = []
    for value, p, count in zip(expected.values, expected.probabilities, counts, strict=True):
        words = (
            f"{value:.6g} makes up {count / m:.4g} of the values where its probability is "
            f"{p:.4g} ({int(count):,} of {m:,} entries, about {m * p:,.0f} expected)"
        )
        p_value = _binomial(int(count), m, p)
        findings.append(Finding(f"share of {value:.6g}", "shape", p_value, words))
    return findings


# kept for the callers of the earlier API
SampleTest = Evidence


def variance_consistent(sample: np.ndarray, expected: Normal, alpha: float) -> bool:
    """Whether ``expected`` explains the sample by its full test (see ``Normal.explains``)."""
    return expected.explains(sample, alpha)


__all__ = [
    "DISTRIBUTIONS",
    "Bernoulli",
    "Categorical",
    "Distribution",
    "Evidence",
    "Finding",
    "Normal",
    "Uniform",
    "distribution_from_json",
    "test_bernoulli_sample",
    "test_categorical_sample",
    "test_normal_sample",
    "test_uniform_sample",
    "tests_run",
]
