"""grader: an auto-grader and self-checker for numeric machine-learning exercises."""

import os as _os

# The grader runs one process per core already; multithreaded BLAS on top of that makes small
# matrix products many times slower on a busy machine (measured: 13x on 2 cores). Set before
# numpy loads; a value the user set wins.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_name, "1")

__version__ = "0.1.0"
