"""What a reference module may use from the grader: argument markers, expectations, verdicts.

from grader.api import Normal, Plot, Rng, Verdict
"""

from grader.check.stats import Normal, test_normal_sample
from grader.model import Plot, Rng, Verdict

__all__ = ["Normal", "Plot", "Rng", "Verdict", "test_normal_sample"]
