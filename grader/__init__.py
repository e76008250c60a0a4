"""grader: an auto-grader and self-checker for numeric machine-learning exercises.

``from grader import Notebook`` gives the self-check inside Jupyter (:mod:`grader.selfcheck`);
it is imported on first use, so that ``import grader`` stays cheap.
"""

from __future__ import annotations

import os as _os
import sys as _sys
from typing import TYPE_CHECKING, Any

# The grader runs one process per core already; multithreaded BLAS on top of that makes small
# matrix products many times slower on a busy machine (measured: 13x on 2 cores). Set before
# numpy loads; a value the user set wins. Not in a Jupyter kernel (a student's self-check): the
# student's own computations there are none of the grader's business.
if "ipykernel" not in _sys.modules:
    for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        _os.environ.setdefault(_name, "1")

__version__ = "0.1.0"
__all__ = ["Notebook", "__version__"]

if TYPE_CHECKING:
    from grader.selfcheck.notebook import Notebook


def __getattr__(name: str) -> Any:
    if name == "Notebook":
        from grader.selfcheck.notebook import Notebook

        return Notebook
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
