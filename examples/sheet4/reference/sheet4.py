"""Reference for Exercise Sheet 4 (softmax, logsumexp, dropout, sampling): the worked example of
docs/authoring.md. The correct functions, the case generators, the known wrong answers and one
comparator of the course's own; rubrics/sheet4.yaml names everything used here.
"""

from __future__ import annotations

import numpy as np

from grader.api import Bernoulli, Categorical, Rng, Verdict

# --- the correct functions -------------------------------------------------------------------


def softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def softmax_ce_grad(logits, labels):
    """∂/∂logits of the mean cross-entropy (1/N) Σ_n −log softmax(logits_n)[labels_n]."""
    grad = softmax(logits)
    grad[np.arange(len(labels)), labels] -= 1.0
    return grad / len(labels)


def logsumexp(z):
    """log Σ_k exp(z[n, k]) for every row n, without overflow: shift by the row maximum."""
    top = z.max(axis=1)
    return top + np.log(np.exp(z - top[:, None]).sum(axis=1))


def dropout_mask(n, d, p, rng):
    """An inverted-dropout mask: each entry dropped (0) with probability p, else 1/(1 − p)."""
    return (rng.random((n, d)) >= p) / (1.0 - p)


def dropout_mask_distribution(n, d, p, rng=None):
    return Bernoulli((n, d), 1.0 - p, 1.0 / (1.0 - p))


def sample_labels(logits, n, rng):
    """n class labels 0 … K − 1, each drawn with the softmax probability of its logit."""
    return rng.choice(len(logits), size=n, p=softmax(logits[None, :])[0])


def labels_distribution(logits, n, rng=None):
    return Categorical((n,), range(len(logits)), softmax(logits[None, :])[0])


# --- case generators: each takes a numpy Generator and returns one call's arguments ---------


def logits_cases(rng):
    n, k = int(rng.integers(5, 12)), int(rng.integers(3, 8))
    return (rng.normal(0.0, 3.0, size=(n, k)), rng.integers(0, k, size=n))


def moderate_cases(rng):
    return (rng.normal(0.0, 4.0, size=(int(rng.integers(4, 9)), int(rng.integers(3, 7)))),)


def large_cases(rng):
    """Logits of several hundred: exp() overflows float64 beyond about 709."""
    z = rng.normal(0.0, 4.0, size=(int(rng.integers(4, 9)), int(rng.integers(3, 7))))
    return (z + rng.uniform(750.0, 1000.0) * rng.choice([-1.0, 1.0]),)


def mask_cases(rng):
    """p between 0.2 and 0.35, so that keep and drop cannot coincide; 6,000 to 14,000 entries
    (the share test sees keep and drop swapped at z > 30)."""
    n, d = int(rng.integers(60, 101)), int(rng.integers(100, 141))
    return (n, d, float(rng.uniform(0.2, 0.35)), Rng(int(rng.integers(2**31))))


def mask_calls_cases(rng):
    """Three calls: a seed fixed inside the function gives the same mask each time."""
    n, d = int(rng.integers(40, 61)), int(rng.integers(60, 81))
    args = (n, d, float(rng.uniform(0.2, 0.35)), Rng(int(rng.integers(2**31))))
    return {"args": args, "repeat": 3}


def labels_cases(rng):
    """K = 4 to 7 classes, 5,000 labels, logits spread enough that some class is at least 0.08
    away from 1/K (the uniform mistake then differs by more than 10 standard deviations)."""
    while True:
        k = int(rng.integers(4, 8))
        logits = rng.normal(0.0, 1.5, size=k)
        if np.max(np.abs(softmax(logits[None, :])[0] - 1.0 / k)) >= 0.08:
            return (logits, 5000, Rng(int(rng.integers(2**31))))


def labels_calls_cases(rng):
    """Three calls: a seed fixed inside the function draws the same labels each time."""
    logits, n, labels_rng = labels_cases(rng)
    return {"args": (logits, 2000, labels_rng), "repeat": 3}


# --- known wrong answers ---------------------------------------------------------------------


def grad_summed(logits, labels):
    return softmax_ce_grad(logits, labels) * len(labels)


def grad_sign_flipped(logits, labels):
    return -softmax_ce_grad(logits, labels)


def grad_softmax_over_samples(logits, labels):
    e = np.exp(logits - logits.max(axis=0, keepdims=True))
    grad = e / e.sum(axis=0, keepdims=True)
    grad[np.arange(len(labels)), labels] -= 1.0
    return grad / len(labels)


def logsumexp_over_columns(z):
    top = z.max(axis=0)
    return top + np.log(np.exp(z - top[None, :]).sum(axis=0))


def mask_not_rescaled(n, d, p, rng=None):
    return Bernoulli((n, d), 1.0 - p, 1.0)


def mask_keep_drop_swapped(n, d, p, rng=None):
    return Bernoulli((n, d), p, 1.0 / p)


def mask_scaled_by_p(n, d, p, rng=None):
    return Bernoulli((n, d), 1.0 - p, 1.0 / p)


def labels_uniform(logits, n, rng=None):
    return Categorical((n,), range(len(logits)), [1.0 / len(logits)] * len(logits))


def labels_from_one(logits, n, rng=None):
    return Categorical((n,), range(1, len(logits) + 1), softmax(logits[None, :])[0])


# --- a comparator of the course's own: value first, then the call's arguments --------------


def finite_logsumexp(value, z):
    """The stable answer for logits that overflow exp(); an inf or nan is the unstable
    formula, named as that mistake (rubric: a mistake with a name and a message alone)."""
    want = logsumexp(z)
    try:
        got = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return Verdict(False, "not an array of numbers", summary="not an array of numbers")
    if got.shape != want.shape:
        text = f"expected a vector of length {want.size}, got shape {got.shape}"
        return Verdict(False, text, summary="the result has the wrong shape")
    if not np.isfinite(got).all():
        text = (
            f"the result contains {got[~np.isfinite(got)][0]} for logits near "
            f"{z.mean():.0f}, where the answer is finite ({want[0]:.6g} for the first row)"
        )
        return Verdict(False, text, mistake="exp overflowing", summary="the result overflows")
    if np.allclose(got, want, rtol=1e-9, atol=1e-9):
        return Verdict(True, "correct", summary="correct")
    text = f"expected {want[0]:.10g} for the first row, got {got[0]:.10g}"
    return Verdict(False, text, summary="wrong value for large logits")
