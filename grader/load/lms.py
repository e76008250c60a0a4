"""LMS naming schemes: who submitted a file, as told by the name a bulk download gave it.

Each scheme turns the name of one top-level entry of a bulk download (a file, or a folder of
files) into an Identity: the LMS's own student id, the display name where the LMS puts one in,
the late marker, and a key that orders a student's attempts. Nothing here reads files; the
loader (``grader/load/discover.py``) does that and asks this module only about names.

The schemes, and where each was checked:

- Canvas "Download Submissions": canvas-lms ``app/models/content_zipper.rb`` (``get_filename``,
  ``add_upload_submission``, ``add_text_or_url``) builds
  ``[sortable_name, 'LATE' if late, user_id].join('_')``, strips every non-word character and
  lower-cases it, then appends ``_<attachment id>_<display name>`` for an upload or
  ``_text.html`` / ``_link.html`` for a text entry or URL. A re-uploaded file name gets
  Canvas's ``-1``, ``-2`` suffix; attachment ids grow with time.
- Moodle "Download all submissions": ``mod/assign/locallib.php`` (``download_submissions``)
  builds ``clean_filename(fullname with '_' → ' ' + '_' + uniqueid)`` (``Participant`` instead
  of the name under blind marking, ``Group-`` before it for team submissions), then
  ``_assignsubmission_file_`` either as a folder holding the files or, flat, followed by the
  file name. The unique id is the one the offline grading worksheet writes as ``Participant N``.
- Blackboard "Assignment File Download" (Grade Centre): ``Assignment_username_attempt_`` plus a
  ``YYYY-MM-DD-HH-MM-SS`` timestamp, then ``_originalname`` for each file and ``.txt`` for the
  receipt (``Name: Full Name (username)``). vangef/BBGradebookOrganiser ``utils/organiser.py``
  splits on ``_attempt_`` and takes the last ``_`` field, which cuts a username holding ``_``
  (``jo_smith`` → ``smith``): here the receipt's username wins (``blackboard_usernames``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from grader.errors import UserError

SCHEMES = ("canvas", "moodle", "blackboard")


class NamePatternError(UserError, ValueError):
    """A ``--name-pattern`` that cannot be used."""


@dataclass(frozen=True)
class Identity:
    """Who submitted one entry of a bulk download, as its name tells."""

    student: str  # the LMS's own id (Canvas user id, Moodle participant id, Blackboard username)
    scheme: str  # canvas | moodle | blackboard | pattern | files
    name: str = ""  # display name, where the LMS writes one
    late: bool = False
    attempt: str = ""  # sortable: a later attempt sorts after an earlier one ("" for none)
    revision: tuple[int, ...] = ()  # within one attempt: Canvas attachment id, then -N suffix
    original: str = ""  # the file name the student uploaded
    kind: str = "file"  # file | text (a typed text entry) | link | receipt | folder
    key: str = ""  # Blackboard: the attempt's stem, shared by its files and its receipt


# --- Canvas ---------------------------------------------------------------------------------

# ``get_filename``: [name, "LATE" if late, id].join("_"); the name is the lower-cased sortable
# name (absent when the assignment anonymises students), the id ``anon_<anonymous id>`` under
# anonymous grading. Older Canvas lower-cased the whole stem (``_late_``): both are read.
_CANVAS_HEAD = r"^(?:(?P<name>.+?)_)??(?P<late>(?i:late)_)?(?P<id>anon_[A-Za-z0-9]+|\d+)"
_CANVAS_UPLOAD = re.compile(_CANVAS_HEAD + r"_(?P<attachment>\d+)_(?P<original>.+)$")
_CANVAS_TEXT = re.compile(_CANVAS_HEAD + r"_(?P<kind>text|link)\.html$")
_RESUBMIT = re.compile(r"-(\d+)$")


def canvas(entry: str) -> Identity | None:
    """``sortablename[_LATE]_userid_attachmentid_original`` or ``..._userid_text.html``; under
    anonymous grading ``[LATE_]anon_XXXXX_attachmentid_original`` (one student per anon id)."""
    match = _CANVAS_TEXT.match(entry)
    if match:
        return Identity(
            match["id"],
            "canvas",
            name=match["name"] or "",
            late=bool(match["late"]),
            kind=match["kind"],
            original=f"{match['kind']}.html",
        )
    match = _CANVAS_UPLOAD.match(entry)
    if not match:
        return None
    original = match["original"]
    suffix = _RESUBMIT.search(PurePosixPath(original).stem)
    return Identity(
        match["id"],
        "canvas",
        name=match["name"] or "",
        late=bool(match["late"]),
        revision=(int(match["attachment"]), int(suffix.group(1)) if suffix else 0),
        original=original,
    )


# --- Moodle ---------------------------------------------------------------------------------

_MOODLE = re.compile(
    r"^(?P<name>[^_]+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<original>.*)$"
)
_BLIND = "Participant"  # get_string('participant', 'assign') under blind marking


def moodle(entry: str) -> Identity | None:
    """``Full Name_participantid_assignsubmission_file_`` (a folder) or ``..._file_name``."""
    match = _MOODLE.match(entry)
    if not match:
        return None
    name = match["name"].strip()
    original = match["original"]
    kind = "text" if match["plugin"] == "onlinetext" else "folder" if not original else "file"
    return Identity(
        match["id"],
        "moodle",
        name="" if name == _BLIND else name,
        original=original,
        kind=kind,
    )


# --- Blackboard -----------------------------------------------------------------------------

_BLACKBOARD = re.compile(
    r"^(?P<stem>(?P<owner>.+)_attempt_(?P<time>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}))"
    r"(?:_(?P<original>.+)|(?P<receipt>\.txt))?$"
)
_RECEIPT_NAME = re.compile(r"^Name:\s*(?P<name>.*?)\s*\((?P<id>[^()]*)\)\s*$", re.MULTILINE)


def blackboard(entry: str) -> Identity | None:
    """``Assignment_username_attempt_YYYY-MM-DD-HH-MM-SS[_original]`` and its ``.txt`` receipt.

    The username alone cannot be told from the assignment's name here (both may hold ``_``):
    this guesses the last ``_`` field, and :func:`blackboard_usernames` puts the receipt's
    username in its place."""
    match = _BLACKBOARD.match(entry)
    if not match:
        return None
    return Identity(
        match["owner"].rpartition("_")[2],
        "blackboard",
        attempt=match["time"],
        original=match["original"] or "",
        kind="receipt" if match["receipt"] else "file",
        key=match["stem"],
    )


def receipt_name(text: str) -> str:
    """The student's full name from a Blackboard receipt (``Name: Ada Lovelace (alovelace)``)."""
    match = _RECEIPT_NAME.search(text)
    return match["name"] if match else ""


