"""Find submissions: a file, a folder of them, a submission folder, or a zip.

Nothing found is ever dropped: a file that cannot be read becomes a Submission with a
``problem``, graded 0 with a message that names the file and what to do.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path, PurePosixPath

from grader.errors import UserError
from grader.load import lms
from grader.load.notebook import NotebookError, read_module, read_notebook
from grader.model import Submission

CODE_SUFFIXES = (".ipynb", ".py")
MAX_FILE_BYTES = 20 * 1024**2
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_BYTES = 500 * 1024**2
IGNORED = ("__MACOSX", ".ipynb_checkpoints", "__pycache__", ".git")


class UsageError(UserError, ValueError):
    """A path on the command line that does not exist or cannot be graded."""


def discover(
    paths: list[Path],
    name_pattern: re.Pattern[str] | None = None,
    namings: list[Naming] | None = None,
    lazy: bool = False,
) -> Iterator[Submission]:
    """Every submission under the given paths, in a stable order.

    Inside a folder or a bulk-download zip, students are named by the LMS naming scheme found
    there (``grader/load/lms.py``), by ``name_pattern`` when given, or else by file name; how
    each such source was named is appended to ``namings`` when a list is given. With
    ``lazy``, files in folders are not read yet: ``Submission.materialize()`` reads them, and
    ``peek()`` reads and hashes them without parsing.
    """
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
    for path in paths:
        if path.is_dir():
            yield from _named(_folder_entries(path), path, name_pattern, namings, lazy)
        elif path.suffix.lower() == ".zip" and _is_bulk_zip(path, name_pattern):
            yield from _bulk_zip(path, name_pattern, namings, lazy)
        else:
            submission = _safely(partial(_read_as, path), path.stem, path)
            yield _named_file(submission, path.name, name_pattern)


def read_submission(path: Path, parse: bool = True) -> Submission:
    """One submission: a notebook, a module, a folder or a zip holding exactly one of them.
    Without ``parse``, the file is read and hashed but its code is not parsed (see peek)."""
    if path.is_dir():
        return _from_folder(path, parse)
    student = path.stem
    try:
        data = _read_capped(path)
    except OSError as exc:
        return Submission(student, path, problem=f"{path}: cannot be read ({exc.strerror})")
    if path.suffix.lower() == ".zip":
        return _from_zip_bytes(student, path, data, parse)
    return from_bytes(student, path, path.name, data, parse)


def peek(submission: Submission) -> Submission:
    """A lazily discovered submission read and hashed, not parsed: its content hash (the
    same as once materialized: the sha256 of the notebook's or module's bytes) and any problem
    met reading it, without its code. A parse problem is found only by ``materialize()``.
    Any other submission is materialized."""
    if isinstance(submission.loader, _Lazy):
        return submission.loader.peek()
    return submission.materialize()


def from_bytes(student: str, path: Path, name: str, data: bytes, parse: bool = True) -> Submission:
    """Parse a notebook or module given as bytes (without ``parse``, only hash them)."""
    digest = hashlib.sha256(data).hexdigest()
    suffix = PurePosixPath(name).suffix.lower()
    if not parse and suffix in CODE_SUFFIXES:
        kind = "notebook" if suffix == ".ipynb" else "module"
        return Submission(student, path, content_hash=digest, kind=kind)
    try:
        if suffix == ".ipynb":
            cells, answers = read_notebook(data, str(path))
            return Submission(student, path, cells, answers, content_hash=digest, kind="notebook")
        if suffix == ".py":
            return Submission(student, path, read_module(data, str(path)), content_hash=digest)
    except NotebookError as exc:
        return Submission(student, path, problem=str(exc), content_hash=digest)
    except Exception as exc:  # student source must never raise out of discovery
        return Submission(student, path, problem=_unreadable(path, exc), content_hash=digest)
    return Submission(
        student,
        path,
        content_hash=digest,
        problem=(
            f"{path}: a {suffix or 'file without extension'} is not a submission; "
            "submit a Jupyter notebook (.ipynb) or a Python module (.py)"
        ),
    )


def _link_out(path: Path, folder: Path) -> Submission | None:
    """A problem submission when ``path`` is a symbolic link that leads out of ``folder``:
    the grader (often root) never reads through it, whatever it can read itself."""
    if not path.is_symlink():
        return None
    try:
        target = path.resolve(strict=True)
        if target.is_relative_to(folder.resolve(strict=True)):
            return None
    except (OSError, RuntimeError):  # a broken link or a loop
        pass
    return Submission(
        folder.name if path.parent != folder else path.stem,
        path,
        problem=(
            f"{path}: a symbolic link to outside the submission folder, which is not followed; "
            "submit the notebook or module itself"
        ),
    )


def _unreadable(path: Path, exc: BaseException) -> str:
    """Why a file could not be read into cells, for any exception its content caused."""
    if isinstance(exc, (RecursionError, MemoryError)):
        why = "its code is nested too deeply or is too large to compile"
    else:
        why = "it could not be parsed"
    detail = str(exc).splitlines()[0][:160] if str(exc) else ""
    return (
        f"{path}: {why} ({type(exc).__name__}{': ' + detail if detail else ''}); "
        "simplify the code (e.g. split very long expressions) and resubmit"
    )


def _safely(
    load: Callable[[str, bool], Submission], student: str, where: Path, parse: bool = True
) -> Submission:
    """``load(student, parse)``, or a Submission with the problem when reading it raised
    anything."""
    try:
        return load(student, parse)
    except Exception as exc:
        return Submission(student, where, problem=_unreadable(where, exc))


def _code_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """The notebooks and modules in a folder and its subfolders (not through links to other
    folders); and those that are links leading out of it."""
    found, out = [], []
    for where, folders, files in os.walk(folder, followlinks=False):
        folders[:] = sorted(f for f in folders if not _ignored(f))
        for name in files:
            path = Path(where, name)
            if _ignored(name) or path.suffix.lower() not in CODE_SUFFIXES:
                continue
            if _link_out(path, folder):
                out.append(path)
            elif path.is_file():
                found.append(path)
    return sorted(found), sorted(out)


def _from_folder(folder: Path, parse: bool = True) -> Submission:
    found, out = _code_files(folder)
    if out:
        problem = _link_out(out[0], folder)
        assert problem is not None
        return replace(problem, student=folder.name, path=folder)
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
    return replace(read_submission(notebooks[0], parse), student=folder.name, path=folder)


def _from_zip_bytes(student: str, path: Path, data: bytes, parse: bool = True) -> Submission:
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
            return from_bytes(student, path, member.filename, _read_member(archive, member), parse)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        return Submission(student, path, problem=f"{path}: not a readable zip archive ({exc})")


def _is_bulk_zip(path: Path, name_pattern: re.Pattern[str] | None = None) -> bool:
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
    if len(code) > 1:
        return True
    tops = {PurePosixPath(n).parts[0] for n in _strip_roots(entries, name_pattern)}
    return any(_lms_identity(top, name_pattern) for top in tops)


def _bulk_zip(
    path: Path,
    name_pattern: re.Pattern[str] | None = None,
    namings: list[Naming] | None = None,
    lazy: bool = False,
) -> Iterator[Submission]:
    """Each top-level file or folder of a bulk download is one entry; entries are named by the
    LMS scheme found, and a student's entries are one submission (the latest attempt). With
    ``lazy``, members are read when a submission is materialized: the archive stays open for
    the loaders (closed when the last of them is gone). A member too large to read costs only
    its student an error."""
    try:
        archive = zipfile.ZipFile(path)
        members = _safe_members(archive, path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield Submission(path.stem, path, problem=f"{path}: not a usable zip archive ({exc})")
        return
    try:
        by_name = {m.filename: m for m in members}
        stripped = _strip_roots(list(by_name), name_pattern)
        groups: dict[str, list[tuple[str, zipfile.ZipInfo]]] = {}
        for relative, member in zip(stripped, by_name.values(), strict=True):
            top, *rest = PurePosixPath(relative).parts
            groups.setdefault(top, []).append(("/".join(rest), member))
        entries = [
            _zip_entry(path, archive, top, files)
            for top, files in sorted(groups.items(), key=lambda item: item[0])
        ]
        yield from list(_named(entries, path, name_pattern, namings, lazy))
    finally:
        if not lazy:
            archive.close()


def _zip_entry(
    path: Path, archive: zipfile.ZipFile, top: str, files: list[tuple[str, zipfile.ZipInfo]]
) -> _Entry:
    """One top-level entry of a zip: a file, or a folder of members."""
    first, member = files[0]
    where = Path(f"{path}!{member.filename[: len(member.filename) - len(first)].rstrip('/')}")
    if len(files) == 1 and first == "":
        member = files[0][1]

        def load_file(student: str, parse: bool) -> Submission:
            name = PurePosixPath(member.filename)
            try:
                if name.suffix.lower() == ".zip":
                    return _from_zip_bytes(
                        student, where, _read_member(archive, member, MAX_ZIP_BYTES), parse
                    )
                data = _read_member(archive, member)
                return from_bytes(student, where, name.name, data, parse)
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                return Submission(student, where, problem=f"{where}: cannot be read ({exc})")

        return _Entry(top, where, False, load_file, lambda: _member_text(archive, member))

    def load_folder(student: str, parse: bool) -> Submission:
        code = [(rel, m) for rel, m in files if PurePosixPath(rel).suffix.lower() in CODE_SUFFIXES]
        notebooks = [(rel, m) for rel, m in code if rel.lower().endswith(".ipynb")] or code
        if len(notebooks) != 1:
            what = ", ".join(rel for rel, _ in notebooks[:5]) if notebooks else "none"
            return Submission(
                student,
                where,
                problem=(
                    f"{where}: a submission folder must hold exactly one notebook or module "
                    f"(found {what}); remove the others and resubmit"
                ),
            )
        rel, member = notebooks[0]
        try:
            return from_bytes(student, where, rel, _read_member(archive, member), parse)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            return Submission(student, where, problem=f"{where}: cannot be read ({exc})")

    return _Entry(top, where, True, load_folder, lambda: "")


def _member_text(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> str:
    try:
        return _read_member(archive, member, 64 * 1024).decode("utf-8", "replace")
    except (zipfile.BadZipFile, OSError, ValueError):
        return ""


def _strip_roots(names: list[str], name_pattern: re.Pattern[str] | None) -> list[str]:
    """Member names without the folders that wrap the whole download (a zipped folder), unless
    that folder is itself a student's (one Moodle submission folder)."""
    while names and all(len(PurePosixPath(n).parts) > 1 for n in names):
        roots = {PurePosixPath(n).parts[0] for n in names}
        if len(roots) != 1 or _lms_identity(next(iter(roots)), name_pattern):
            break
        names = ["/".join(PurePosixPath(n).parts[1:]) for n in names]
    return names


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
    return members  # a member too large is refused when it is read, costing only its student


