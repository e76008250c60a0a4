"""SysV IPC objects (shared memory, message queues, semaphores) a sandbox user left behind.

They belong to no process, so killing the child does not free them: a 1 GB shared memory
segment outlives the submission, and the grader too. Under ``process`` as root each child has
an IPC namespace of its own, and the grader removes, after each submission, every object its
sandbox user owns or created. Under bwrap a worker's fork server and all its children share
the worker's IPC namespace (a child cannot unshare one of its own there): after each job the
server empties it (:func:`empty_namespace`), so that the next job finds nothing of the last.

This file is also one of the child's own (grader/run/launch.py CHILD_FILES): the standard
library only.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import time
from dataclasses import dataclass

IPC_RMID = 0
MQUEUE = "/dev/mqueue"  # where bwrap mounts the worker's POSIX message queues (--mqueue)
SHM = "/dev/shm"  # POSIX shared memory: inside bwrap a folder of the worker's own /dev
ID_COLUMNS = {"shm": "shmid", "msg": "msqid", "sem": "semid"}  # /proc/sysvipc/* headers


@dataclass(frozen=True)
class IpcObject:
    kind: str  # shm | msg | sem
    ident: int
    key: int
    uid: int  # owner
    cuid: int  # creator


def objects() -> list[IpcObject]:
    """Every SysV IPC object this process's IPC namespace holds (from /proc/sysvipc)."""
    found = []
    for kind, id_column in ID_COLUMNS.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as handle:
                lines = handle.read().splitlines()
        except OSError:
            continue
        if not lines:
            continue
        columns = lines[0].split()
        for line in lines[1:]:
            row = dict(zip(columns, line.split()))
            try:
                ident = int(row[id_column])
                found.append(
                    IpcObject(kind, ident, int(row["key"]), int(row["uid"]), int(row["cuid"]))
                )
            except (KeyError, ValueError):
                continue
    return found


@functools.cache
def _libc() -> ctypes.CDLL:
    """The C library (the symbols this process already has: no ``ldconfig`` run)."""
    return ctypes.CDLL(None, use_errno=True)


def _remove(obj: IpcObject) -> bool:
    """IPC_RMID: whether it was allowed (a segment still attached goes at its last detach)."""
    libc = _libc()
    if obj.kind == "shm":
        return bool(libc.shmctl(obj.ident, IPC_RMID, None) == 0)
    if obj.kind == "msg":
        return bool(libc.msgctl(obj.ident, IPC_RMID, None) == 0)
    return bool(libc.semctl(obj.ident, 0, IPC_RMID) == 0)


def remove_owned_by(uid: int) -> list[IpcObject]:
    """Remove every object ``uid`` owns or created; the ones removed."""
    return [obj for obj in objects() if uid in (obj.uid, obj.cuid) and _remove(obj)]


def queues() -> list[str]:
    """The POSIX message queues of this namespace, if its mqueue file system is mounted at
    ``MQUEUE``, and the POSIX shared memory in ``SHM`` (inside bwrap; on the host those
    folders are everyone's)."""
    found = []
    for folder in (MQUEUE, SHM):
        try:
            found += [os.path.join(folder, name) for name in os.listdir(folder)]
        except OSError:
            pass
    return found


def _unlink(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError:
        pass


def _any_listed() -> bool:
    """Whether /proc/sysvipc lists any object or ``MQUEUE`` any queue: the common case, an
    empty namespace, read with as little allocation as can be (the caller is a fork of a
    warm server: every page it writes is copied)."""
    for kind in ID_COLUMNS:
        try:
            descriptor = os.open(f"/proc/sysvipc/{kind}", os.O_RDONLY)
        except OSError:
            continue
        try:
            if os.read(descriptor, 4096).count(b"\n") > 1:  # more than the header
                return True
        finally:
            os.close(descriptor)
    for folder in (MQUEUE, SHM):
        try:
            with os.scandir(folder) as entries:
                if any(True for _ in entries):
                    return True
        except OSError:
            pass
    return False


def empty_namespace(timeout: float = 2.0) -> bool:
    """Inside a sandbox's own IPC namespace and /dev only: remove every SysV object, POSIX
    message queue and shared memory file (as their creator, or the user they belong to, or
    the owner of /dev/shm) and wait, up to ``timeout`` seconds, until none is listed any more
    (a segment removed while a dying process still has it attached stays, by its id, until
    that process is gone); whether the namespace is empty."""
    if not _any_listed():
        return True
    deadline = time.monotonic() + timeout
    while True:
        found, named = objects(), queues()
        if not found and not named:
            return True
        for obj in found:
            _remove(obj)
        for path in named:
            _unlink(path)
        if not objects() and not queues():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