def receipt_username(text: str) -> str:
    """The username from a Blackboard receipt (``Name: Jo Smith (jo_smith)`` → ``jo_smith``)."""
    match = _RECEIPT_NAME.search(text)
    return match["id"].strip() if match else ""


def blackboard_usernames(
    identities: list[Identity], receipt_text: Callable[[Identity], str]
) -> list[Identity]:
    """Each Blackboard entry named by the username its attempt's receipt gives.

    An attempt without a receipt loses the assignment's name as learned from the receipts
    (``owner`` = assignment + ``_`` + username), or else the longest ``_``-bounded prefix all
    entries share; only when neither is known does the last-field guess stay."""
    users: dict[str, str] = {}
    for identity in identities:
        if identity.kind == "receipt":
            username = receipt_username(receipt_text(identity))
            if username:
                users[identity.key] = username
    owners = {i.key: i.key.rpartition("_attempt_")[0] for i in identities}
    prefixes = {
        owners[key][: -len(user) - 1]
        for key, user in users.items()
        if owners[key].endswith("_" + user)
    }
    if not prefixes and len(set(owners.values())) > 1:
        common = os.path.commonprefix([o + "_" for o in owners.values()])
        prefixes = {common[: common.rfind("_")]} if "_" in common else set()
    named = []
    for identity in identities:
        owner = owners[identity.key]
        student = users.get(identity.key, "")
        for prefix in sorted(prefixes, key=len, reverse=True):
            if not student and prefix and owner.startswith(prefix + "_"):
                student = owner[len(prefix) + 1 :]
        named.append(replace(identity, student=student) if student else identity)
    return named


# --- a pattern of the instructor's own ------------------------------------------------------

_FIELDS = ("student", "name", "late", "attempt")


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A ``--name-pattern`` regex: it needs a ``(?P<student>...)`` group; ``name``, ``late``
    (late when it matched anything) and ``attempt`` (sorted as text) are optional."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise NamePatternError(f"--name-pattern {pattern!r} is not a valid regex ({exc})") from exc
    if "student" not in compiled.groupindex:
        raise NamePatternError(
            f"--name-pattern {pattern!r} has no (?P<student>...) group: name the part of the "
            "file name that is the student id, e.g. '(?P<student>[a-z]+[0-9]*)_sheet3'"
        )
    unknown = sorted(set(compiled.groupindex) - set(_FIELDS))
    if unknown:
        raise NamePatternError(
            f"--name-pattern has unknown group(s) {', '.join(unknown)}; "
            f"the groups it may name are {', '.join(_FIELDS)}"
        )
    return compiled


def by_pattern(entry: str, pattern: re.Pattern[str]) -> Identity | None:
    """The identity a pattern finds in a name (searched, so it need not cover all of it)."""
    match = pattern.search(entry)
    if not match or not match["student"]:
        return None
    groups = match.groupdict()
    return Identity(
        match["student"],
        "pattern",
        name=groups.get("name") or "",
        late=bool(groups.get("late")),
        attempt=groups.get("attempt") or "",
    )


# --- choosing a scheme ----------------------------------------------------------------------

PARSERS = {"canvas": canvas, "moodle": moodle, "blackboard": blackboard}


def identify(entry: str, scheme: str) -> Identity | None:
    """The identity of one entry name under a known scheme, or None when it does not fit."""
    return PARSERS[scheme](entry)


def detect_scheme(entries: list[str]) -> str | None:
    """The scheme that names the most entries, or None when no scheme names any."""
    counts = {scheme: sum(identify(e, scheme) is not None for e in entries) for scheme in SCHEMES}
    best = max(SCHEMES, key=lambda scheme: counts[scheme])
    return best if counts[best] else None


def by_file_name(entry: str, is_folder: bool) -> Identity:
    """The fallback: a file's stem (``alice.ipynb`` → ``alice``) or a folder's name."""
    return Identity(entry if is_folder else PurePosixPath(entry).stem, "files")