def _read_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int = MAX_FILE_BYTES
) -> bytes:
    """A member's bytes, reading no more than ``limit`` whatever its header claims."""
    if member.file_size > limit:
        raise ValueError(
            f"{member.filename} unpacks to {member.file_size / 1024**2:.0f} MB, more than the "
            f"{limit // 1024**2} MB a submission may be; remove large data files and resubmit"
        )
    with archive.open(member) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(
            f"{member.filename} unpacks to more than the {limit // 1024**2} MB a submission may "
            "be; remove large data files and resubmit"
        )
    return data


def _read_capped(path: Path) -> bytes:
    limit = MAX_ZIP_BYTES if path.suffix.lower() == ".zip" else MAX_FILE_BYTES
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(0, f"larger than {limit // 1024**2} MB")
    return data


# --- naming: LMS schemes, a pattern, or file names ------------------------------------------


@dataclass(frozen=True)
class Naming:
    """How the students of one folder or bulk-download zip were named."""

    source: Path
    scheme: str  # canvas | moodle | blackboard | pattern | files
    unnamed: tuple[str, ...] = ()  # entries the scheme or pattern did not fit: named by file

    def describe(self) -> str:
        """One line for people: which naming was used, and what did not fit it."""
        labels = {
            "canvas": "Canvas download: students named by Canvas user id",
            "moodle": "Moodle download: students named by Moodle participant id",
            "blackboard": "Blackboard download: students named by Blackboard username",
            "pattern": "students named by --name-pattern",
            "files": (
                "students named by file or folder name (no Canvas, Moodle or Blackboard naming "
                "found; --name-pattern REGEX with a (?P<student>...) group sets your own)"
            ),
        }
        line = f"{self.source}: {labels[self.scheme]}"
        if self.unnamed:
            shown = ", ".join(self.unnamed[:5]) + (" ..." if len(self.unnamed) > 5 else "")
            line += (
                f"; {len(self.unnamed)} entr{'y' if len(self.unnamed) == 1 else 'ies'} did not "
                f"fit and are named by file name: {shown}"
            )
        return line


