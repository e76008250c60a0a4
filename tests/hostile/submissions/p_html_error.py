"""Raises with HTML, Markdown and rich markup in its message, and prints ANSI escapes."""
import numpy as np

print("\x1b[2J\x1b[31mCLEARED YOUR TERMINAL\x1b[0m [/] [bold]x")


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


def add(a, b):
    raise ValueError('<img src=x onerror="alert(1)"> [/] [link=https://evil](click) \x1b[31m')
