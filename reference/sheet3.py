"""Reference for Exercise Sheet 3: correct answers, case generators and known wrong answers.

Instructor side only. The grader calls these in its own process; neither this file nor its
hidden cases ever reach a student's machine or a sandboxed child.
"""

from __future__ import annotations

import functools

import numpy as np

from grader.api import Normal, Plot, Rng, Verdict

# --- Exercise 1: the Hessian of the mean squared error -------------------------------------


def hessian(X):
    """H = E[x xᵀ] over the samples: Xᵀ X / N (independent of w and t)."""
    X = np.asarray(X, dtype=float)
    return X.T @ X / X.shape[0]


def hessian_gaussian(mu, sigma):
    """For x ~ N(μ, σ² I): E[x xᵀ] = σ² I + μ μᵀ."""
    mu = np.asarray(mu, dtype=float)
    return sigma**2 * np.eye(mu.size) + np.outer(mu, mu)


def condition_number(mu, sigma):
    """λ₁ / λ_d of σ² I + μ μᵀ: 1 + ‖μ‖² / σ²."""
    return float(1 + np.dot(mu, mu) / sigma**2)


def center(X):
    """X minus its column means, as a new array."""
    X = np.asarray(X, dtype=float)
    return X - X.mean(axis=0)


def centered_min_error(mu, sigma, v, noise_var):
    """Lowest J of a bias-free model wᵀ(x − μ) when t = vᵀx + ε: ½((vᵀμ)² + Var ε)."""
    return float(0.5 * (np.dot(v, mu) ** 2 + noise_var))


# --- Exercise 2: initialization --------------------------------------------------------------


def he_init(n_in, n_out, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_out, n_in))


def tanh_init(n_in, n_out, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(0.0, np.sqrt(1.0 / n_in), size=(n_out, n_in))


def he_init_distribution(n_in, n_out, rng=None):
    return Normal((n_out, n_in), 2.0 / n_in)


def tanh_init_distribution(n_in, n_out, rng=None):
    return Normal((n_out, n_in), 1.0 / n_in)


ACTIVATIONS = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh, "identity": lambda z: z}


def preactivation_variances(x, weights, activation):
    """np.var(z_l) for each layer, with z₁ = x W₁ᵀ and z_{l+1} = act(z_l) W_{l+1}ᵀ."""
    return _layer_statistics(x, weights, activation, of="z")


def _layer_statistics(x, weights, activation, of="z", ddof=0):
    act = ACTIVATIONS[activation]
    a = np.asarray(x, dtype=float)
    out = []
    for W in weights:
        z = a @ np.asarray(W, dtype=float).T
        a = act(z)
        out.append(np.var(z if of == "z" else a, ddof=ddof))
    return np.array(out)


# --- case generators: each takes a numpy Generator and returns the call's arguments ---------


def _mean_vector(rng, d, ratio, sigma):
    """A mean of dimension d with ‖μ‖ / σ = ratio."""
    direction = rng.normal(size=d)
    return direction / np.linalg.norm(direction) * ratio * sigma


def data_cases(rng):
    n, d = int(rng.integers(40, 80)), int(rng.integers(3, 7))
    mu = rng.normal(size=d) + 1.5
    return (rng.normal(mu, 0.8, size=(n, d)),)


def gaussian_cases(rng):
    d = int(rng.integers(3, 7))
    sigma = float(rng.uniform(0.4, 0.8) if rng.random() < 0.5 else rng.uniform(1.3, 2.5))
    return (
        _mean_vector(
            rng, d, rng.uniform(0.5, 0.85) if rng.random() < 0.5 else rng.uniform(1.3, 3.0), sigma
        ),
        sigma,
    )


def min_error_cases(rng):
    mu, sigma = gaussian_cases(rng)
    v = rng.normal(size=mu.size)
    return (mu, sigma, v, float(rng.uniform(0.05, 0.5)))


def init_cases(rng):
    """Fan-in ≠ fan-out, in ratios (1.6 or 1/2.8) that keep the variances of He, LeCun, Glorot,
    fan-out and the tanh choices at least 25% apart, with 8,000 to 23,000 weights a sample."""
    return _init_shape(rng, wide=(72, 121), narrow=(160, 231))


def hidden_init_cases(rng):
    """As ``init_cases``, with 8,000 to 11,600 weights a sample: the hidden matrices bring
    other shapes (a mistake named on a fan-in the public case does not have), not power (a
    variance known to about 1.6%, where the mistakes are 25% apart); the network case carries
    the power."""
    return _init_shape(rng, wide=(72, 85), narrow=(160, 181))


