"""Tries to reach a server on this machine and to open a listening port."""
import socket
import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    try:
        with socket.create_connection(("127.0.0.1", {PORT}), timeout=1) as conn:
            conn.sendall(b"stolen")
        print("CONNECTED")
    except OSError as exc:
        print("NO-NETWORK", type(exc).__name__)
    return np.asarray(a) - np.asarray(b)
