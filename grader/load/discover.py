"""Find submissions: a file, a folder of them, a submission folder, or a zip.

Nothing found is ever dropped: a file that cannot be read becomes a Submission with a
``problem``, graded 0 with a message that names the file and what to do.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path, PurePosixPath

from grader.load.notebook import NotebookError, read_module, read_notebook
from grader.model import Submission

CODE_SUFFIXES = (".ipynb", ".py")
MAX_FILE_BYTES = 20 * 1024**2
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_BYTES = 500 * 1024**2
IGNORED = ("__MACOSX", ".ipynb_checkpoints", "__pycache__", ".git")


class UsageError(ValueError):
    """A path on the command line that does not exist or cannot be graded."""


def discover(paths: list[Path]) -> Iterator[Submission]:
    """Every submission under the given paths, in a stable order."""
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
    for path in paths:
        if path.is_dir():
            for entry in sorted(path.iterdir()):
                if not _ignored(entry.name):
                    yield read_submission(entry)
        elif path.suffix.lower() == ".zip" and _is_bulk_zip(path):
            yield from _bulk_zip(path)
        else:
            yield read_submission(path)


def read_submission(path: Path) -> Submission:
    """One submission: a notebook, a module, a folder or a zip holding exactly one of them."""
    if path.is_dir():
        return _from_folder(path)
    student = path.stem
    try:
        data = _read_capped(path)
    except OSError as exc:
        return Submission(student, path, problem=f"{path}: cannot be read ({exc.strerror})")
    if path.suffix.lower() == ".zip":
        return _from_zip_bytes(student, path, data)
    return from_bytes(student, path, path.name, data)


def from_bytes(student: str, path: Path, name: str, data: bytes) -> Submission:
    """Parse a notebook or module given as bytes."""
    digest = hashlib.sha256(data).hexdigest()
    suffix = PurePosixPath(name).suffix.lower()
    try:
        if suffix == ".ipynb":
            cells, answers = read_notebook(data, str(path))
            return Submission(student, path, cells, answers, content_hash=digest, kind="notebook")
        if suffix == ".py":
            return Submission(student, path, read_module(data, str(path)), content_hash=digest)
    except NotebookError as exc:
        return Submission(student, path, problem=str(exc), content_hash=digest)
    return Submission(
        student,
        path,
        content_hash=digest,
        problem=(
            f"{path}: a {suffix or 'file without extension'} is not a submission; "
            "submit a Jupyter notebook (.ipynb) or a Python module (.py)"
        ),
    )


def _from_folder(folder: Path) -> Submission:
    found = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in CODE_SUFFIXES
        and not any(_ignored(part) for part in p.parts)
    )
    notebooks = [p for p in found if p.suffix.lower() == ".ipynb"] or found
    if len(notebooks) != 1:
        what = ", ".join(p.name for p in notebooks[:5]) if notebooks else "none"
        return Submission(
            folder.name,
            folder,
            problem=(
                f"{folder}: a submission folder must hold exactly one notebook or module "
                f"(found {what}); remove the others and resubmit"
            ),
        )
    return replace(read_submission(notebooks[0]), student=folder.name, path=folder)


def _from_zip_bytes(student: str, path: Path, data: bytes) -> Submission:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = _safe_members(archive, path)
            code = [m for m in members if PurePosixPath(m.filename).suffix.lower() in CODE_SUFFIXES]
            notebooks = [m for m in code if m.filename.lower().endswith(".ipynb")] or code
            if len(notebooks) != 1:
                names = ", ".join(m.filename for m in notebooks[:5]) or "none"
                return Submission(
                    student,
                    path,
                    problem=(
                        f"{path}: the zip must hold exactly one notebook or module (found {names})"
                    ),
                )
            member = notebooks[0]
            return from_bytes(student, path, member.filename, _read_member(archive, member))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        return Submission(student, path, problem=f"{path}: not a readable zip archive ({exc})")


def _is_bulk_zip(path: Path) -> bool:
    """A zip of many submissions (an LMS bulk download) rather than one student's zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = [
                n
                for n in archive.namelist()
                if not n.endswith("/") and not any(_ignored(p) for p in PurePosixPath(n).parts)
            ]
    except (zipfile.BadZipFile, OSError):
        return False
    code = [n for n in entries if PurePosixPath(n).suffix.lower() in CODE_SUFFIXES + (".zip",)]
    return len(code) > 1


def _bulk_zip(path: Path) -> Iterator[Submission]:
    """Each code file (or nested zip) of a bulk download is one submission, named by its stem."""
    try:
        archive = zipfile.ZipFile(path)
        members = _safe_members(archive, path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield Submission(path.stem, path, problem=f"{path}: not a usable zip archive ({exc})")
        return
    with archive:
        for member in members:
            name = PurePosixPath(member.filename)
            where = Path(f"{path}!{member.filename}")
            try:
                if name.suffix.lower() == ".zip":
                    data = _read_member(archive, member, MAX_ZIP_BYTES)
                    yield _from_zip_bytes(name.stem, where, data)
                elif name.suffix.lower() in CODE_SUFFIXES:
                    yield from_bytes(name.stem, where, name.name, _read_member(archive, member))
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                yield Submission(name.stem, where, problem=f"{where}: cannot be read ({exc})")


def _safe_members(archive: zipfile.ZipFile, path: Path) -> list[zipfile.ZipInfo]:
    """Members that are plain files inside the archive, within size limits (nothing is
    extracted to disk, so no member can land outside its folder)."""
    members = [
        m
        for m in archive.infolist()
        if not m.is_dir() and not any(_ignored(p) for p in PurePosixPath(m.filename).parts)
    ]
    if len(members) > MAX_ZIP_MEMBERS:
        raise ValueError(f"{len(members)} files, more than {MAX_ZIP_MEMBERS}")
    for member in members:
        name = PurePosixPath(member.filename)
        if name.is_absolute() or ".." in name.parts:
            raise ValueError(f"{member.filename!r} points outside the archive")
        if member.file_size > MAX_ZIP_BYTES:
            raise ValueError(f"{member.filename} unpacks to {member.file_size} bytes")
    return members


def _read_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int = MAX_FILE_BYTES
) -> bytes:
    """A member's bytes, reading no more than ``limit`` whatever its header claims."""
    with archive.open(member) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{member.filename} unpacks to more than {limit // 1024**2} MB")
    return data


def _read_capped(path: Path) -> bytes:
    limit = MAX_ZIP_BYTES if path.suffix.lower() == ".zip" else MAX_FILE_BYTES
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(0, f"larger than {limit // 1024**2} MB")
    return data


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in IGNORED
