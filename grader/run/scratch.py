"""Each job's private working folder: a fresh tmpfs per job, bounded in bytes and inodes, and
destroyed by unmounting it as root after the job (whatever modes the job left inside).

A worker's areas live under one folder, itself a small tmpfs made a shared mount, so that a
job's mount made there by the grader also appears inside the worker's bwrap sandbox (bwrap
makes its view a slave of the host's mounts). Where the grader cannot mount (not root, or no
CAP_SYS_ADMIN), a job gets a plain folder: under ``process`` only each file is then bounded
(README), under bwrap the sandbox's own size-limited tmpfs bounds them all.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import stat
from pathlib import Path

MS_NOSUID, MS_NODEV, MS_SHARED = 2, 4, 1 << 20
MNT_DETACH = 2
JOB_BYTES = 64 * 1024**2  # everything one job may write, all files together
JOB_INODES = 4096  # files and folders one job may make
_HOLDER_OPTIONS = "size=1m,nr_inodes=1024,mode=0711"


class ScratchError(OSError):
    """The grader could not make or destroy a job's folder: the grader's fault, not the job's."""


@functools.cache
def _libc() -> ctypes.CDLL:
    """The C library: the symbols this process already has, as landlock.py and ipc.py find
    them (``find_library`` would run ``ldconfig -p``, ~2 ms)."""
    return ctypes.CDLL(None, use_errno=True)


def _mount_tmpfs(target: Path, options: str) -> None:
    done = _libc().mount(
        b"tmpfs", os.fsencode(target), b"tmpfs", MS_NOSUID | MS_NODEV, options.encode()
    )
    if done != 0:
        number = ctypes.get_errno()
        raise ScratchError(number, f"mount tmpfs on {target}: {os.strerror(number)}")


def _unmount(target: Path) -> None:
    if _libc().umount2(os.fsencode(target), MNT_DETACH) != 0:
        number = ctypes.get_errno()
        raise ScratchError(number, f"unmount {target}: {os.strerror(number)}")


def remove_tree(path: Path) -> None:
    """Remove a folder even where the job made subfolders it may not enter (mode 000): a
    folder's owner may always give itself the rights back."""

    def grant(function: object, failed: str, _: object) -> None:
        parent = os.path.dirname(failed)
        for where in (parent, failed):
            try:
                mode = os.lstat(where).st_mode
                if stat.S_ISDIR(mode):
                    os.chmod(where, stat.S_IRWXU)
            except OSError:
                pass
        try:
            if os.path.isdir(failed) and not os.path.islink(failed):
                shutil.rmtree(failed, onerror=grant)
            else:
                os.unlink(failed)
        except FileNotFoundError:
            pass

    if path.exists() or path.is_symlink():
        shutil.rmtree(path, onerror=grant)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def owner_of(path: Path) -> int | None:
    """The pid in a worker's folder name (``grader-PID-...``), or None."""
    parts = path.name.split("-")
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else None


def sweep_stale(folder: Path) -> list[Path]:
    """Remove the scratch folders (and their mounts) that grader processes which died without
    closing left in ``folder`` (a Dask worker killed at shutdown); the ones removed."""
    removed = []
    for path in folder.glob("grader-*-*"):
        pid = owner_of(path)
        if pid is None or pid == os.getpid() or _alive(pid):
            continue
        try:
            remove_mounted(path)
        except OSError:
            continue
        removed.append(path)
    return removed


def remove_mounted(path: Path) -> None:
    """Unmount every mount inside ``path`` (deepest first), then remove it all: what a worker
    killed mid-batch (an OOM kill) left behind."""
    with open("/proc/self/mountinfo") as handle:
        points = [line.split()[4] for line in handle]
    inside = sorted((m for m in points if m.startswith(f"{path}/")), key=len, reverse=True)
    for point in inside:
        _unmount(Path(point))
    remove_tree(path)


class JobAreas:
    """The per-job folders of one worker (a fork server or a spawner), under ``root``."""

    def __init__(self, root: Path, uid: int | None) -> None:
        self.root = root
        self.uid = uid
        root.mkdir()
        self.mounted = False
        if os.geteuid() == 0:
            try:
                _mount_tmpfs(root, _HOLDER_OPTIONS)
            except ScratchError:
                return  # no CAP_SYS_ADMIN (a container): plain folders
            if _libc().mount(None, os.fsencode(root), None, MS_SHARED, None) != 0:
                _unmount(root)
                return
            self.mounted = True

    def create(self, name: str) -> Path:
        """A fresh, empty folder for one job, owned by the sandbox's user."""
        path = self.root / name
        if path.exists():
            self.destroy(path)
        path.mkdir(mode=0o700)
        if self.mounted:
            owner = f",uid={self.uid},gid={self.uid}" if self.uid is not None else ""
            try:
                _mount_tmpfs(path, f"size={JOB_BYTES},nr_inodes={JOB_INODES},mode=0700{owner}")
            except ScratchError:
                path.rmdir()
                raise
        elif self.uid is not None and os.geteuid() == 0:
            os.chown(path, self.uid, self.uid)
        return path

    def destroy(self, path: Path) -> None:
        """Remove a job's folder and everything in it."""
        if self.mounted and os.path.ismount(path):
            _unmount(path)
            path.rmdir()
        else:
            remove_tree(path)

    def close(self) -> None:
        """Remove every job's folder, then the holder."""
        if self.root.exists():
            for path in list(self.root.iterdir()):
                try:
                    self.destroy(path)
                except OSError:
                    pass
        if self.mounted:
            try:
                _unmount(self.root)
            except ScratchError:
                pass
            self.mounted = False
        remove_tree(self.root)
