"""Graded after s_ipc by the same worker: looks for what s_ipc left (SysV objects by its key
and by listing every slot; POSIX message queues and shared memory by name) and prints all it
finds. Otherwise correct."""
import ctypes
import json
import os

import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


TOKEN = "{TOKEN}"
KEY = int(TOKEN[:7], 16) if TOKEN[0] != "{" else 0x5A5A5A
STAT = {"shm": (14, 13), "msg": (12, 11), "sem": (19, 18)}  # (*_INFO, *_STAT)


def _listed(libc):
    """Every SysV object this namespace holds, slot by slot (no /proc needed)."""
    found = []
    buffer = ctypes.create_string_buffer(512)
    for kind, (info, stat) in STAT.items():
        control = getattr(libc, f"{kind}ctl")
        args = (0, info, buffer) if kind != "sem" else (0, 0, info, buffer)
        highest = control(*args)
        for index in range(max(highest, 0) + 1):
            args = (index, stat, buffer) if kind != "sem" else (index, 0, stat, buffer)
            ident = control(*args)
            if ident >= 0:
                found.append(f"{kind} id {ident}")
    return found


def _proc_listing():
    found = []
    for kind in ("shm", "msg", "sem"):
        try:
            with open(f"/proc/sysvipc/{kind}") as handle:
                found += [f"/proc/sysvipc/{kind}: {line.split()[:2]}" for line in handle][1:]
        except OSError:
            pass
    return found


def _posix(libc):
    found = []
    try:
        descriptor = libc.mq_open(f"/grader-{KEY}".encode(), os.O_RDONLY)
        if descriptor >= 0:
            found.append(f"mqueue /grader-{KEY}")
    except AttributeError:
        pass
    try:
        found += [f"/dev/shm/{name}" for name in os.listdir("/dev/shm") if "grader" in name]
    except OSError:
        pass
    return found


def add(a, b):
    libc = ctypes.CDLL(None, use_errno=True)
    seen = [
        f"{kind} key {key:#x}"
        for kind, key, get in (
            ("shm", KEY, lambda k: libc.shmget(k, 0, 0)),
            ("msg", KEY + 1, lambda k: libc.msgget(k, 0)),
            ("sem", KEY + 2, lambda k: libc.semget(k, 0, 0)),
        )
        if get(key) >= 0
    ]
    seen += _listed(libc) + _proc_listing() + _posix(libc)
    print("IPC-SEEN", json.dumps(seen))
    return np.asarray(a) + np.asarray(b)
