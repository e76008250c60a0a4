"""What a reference module may use from the grader: argument markers, expectations, verdicts.

from grader.api import Bernoulli, Categorical, Normal, Plot, Rng, Uniform, Verdict
"""

from grader.check.stats import (
    Bernoulli,
    Categorical,
    Normal,
    Uniform,
    test_bernoulli_sample,
    test_categorical_sample,
    test_normal_sample,
    test_uniform_sample,
)
from grader.model import Plot, Rng, Verdict

__all__ = [
    "Bernoulli",
    "Categorical",
    "Normal",
    "Plot",
    "Rng",
    "Uniform",
    "Verdict",
    "test_bernoulli_sample",
    "test_categorical_sample",
    "test_normal_sample",
    "test_uniform_sample",
]
