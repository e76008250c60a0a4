"""Every known mistake of the sheet3 rubric, written as a student would write it, is failed,
scores 0 and is named in the feedback; and correct answers in many styles pass in full.
"""

from __future__ import annotations

import pytest
from conftest import by_id, grade_code

# (check id, the mistake's name in rubrics/sheet3.yaml) -> a student's module
MISTAKES: dict[tuple[str, str], str] = {
    # --- 1a.hessian ---------------------------------------------------------------------------
    ("1a.hessian", "the ½ factor kept"): """
        import numpy as np

        def hessian(X):
            # J(w) = 1/2 * mean((w^T x - t)^2), so the Hessian keeps the 1/2
            N = X.shape[0]
            return 0.5 * (X.T @ X) / N
        """,
    ("1a.hessian", "a sum instead of a mean"): """
        import numpy as np

        def hessian(X):
            return X.T.dot(X)
        """,
    ("1a.hessian", "X Xᵀ instead of Xᵀ X"): """
        import numpy as np

        def hessian(X):
            n = len(X)
            return X @ X.T / n
        """,
    ("1a.hessian", "the covariance instead of the second moment"): """
        import numpy as np

        def hessian(X):
            return np.cov(X.T)
        """,
    ("1a.hessian", "XᵀX / (N − 1)"): """
        import numpy as np

        def hessian(X):
            N = X.shape[0]
            return X.T @ X / (N - 1)  # unbiased, as for a covariance
        """,
    ("1a.hessian", "np.cov with its default ddof=1, plus μμᵀ"): """
        import numpy as np

        def hessian(X):
            mu = X.mean(axis=0)
            return np.cov(X, rowvar=False) + np.outer(mu, mu)  # E[xxᵀ] = Cov + μμᵀ
        """,
    # --- 1a.hessian_gaussian ------------------------------------------------------------------
    ("1a.hessian_gaussian", "the mean term left out"): """
        import numpy as np

        def hessian_gaussian(mu, sigma):
            d = len(mu)
            return sigma ** 2 * np.identity(d)
        """,
    ("1a.hessian_gaussian", "σ instead of σ²"): """
        import numpy as np

        def hessian_gaussian(mu, sigma):
            return sigma * np.eye(mu.shape[0]) + np.outer(mu, mu)
        """,
    # --- 1b.condition_number ------------------------------------------------------------------
    ("1b.condition_number", "the 1 left out"): """
        import numpy as np

        def condition_number(mu, sigma):
            return np.dot(mu, mu) / sigma**2
        """,
    ("1b.condition_number", "‖μ‖ instead of ‖μ‖²"): """
        import numpy as np

        def condition_number(mu, sigma):
            return 1 + np.linalg.norm(mu) / sigma
        """,
    ("1b.condition_number", "the ratio inverted"): """
        import numpy as np

        def condition_number(mu, sigma):
            H = sigma**2 * np.eye(len(mu)) + np.outer(mu, mu)
            eigenvalues = np.linalg.eigvalsh(H)  # ascending
            return eigenvalues[0] / eigenvalues[-1]
        """,
    # --- 1c.center ----------------------------------------------------------------------------
    ("1c.center", "one overall mean"): """
        import numpy as np

        def center(X):
            return X - np.mean(X)
        """,
    ("1c.center", "centering by the median"): """
        import numpy as np

        def center(X):
            return X - np.median(X, axis=0)
        """,
    ("1c.center", "centering by row means"): """
        import numpy as np

        def center(X):
            return X - X.mean(axis=1, keepdims=True)
        """,
    ("1c.center", "centering in place"): """
        def center(X):
            X -= X.mean(axis=0)
            return X
        """,
    # --- 1c.centered_min_error ----------------------------------------------------------------
    ("1c.centered_min_error", "the ½ left out"): """
        import numpy as np

        def centered_min_error(mu, sigma, v, noise_var):
            bias = v @ mu  # what a bias-free centered model cannot fit
            return bias**2 + noise_var
        """,
    ("1c.centered_min_error", "the noise left out"): """
        import numpy as np

        def centered_min_error(mu, sigma, v, noise_var):
            return 0.5 * float(np.dot(v, mu)) ** 2
        """,
    # --- 2a.he_init ---------------------------------------------------------------------------
    ("2a.he_init", "LeCun's 1/n"): """
        import numpy as np

        def he_init(n_in, n_out, rng=None):
            if rng is None:
                rng = np.random.default_rng()
            return rng.normal(0.0, np.sqrt(1.0 / n_in), size=(n_out, n_in))
        """,
    ("2a.he_init", "the standard deviation set to 2/n"): """
        import numpy as np

        def he_init(n_in, n_out, rng=None):
            rng = rng or np.random.default_rng()
            return rng.normal(0, 2 / n_in, (n_out, n_in))
        """,
    ("2a.he_init", "Glorot's 2/(n_in + n_out)"): """
        import numpy as np

        def he_init(n_in, n_out, rng=None):
            rng = np.random.default_rng() if rng is None else rng
            std = np.sqrt(2 / (n_in + n_out))
            return std * rng.standard_normal((n_out, n_in))
        """,
    ("2a.he_init", "fan-out instead of fan-in"): """
        import numpy as np

        def he_init(n_in, n_out, rng=None):
            rng = np.random.default_rng() if rng is None else rng
            return rng.normal(0, np.sqrt(2 / n_out), size=(n_out, n_in))
        """,
    ("2a.he_init", "the shape transposed"): """
        import numpy as np

        def he_init(n_in, n_out, rng=None):
            rng = np.random.default_rng() if rng is None else rng
            return rng.normal(0, np.sqrt(2 / n_in), size=(n_in, n_out))
        """,
    # --- 2a.preactivation_variances -----------------------------------------------------------
    ("2a.preactivation_variances", "the activation left out"): """
        import numpy as np

        def preactivation_variances(x, weights, activation):
            variances = []
            a = x
            for W in weights:
                z = a @ W.T
                variances.append(np.var(z))
                a = z
            return np.array(variances)
        """,
    ("2a.preactivation_variances", "the other activation"): """
        import numpy as np

        def preactivation_variances(x, weights, activation):
            if activation == "tanh":
                act = lambda z: np.maximum(0, z)
            else:
                act = np.tanh
            variances = []
            a = x
            for W in weights:
                z = a @ W.T
                variances.append(z.var())
                a = act(z)
            return np.array(variances)
        """,
    ("2a.preactivation_variances", "the activations' variance instead of the pre-activations'"): """
        import numpy as np

        def preactivation_variances(x, weights, activation):
            act = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}[activation]
            result = []
            a = x
            for W in weights:
                a = act(a @ W.T)
                result.append(np.var(a))
            return np.array(result)
        """,
    ("2a.preactivation_variances", "the sample variance (ddof=1)"): """
        import numpy as np

        def preactivation_variances(x, weights, activation):
            out = []
            h = x
            for W in weights:
                z = h @ W.T
                out.append(np.var(z, ddof=1))
                h = np.maximum(z, 0) if activation == "relu" else np.tanh(z)
            return np.array(out)
        """,
    # --- 2b.tanh_init -------------------------------------------------------------------------
    ("2b.tanh_init", "He's 2/n for tanh"): """
        import numpy as np

        def tanh_init(n_in, n_out, rng=None):
            rng = np.random.default_rng() if rng is None else rng
            return rng.normal(0, np.sqrt(2 / n_in), size=(n_out, n_in))
        """,
    ("2b.tanh_init", "Glorot's 2/(n_in + n_out) for tanh"): """
        import numpy as np

        def tanh_init(n_in, n_out, rng=None):
            rng = np.random.default_rng() if rng is None else rng
            limit = np.sqrt(2.0 / (n_in + n_out))  # Xavier
            return rng.normal(0.0, limit, size=(n_out, n_in))
        """,
    ("2b.tanh_init", "fan-out instead of fan-in"): """
        import numpy as np

        def tanh_init(n_in, n_out, rng=None):
            rng = np.random.default_rng() if rng is None else rng
            return rng.normal(0, 1 / np.sqrt(n_out), size=(n_out, n_in))
        """,
    ("2b.tanh_init", "the shape transposed"): """
        import numpy as np

        def tanh_init(n_in, n_out, rng=None):
            rng = np.random.default_rng() if rng is None else rng
            return rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        """,
}