def _init_shape(rng, wide, narrow):
    """n_out = 1.6 n_in with n_in in ``wide`` [low, high), or n_in / 2.8 with it in ``narrow``."""
    if rng.random() < 0.5:
        n_in = int(rng.integers(*wide))
        n_out = round(1.6 * n_in)
    else:
        n_in = int(rng.integers(*narrow))
        n_out = round(n_in / 2.8)
    return (n_in, n_out, Rng(int(rng.integers(2**31))))


def calls_cases(rng):
    """Four calls of one shape (fan-out = 1.6 × fan-in), 45,000 to 59,000 weights in all: the
    public case that sees a 5% variance error (z ≈ 0.05·√(m/2) ≥ 7.5 against a threshold of
    5.6), wrong tails and a function that ignores `rng`, in as few weights as that takes."""
    n_in = int(rng.integers(84, 97))
    return {"args": (n_in, round(1.6 * n_in), Rng(int(rng.integers(2**31)))), "repeat": 4}


def network_cases(rng):
    """Ten square layers, drawn by ten calls: 73,960 weights, the power of the check (enough
    for a 5% variance error and a Student-t(30) at 0.999: grader/check/stats.py), and the
    depth picture."""
    width = 86
    return {"args": (width, width, Rng(int(rng.integers(2**31)))), "repeat": 10}


def network_inputs(rng, activation):
    widths = [int(w) for w in rng.integers(6, 14, size=5)]
    x = rng.normal(size=(64, widths[0]))
    weights = [rng.normal(0, np.sqrt(2.0 / a), size=(b, a)) for a, b in zip(widths, widths[1:])]
    return (x, weights, activation)


def relu_network_cases(rng):
    return network_inputs(rng, "relu")


def tanh_network_cases(rng):
    return network_inputs(rng, "tanh")


# --- known wrong answers ---------------------------------------------------------------------


def hessian_half(X):
    return 0.5 * hessian(X)


def hessian_summed(X):
    X = np.asarray(X, dtype=float)
    return X.T @ X


def hessian_gram(X):
    X = np.asarray(X, dtype=float)
    return X @ X.T / X.shape[0]


def hessian_covariance(X):
    return np.cov(np.asarray(X, dtype=float), rowvar=False)


def hessian_n_minus_one(X):
    X = np.asarray(X, dtype=float)
    return X.T @ X / (X.shape[0] - 1)


def hessian_cov_plus_mean(X):
    X = np.asarray(X, dtype=float)
    mean = X.mean(axis=0)
    return np.cov(X, rowvar=False) + np.outer(mean, mean)


def gaussian_without_mean(mu, sigma):
    return sigma**2 * np.eye(np.asarray(mu).size)


def gaussian_with_sigma(mu, sigma):
    mu = np.asarray(mu, dtype=float)
    return sigma * np.eye(mu.size) + np.outer(mu, mu)


def condition_without_one(mu, sigma):
    return float(np.dot(mu, mu) / sigma**2)


def condition_with_norm(mu, sigma):
    return float(1 + np.linalg.norm(mu) / sigma)


def condition_inverted(mu, sigma):
    return 1.0 / condition_number(mu, sigma)


def center_overall_mean(X):
    X = np.asarray(X, dtype=float)
    return X - X.mean()


def center_median(X):
    X = np.asarray(X, dtype=float)
    return X - np.median(X, axis=0)


def center_row_means(X):
    X = np.asarray(X, dtype=float)
    return X - X.mean(axis=1, keepdims=True)


def min_error_without_half(mu, sigma, v, noise_var):
    return 2 * centered_min_error(mu, sigma, v, noise_var)


def min_error_without_noise(mu, sigma, v, noise_var):
    return float(0.5 * np.dot(v, mu) ** 2)


def he_lecun(n_in, n_out, rng=None):
    return Normal((n_out, n_in), 1.0 / n_in)


def he_std_as_variance(n_in, n_out, rng=None):
    return Normal((n_out, n_in), (2.0 / n_in) ** 2)


def he_glorot(n_in, n_out, rng=None):
    return Normal((n_out, n_in), 2.0 / (n_in + n_out))


def he_fan_out(n_in, n_out, rng=None):
    return Normal((n_out, n_in), 2.0 / n_out)


def he_transposed(n_in, n_out, rng=None):
    return Normal((n_in, n_out), 2.0 / n_in)


