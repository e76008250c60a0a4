"""scipy.special imported lean (grader/check/special.py): none of numpy's unused submodules
loaded, numpy's own listing put back, the same numbers, and a student's kernel left alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNUSED = ("numpy.f2py", "numpy.testing", "numpy.ma", "unittest", "charset_normalizer")
PROBE = """
import json, sys
{before}
import numpy
listing, everything = sorted(dir(numpy)), list(numpy.__all__)
from grader.check.special import special
print(json.dumps({{
    "loaded": sorted(m for m in {unused!r} if m in sys.modules),
    "listing_kept": sorted(dir(numpy)) == listing and list(numpy.__all__) == everything,
    "betainc": float(special.betainc(3.5, 0.5, 0.25)),
    "f2py_later": numpy.f2py.__name__,
}}))
"""


def _probe(before: str = "") -> dict[str, object]:
    code = PROBE.format(before=before, unused=UNUSED)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    return json.loads(out.splitlines()[-1])  # type: ignore[no-any-return]


def test_scipy_special_loads_without_numpys_unused_submodules_and_numpy_is_as_it_was() -> None:
    lean = _probe()
    assert lean["loaded"] == []
    assert lean["listing_kept"] is True
    assert lean["f2py_later"] == "numpy.f2py"  # still there on first use

    from scipy import special  # this process's own, plain import: the same function

    assert lean["betainc"] == float(special.betainc(3.5, 0.5, 0.25))


def test_in_a_jupyter_kernel_the_import_is_scipys_own() -> None:
    kernel = _probe("import types; sys.modules['ipykernel'] = types.ModuleType('ipykernel')")
    assert "numpy.f2py" in kernel["loaded"]  # nothing of the student's numpy was touched
    assert kernel["listing_kept"] is True