@dataclass(frozen=True)
class _Entry:
    """One top-level item of a folder or bulk zip: a file, or a folder of files."""

    name: str
    where: Path
    is_folder: bool
    load: Callable[[str, bool], Submission]  # read it as this student's (parse: or hash only)
    text: Callable[[], str]  # its first bytes as text (Blackboard receipts)


@dataclass(frozen=True)
class _Lazy:
    """A lazily discovered submission's loader: called, it reads and parses the entry;
    ``peek()`` reads and hashes it only. Either way dressed with the shell's LMS metadata."""

    entry: _Entry
    student: str
    dress: Callable[[Submission], Submission]

    def __call__(self) -> Submission:
        return self.dress(_safely(self.entry.load, self.student, self.entry.where))

    def peek(self) -> Submission:
        return self.dress(_safely(self.entry.load, self.student, self.entry.where, parse=False))


def _folder_entries(folder: Path) -> list[_Entry]:
    entries = []
    for path in sorted(folder.iterdir()):
        if _ignored(path.name):
            continue
        link_out = _link_out(path, folder)
        if link_out is not None:
            entries.append(
                _Entry(
                    path.name,
                    path,
                    False,
                    partial(_renamed, link_out),
                    lambda: "",
                )
            )
            continue
        entries.append(
            _Entry(
                path.name,
                path,
                path.is_dir(),
                partial(_read_as, path),
                partial(_file_text, path),
            )
        )
    return entries


