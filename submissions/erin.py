"""Exercise Sheet 3 -- Erin

Solutions as a plain module (I don't like notebooks). Written answers are on paper.

Ex 1: f(x) = w^T x, J(w) = E[1/2 (w^T x - t)^2], x ~ N(mu, sigma^2 I), t = v^T x + eps
Ex 2: He init for ReLU, N(0, 1/n) for tanh
"""

import math

import numpy as np


# ---------------------------------------------------------------- Exercise 1 (a)

def hessian(X):
    """Hessian of J from the samples X (N x d): (1/N) sum_k x_k x_k^T."""
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    H = np.zeros((d, d))
    for k in range(n):
        for i in range(d):
            for j in range(d):
                H[i, j] += X[k, i] * X[k, j]
    return H / n


def hessian_gaussian(mu, sigma):
    """sigma^2 I + mu mu^T, written with einsum."""
    mu = np.asarray(mu, dtype=float)
    d = mu.shape[0]
    return sigma ** 2 * np.eye(d) + np.einsum("i,j->ij", mu, mu)


# ---------------------------------------------------------------- Exercise 1 (b)

def condition_number(mu, sigma):
    """lambda_1 / lambda_d = (sigma^2 + |mu|^2) / sigma^2, as a Python float."""
    norm_sq = 0.0
    for m in mu:
        norm_sq += float(m) * float(m)
    s2 = float(sigma) ** 2
    return (s2 + norm_sq) / s2


# ---------------------------------------------------------------- Exercise 1 (c)

def center(X):
    """Subtract the column means. Returns a new list of lists, X is left alone."""
    rows = [[float(value) for value in row] for row in np.asarray(X)]
    n = len(rows)
    means = [sum(column) / n for column in zip(*rows)]
    centered = np.array([[value - m for value, m in zip(row, means)] for row in rows])
    return centered.tolist()


def centered_min_error(mu, sigma, v, noise_var):
    """1/2 ((v^T mu)^2 + Var eps): the offset v^T mu can't be fitted without a bias."""
    offset = sum(float(a) * float(b) for a, b in zip(v, mu))
    return 0.5 * (offset * offset + float(noise_var))


# ---------------------------------------------------------------- Exercise 2

def he_init(n_in, n_out, rng=None):
    """W ~ N(0, 2/n_in), shape (n_out, n_in)."""
    return np.random.normal(loc=0.0, scale=math.sqrt(2.0 / n_in), size=(n_out, n_in))


def tanh_init(n_in, n_out, rng=None):
    """tanh(z) ~ z near 0, so no factor 2: W ~ N(0, 1/n_in)."""
    return np.random.normal(loc=0.0, scale=math.sqrt(1.0 / n_in), size=(n_out, n_in))


_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
}


def preactivation_variances(x, weights, activation):
    """Var(z_l) for every layer, returned as a list of Python floats."""
    act = _ACTIVATIONS[activation]
    a = np.asarray(x, dtype=float)
    result = []
    for W in weights:
        z = np.einsum("bj,ij->bi", a, np.asarray(W, dtype=float))
        result.append(float(np.mean((z - z.mean()) ** 2)))
        a = act(z)
    return result


if __name__ == "__main__":
    np.random.seed(0)
    mu, sigma = np.array([1.0, 2.0, -1.0]), 0.5
    X = np.random.normal(mu, sigma, size=(5000, 3))
    print("sample Hessian:\n", np.round(hessian(X), 2))
    print("exact:\n", hessian_gaussian(mu, sigma))
    print("condition number:", condition_number(mu, sigma))
    x = np.random.normal(size=(512, 200))
    layers = [he_init(200, 200) for _ in range(10)]
    print("Var(z_l), He + ReLU:", np.round(preactivation_variances(x, layers, "relu"), 3))
