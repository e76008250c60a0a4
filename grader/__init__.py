"""grader: an auto-grader and self-checker for numeric machine-learning exercises."""

__version__ = "0.1.0"