def _renamed(found: Submission, student: str, parse: bool) -> Submission:
    return replace(found, student=student)


def _read_as(path: Path, student: str, parse: bool) -> Submission:
    return replace(read_submission(path, parse), student=student)


def _file_text(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read(64 * 1024).decode("utf-8", "replace")
    except OSError:
        return ""


def _lms_identity(name: str, name_pattern: re.Pattern[str] | None) -> lms.Identity | None:
    if name_pattern is not None:
        return lms.by_pattern(name, name_pattern)
    for scheme in lms.SCHEMES:
        identity = lms.identify(name, scheme)
        if identity:
            return identity
    return None


def _named_file(submission: Submission, name: str, pattern: re.Pattern[str] | None) -> Submission:
    """A single file given on the command line keeps its stem unless its name is an LMS's."""
    identity = _lms_identity(name, pattern)
    if identity is None or identity.kind != "file":
        return submission
    return replace(
        submission,
        student=identity.student,
        late=identity.late,
        scheme=identity.scheme,
        display_name=identity.name,
        attempt=identity.attempt,
    )


def _named(
    entries: list[_Entry],
    source: Path,
    pattern: re.Pattern[str] | None,
    namings: list[Naming] | None,
    lazy: bool = False,
) -> Iterator[Submission]:
    """Name each entry, group a student's entries, and read the one to grade."""
    scheme = "pattern" if pattern is not None else lms.detect_scheme([e.name for e in entries])
    groups: dict[str, list[tuple[_Entry, lms.Identity]]] = {}
    unnamed = []
    found = []
    for entry in entries:
        identity = None
        if pattern is not None:
            identity = lms.by_pattern(entry.name, pattern)
        elif scheme is not None:
            identity = lms.identify(entry.name, scheme)
        if identity is None:
            identity = lms.by_file_name(entry.name, entry.is_folder)
            if scheme is not None:
                unnamed.append(entry.name)
        found.append((entry, identity))
    if scheme == "blackboard":  # the username comes from the attempt's receipt
        texts = {
            identity.key: entry.text for entry, identity in found if identity.kind == "receipt"
        }
        named = lms.blackboard_usernames([i for _, i in found], lambda i: texts[i.key]())
        found = [(entry, identity) for (entry, _), identity in zip(found, named, strict=True)]
    for entry, identity in found:
        groups.setdefault(identity.student, []).append((entry, identity))
    if namings is not None:
        namings.append(Naming(source, scheme or "files", tuple(unnamed)))
    for student in sorted(groups):
        yield _one_student(student, groups[student], lazy)


def _rank(item: tuple[_Entry, lms.Identity]) -> tuple:
    """Latest attempt first; within an attempt a notebook (or folder) before a zip before a
    module; then the latest upload (Canvas attachment id, ``-N`` suffix)."""
    entry, identity = item
    suffix = PurePosixPath(entry.name).suffix.lower()
    kind = 2 if entry.is_folder or suffix == ".ipynb" else 1 if suffix == ".zip" else 0
    return (identity.attempt, kind, identity.revision, entry.name)


def _one_student(
    student: str, items: list[tuple[_Entry, lms.Identity]], lazy: bool = False
) -> Submission:
    """The submission to grade among one student's entries; the others are listed."""
    receipts = [item for item in items if item[1].kind == "receipt"]
    texts = [item for item in items if item[1].kind in ("text", "link")]
    rest = [item for item in items if item not in receipts and item not in texts]
    code = [
        (entry, identity)
        for entry, identity in rest
        if entry.is_folder or PurePosixPath(entry.name).suffix.lower() in CODE_SUFFIXES + (".zip",)
    ]
    chosen = max(code or rest or texts or receipts, key=_rank)
    entry, identity = chosen
    problem = ""
    if chosen in texts:
        problem = (
            f"{entry.where}: a {'text entry' if identity.kind == 'text' else 'web link'} "
            "typed into the LMS, not a notebook or module; ask the student to upload "
            "their .ipynb or .py file"
        )
    elif chosen in receipts:
        problem = f"{entry.where}: only the submission receipt, no notebook or module attached"
    name = identity.name
    for receipt, _ in receipts:
        name = name or lms.receipt_name(receipt.text())
    others = tuple(str(e.where) for e, i in items if (e, i) != chosen and i.kind != "receipt")
    dress = partial(
        replace,
        student=student,
        late=identity.late,
        other_attempts=others,
        scheme=identity.scheme,
        display_name=name,
        attempt=identity.attempt,
    )
    if problem:
        return dress(Submission(student, entry.where, problem=problem))
    if lazy:  # the shell carries the metadata now; its loader reads the file, dressed the same
        return dress(Submission(student, entry.where), loader=_Lazy(entry, student, dress))
    return dress(_safely(entry.load, student, entry.where))


def _ignored(name: str) -> bool:
    """Hidden files and LMS/OS junk; "." and ".." are path parts, checked elsewhere."""
    return (name.startswith(".") and name not in (".", "..")) or name in IGNORED