@pytest.mark.parametrize("check_id, name", list(MISTAKES), ids=[f"{c}: {n}" for c, n in MISTAKES])
def test_a_known_mistake_is_failed_scored_zero_and_named(tmp_path, plan, check_id, name):
    check = by_id(grade_code(tmp_path, MISTAKES[check_id, name], plan, check_id))[check_id]
    assert check.status == "failed", check.feedback
    assert check.score == 0
    assert name in check.feedback
    assert all(case.mistake == name for case in check.cases if case.mistake)


# --- wrong in a way no distribution mistake explains: explained in plain words, not named ---

UNNAMED: dict[str, tuple[str, str]] = {
    "identical rows": (
        """
        import numpy as np

        def he_init(n_in, n_out, rng=None):
            rng = np.random.default_rng() if rng is None else rng
            row = rng.normal(0, np.sqrt(2 / n_in), n_in)
            return np.tile(row, (n_out, 1))
        """,
        "one is a copy of the other",
    ),
    "a fixed seed inside": (
        """
        import numpy as np

        def he_init(n_in, n_out, rng=None):
            rng = np.random.default_rng(42)  # reproducible!
            return rng.normal(0, np.sqrt(2 / n_in), (n_out, n_in))
        """,
        "the same matrix every time",
    ),
    "variance 5% too large": (
        """
        import numpy as np

        def he_init(n_in, n_out, rng=None):
            return rng.normal(0, np.sqrt(2.1 / n_in), (n_out, n_in))
        """,
        "the variance is 1.0",
    ),
    "Student-t tails": (
        """
        import numpy as np

        def he_init(n_in, n_out, rng=None):
            return rng.standard_t(10, (n_out, n_in)) * np.sqrt(2 / n_in * 8 / 10)
        """,
        "the tails are heavier than a normal's",
    ),
}