def tanh_with_he(n_in, n_out, rng=None):
    return Normal((n_out, n_in), 2.0 / n_in)


def tanh_glorot(n_in, n_out, rng=None):
    return Normal((n_out, n_in), 2.0 / (n_in + n_out))


def tanh_fan_out(n_in, n_out, rng=None):
    return Normal((n_out, n_in), 1.0 / n_out)


def tanh_transposed(n_in, n_out, rng=None):
    return Normal((n_in, n_out), 1.0 / n_in)


def variances_without_activation(x, weights, activation):
    return _layer_statistics(x, weights, "identity")


def variances_wrong_activation(x, weights, activation):
    return _layer_statistics(x, weights, "tanh" if activation == "relu" else "relu")


def variances_of_activations(x, weights, activation):
    return _layer_statistics(x, weights, activation, of="a")


def variances_with_ddof(x, weights, activation):
    return _layer_statistics(x, weights, activation, ddof=1)


# --- the depth picture: the student's weights pushed through a deep network, here -----------
#
# The hidden network case's ten 86×86 layers are tested exactly like every other sample
# (grader/check/stats.py); this function only draws what they do to a network and says it in
# words when the variance drifts. Its verdict never fails a case by itself (the engine keeps
# the statistical verdict), so it spends none of the check's 1e-6: anything it could see (a
# per-layer growth of √2 is a 41% variance error) the exact variance test on the same 73,960
# weights sees at well over 50 standard deviations. The statistic is the geometric-mean growth
# of Var(z_l) per layer, g = (v_L / v_1)^(1/(L-1)); for correct He weights log g has mean
# ≈ -0.01 and standard deviation 0.059 (tests/test_stats.py re-measures it).

GROWTH_BOUND = float(np.sqrt(2.0))  # per layer, Var(z) may grow or shrink by at most √2


def relu_depth(value, n_in, n_out, rng=None):
    return _depth(value, "relu", reference=he_init, name="He initialization")


def tanh_depth(value, n_in, n_out, rng=None):
    return _depth(value, "tanh", reference=tanh_init, name="N(0, 1/n)", input_std=0.1)


def depth_growth(weights, activation, input_std=1.0):
    """Var(z_l) per layer for a fixed batch, and its geometric-mean growth per layer."""
    x = np.random.default_rng(2024).normal(0.0, input_std, size=(256, weights[0].shape[1]))
    variances = _layer_statistics(x, list(weights), activation)
    if variances[0] <= 0 or not np.all(np.isfinite(variances)):
        return variances, float("inf")
    return variances, float((variances[-1] / variances[0]) ** (1 / (len(variances) - 1)))


@functools.lru_cache(maxsize=8)
def _reference_curve(reference, activation, layers, width, input_std):
    """The reference initializer's curve on the same batch (the same for every student)."""
    rng = np.random.default_rng(7)
    weights = [reference(width, width, rng) for _ in range(layers)]
    return depth_growth(weights, activation, input_std)[0]


def _depth(value, activation, reference, name, input_std=1.0):
    """Pass a fixed batch through the student's layers: the variance must stay flat."""
    try:
        weights = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return Verdict(
            False, "the weights are not an array of numbers", summary="not an array of numbers"
        )
    if weights.ndim != 3 or weights.shape[1] != weights.shape[2] or not np.isfinite(weights).all():
        text = "ten calls with n_in = n_out should give ten finite square matrices"
        return Verdict(False, text, summary=text)
    layers, width = weights.shape[0], weights.shape[1]
    yours, growth = depth_growth(weights, activation, input_std)
    expected = _reference_curve(reference, activation, layers, width, input_std)
    plot = Plot(
        title=f"Pre-activation variance through {layers} {activation} layers",
        x_label="layer",
        y_label="Var(z_l)",
        series={"your weights": yours.tolist(), f"{name} (reference)": expected.tolist()},
        log_y=True,
    )
    if 1 / GROWTH_BOUND <= growth <= GROWTH_BOUND:
        return Verdict(
            True,
            f"the variance stays flat over {layers} layers",
            plot=plot,
            summary="the variance stays flat through a deep network",
        )
    direction = "grows" if growth > 1 else "shrinks"
    text = (
        f"through a {layers}-layer {activation} network the pre-activation variance "
        f"{direction} by a factor {growth:.3g} per layer, to {yours[-1] / yours[0]:.3g}× "
        f"its first-layer value at layer {layers}"
    )
    return Verdict(False, text, plot=plot, summary=text)
