"""scipy.special (the p-values' functions), imported without the numpy it never uses.

scipy's array-API layer copies the numpy namespace when scipy.special is imported: it runs
``from numpy import *`` and looks up every name ``dir(numpy)`` lists, and both lists name
numpy's lazily loaded submodules (numpy.f2py, numpy.testing, numpy.ma, ...). So importing
scipy.special imported them all, with unittest and charset_normalizer: about 0.13 s of CPU
(a quarter of the import) in every process that judges, the warm process a batch's workers
are forked from among them. For this one import, those two lists name only what numpy has
loaded; they are put back at once, and a later ``numpy.f2py`` loads on first use as before.

Not in a Jupyter kernel (a student's self-check): the student's numpy is theirs, and is left
alone there.
"""

from __future__ import annotations

import sys
from types import ModuleType


def _import() -> ModuleType:
    if "ipykernel" in sys.modules:
        from scipy import special

        return special
    import numpy

    listing, everything = numpy.__dir__, numpy.__all__
    loaded = vars(numpy)
    numpy.__dir__ = lambda: [name for name in listing() if name in loaded]  # type: ignore[method-assign]
    numpy.__all__ = [name for name in everything if name in loaded]
    try:
        from scipy import special
    finally:
        numpy.__dir__, numpy.__all__ = listing, everything  # type: ignore[method-assign]
    return special


special = _import()
