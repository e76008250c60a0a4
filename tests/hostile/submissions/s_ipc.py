"""Leaves SysV IPC objects behind: a 64 MB shared memory segment (touched), a message queue
holding a message, a semaphore set; named by a key of its own and private ones. And POSIX
ones: a message queue and a shared memory file named after the key."""
import ctypes
import os

import numpy as np


def scale(x):
    return 2.0 * np.asarray(x)


def noise(rows, cols, rng=None):
    rng = rng if rng is not None else np.random.default_rng()
    return rng.normal(size=(rows, cols))


IPC_CREAT, IPC_PRIVATE = 0o1000, 0
TOKEN = "{TOKEN}"
KEY = int(TOKEN[:7], 16) if TOKEN[0] != "{" else 0x5A5A5A


def add(a, b):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    made = []
    for key in (KEY, IPC_PRIVATE):
        shm = libc.shmget(key, 64 * 1024**2, IPC_CREAT | 0o666)
        if shm >= 0:
            address = libc.shmat(shm, None, 0)
            if address not in (None, ctypes.c_void_p(-1).value):
                ctypes.memset(address, 1, 64 * 1024**2)
                libc.shmdt(ctypes.c_void_p(address))
        msg = libc.msgget(key + 1 if key else 0, IPC_CREAT | 0o666)
        if msg >= 0:
            text = ctypes.create_string_buffer(b"\x01\x00\x00\x00\x00\x00\x00\x00hello", 13)
            libc.msgsnd(msg, text, 5, 0o4000)
        sem = libc.semget(key + 2 if key else 0, 4, IPC_CREAT | 0o666)
        made.append((shm, msg, sem))
    print("IPC-MADE", made)
    print("POSIX-MADE", _posix(libc))
    return np.asarray(a) + np.asarray(b)


def _posix(libc):
    """A POSIX message queue holding a message, a file in /dev/shm: -1 where refused."""
    made = []
    try:
        queue = libc.mq_open(f"/grader-{KEY}".encode(), os.O_CREAT | os.O_RDWR, 0o666, None)
        if queue >= 0:
            libc.mq_send(queue, b"hello", 5, 0)
        made.append(queue if queue >= 0 else -ctypes.get_errno())
    except AttributeError:
        made.append(None)
    try:
        os.close(os.open(f"/dev/shm/grader-{KEY}", os.O_CREAT | os.O_WRONLY, 0o666))
        made.append(0)
    except OSError:
        made.append(-1)
    return made