@pytest.mark.parametrize("style", list(UNNAMED))
def test_a_wrong_initializer_no_mistake_explains_is_described_not_named(tmp_path, plan, style):
    """Issue 10, item 4: identical rows were once told "Glorot's 2/(n_in + n_out)"."""
    source, words = UNNAMED[style]
    check = by_id(grade_code(tmp_path, source, plan, "2a.he_init"))["2a.he_init"]
    assert check.status == "failed" and check.score == 0
    assert not any(case.mistake for case in check.cases), check.feedback
    assert "known mistake" not in check.feedback
    assert words in check.feedback, check.feedback
    assert "Every case must pass for these points (all or nothing)" in check.feedback


def test_every_mistake_of_the_rubric_has_a_test(sheet3):
    in_rubric = {(spec.id, m.name) for spec in sheet3.checks for m in spec.mistakes}
    assert set(MISTAKES) == in_rubric


# --- correct answers, in the styles students write them -------------------------------------

CORRECT: dict[str, tuple[str, tuple[str, ...]]] = {
    "loops": (
        """
        import math
        import numpy as np

        def hessian(X):
            N, d = len(X), len(X[0])
            H = [[0.0] * d for _ in range(d)]
            for x in X:
                for i in range(d):
                    for j in range(d):
                        H[i][j] += x[i] * x[j] / N
            return np.array(H)

        def center(X):
            N, d = X.shape
            out = np.empty_like(X)
            for j in range(d):
                m = sum(X[i, j] for i in range(N)) / N
                for i in range(N):
                    out[i, j] = X[i, j] - m
            return out

        def preactivation_variances(x, weights, activation):
            result = []
            a = x
            for W in weights:
                z = a @ W.T
                result.append(float(np.mean((z - z.mean()) ** 2)))
                if activation == "relu":
                    a = np.where(z > 0, z, 0.0)
                elif activation == "tanh":
                    a = np.tanh(z)
            return result
        """,
        ("1a.hessian", "1c.center", "2a.preactivation_variances"),
    ),
    "einsum and np.matmul": (
        """
        import numpy as np

        def hessian(X):
            return np.einsum("ni,nj->ij", X, X) / X.shape[0]

        def hessian_gaussian(mu, sigma):
            return np.matmul(mu[:, None], mu[None, :]) + sigma**2 * np.eye(len(mu))

        def center(X):
            return X - X.mean(axis=0, keepdims=True)
        """,
        ("1a.hessian", "1a.hessian_gaussian", "1c.center"),
    ),
    "np.matmul": (
        """
        import numpy as np

        def hessian(X):
            return np.matmul(X.T, X) / len(X)

        def center(X):
            Y = X.copy()
            Y -= Y.mean(axis=0)  # in place, but on a copy
            return Y
        """,
        ("1a.hessian", "1c.center"),
    ),
    "lists of lists and Python floats": (
        """
        import math

        def hessian_gaussian(mu, sigma):
            d = len(mu)
            return [
                [sigma**2 * (i == j) + float(mu[i]) * float(mu[j]) for j in range(d)]
                for i in range(d)
            ]

        def condition_number(mu, sigma):
            norm2 = sum(float(m) ** 2 for m in mu)
            return 1.0 + norm2 / sigma**2

        def centered_min_error(mu, sigma, v, noise_var):
            vmu = math.fsum(float(a) * float(b) for a, b in zip(v, mu))
            return 0.5 * (vmu**2 + noise_var)
        """,
        ("1a.hessian_gaussian", "1b.condition_number", "1c.centered_min_error"),
    ),
    "eigenvalues": (
        """
        import numpy as np

        def condition_number(mu, sigma):
            H = sigma**2 * np.eye(len(mu)) + np.outer(mu, mu)
            eigenvalues = np.linalg.eigvalsh(H)
            return eigenvalues.max() / eigenvalues.min()
        """,
        ("1b.condition_number",),
    ),
    "float32 hessian": (
        """
        import numpy as np

        def hessian(X):
            return (X.T @ X / X.shape[0]).astype(np.float32)
        """,
        ("1a.hessian",),
    ),
    "rng used as a keyword default": (
        """
        import numpy as np

        def he_init(n_in, n_out, rng=None):
            rng = np.random.default_rng() if rng is None else rng
            return rng.normal(loc=0.0, scale=np.sqrt(2.0 / n_in), size=(n_out, n_in))

        def tanh_init(n_in, n_out, rng=None):
            if rng is None:
                rng = np.random.default_rng()
            return rng.normal(0.0, 1.0, size=(n_out, n_in)) * np.sqrt(1.0 / n_in)
        """,
        ("2a.he_init", "2b.tanh_init"),
    ),
    "rng taken positionally": (
        """
        import numpy as np

        def he_init(n_in, n_out, rng):
            return rng.standard_normal((n_out, n_in)) * np.sqrt(2 / n_in)

        def tanh_init(n_in, n_out, generator):
            return generator.standard_normal(size=(n_out, n_in)) / np.sqrt(n_in)
        """,
        ("2a.he_init", "2b.tanh_init"),
    ),
    "rng ignored, np.random instead": (
        """
        import numpy as np

        np.random.seed(1234)

        def he_init(n_in, n_out, rng=None):
            return np.random.randn(n_out, n_in) * np.sqrt(2.0 / n_in)

        def tanh_init(n_in, n_out, *args, **kwargs):
            return np.random.normal(0, np.sqrt(1 / n_in), (n_out, n_in))
        """,
        ("2a.he_init", "2b.tanh_init"),
    ),
}


@pytest.mark.parametrize("style", list(CORRECT))
def test_a_correct_answer_passes_in_full(tmp_path, plan, style):
    source, check_ids = CORRECT[style]
    result = grade_code(tmp_path, source, plan, *check_ids)
    assert [c.id for c in result.checks] == list(check_ids)
    for check in result.checks:
        assert check.status == "passed", f"{check.id}: {check.feedback}"
        assert check.score == check.max_score > 0
