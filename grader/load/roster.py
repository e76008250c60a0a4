"""The class roster: LMS ids mapped to names, emails, SIS ids and sections.

A roster is a CSV file with a header row. Its columns are recognised by name, case-insensitive,
so that an LMS's own export serves as it is:

- ``id`` (required): the id the submissions are named by; also ``ID`` (Canvas gradebook
  export), ``Identifier`` (Moodle worksheet, ``Participant 123`` → ``123``, and its names in
  the common languages of Moodle), ``Username`` (Blackboard: a Grade Center download matches
  by Username, its ``Student ID`` is kept as the SIS id), ``Student ID``, ``user_id``;
- ``name`` (``Student``, ``Full name``), or ``first_name`` / ``last_name`` (``First Name``,
  ``Last Name``); ``email`` (``Email address``); ``sis_id`` (``SIS User ID``, ``ID number``);
  ``login_id`` (``SIS Login ID``); ``section``; ``lti_id`` (the LTI ``sub`` of the student);
  ``max_grade`` (a Moodle worksheet's ``Maximum grade``, checked against the assignment).

A submission is matched to a roster row by id, then by login id, SIS id or email.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader.load.discover import UsageError

FIELDS: dict[str, tuple[str, ...]] = {
    # Moodle's worksheet: get_string('recordid', 'assign') in each language pack
    # (projectestac/moodle-langpacks ``*/assign.php``; German's is plain "ID").
    "id": (
        "id",
        "identifier",
        "username",
        "student id",
        "user id",
        "user_id",
        "participant",
        "identifiant",
        "identificador",
        "identificativo",
        "identificatie",
        "identifierare",
        "идентификатор",
    ),
    "name": (
        "name",
        "student",
        "full name",
        "fullname",
        "student name",
        "vollständiger name",
        "nom complet",
        "nombre completo",
        "nome completo",
        "volledige naam",
        "fullständigt namn",
        "полное имя",
    ),
    "first_name": ("first_name", "first name", "firstname", "given name"),
    "last_name": ("last_name", "last name", "lastname", "surname", "family name"),
    "email": (
        "email",
        "email address",
        "e-mail",
        "mail",
        "e-mail-adresse",
        "adresse de courriel",
        "dirección de correo",
        "adreça electrònica",
        "indirizzo email",
        "e-mailadres",
        "e-postadress",
        "адрес электронной почты",
    ),
    "sis_id": ("sis_id", "sis user id", "id number", "idnumber", "student number", "student id"),
    "login_id": ("login_id", "sis login id", "login", "login id"),
    "section": ("section", "sections", "group"),
    "lti_id": ("lti_id", "lti user id", "lti_user_id", "sub"),
    # Moodle's worksheet: get_string('maxgrade', 'assign')
    "max_grade": (
        "maximum grade",
        "bestwertung",
        "note maximale",
        "calificación máxima",
        "qualificació màxima",
        "valutazione massima",
        "nota máxima",
        "maximaal cijfer",
        "maxbetyg",
        "максимальная оценка",
    ),
}
# Moodle's worksheet Identifier is get_string('hiddenuser', 'assign') followed by the
# participant id: "Participant 123" in English, "Teilnehmer/in123" in German (the importer strips
# the string's length, ``mod/assign/feedback/offline/importgradeslib.php``, ``next``).
PARTICIPANT_PREFIXES = (
    "participant",
    "teilnehmer/in",
    "participante",
    "partecipante",
    "deelnemer",
    "deltagare",
    "участник",
    "参加者",
)
_PARTICIPANT = re.compile(
    "^(?:" + "|".join(re.escape(p) for p in PARTICIPANT_PREFIXES) + r")\s*(\d+)$", re.IGNORECASE
)


class RosterError(UsageError):
    """A roster file that cannot be used: which file, what is wrong, what to do."""


@dataclass(frozen=True)
class RosterStudent:
    """One row of the roster."""

    id: str
    name: str = ""
    email: str = ""
    sis_id: str = ""
    login_id: str = ""
    section: str = ""
    lti_id: str = ""
    first_name: str = ""
    last_name: str = ""
    max_grade: str = ""  # a Moodle worksheet's "Maximum grade" of the assignment

    def to_json(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RosterStudent:
        known = {k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    @property
    def given_and_family(self) -> tuple[str, str]:
        """First and last name: given, or split from the full name at its last space."""
        if self.first_name or self.last_name:
            return self.first_name, self.last_name
        if "," in self.name:  # "Lovelace, Ada", Canvas's sortable name
            last, _, first = self.name.partition(",")
            return first.strip(), last.strip()
        first, _, last = self.name.rpartition(" ")
        return (first, last) if first else (last, "")

    @property
    def display(self) -> str:
        return self.name or " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass(frozen=True)
class Roster:
    """The students of a class, in the roster's order."""

    path: str
    students: tuple[RosterStudent, ...]

    def match(self, student_id: str) -> RosterStudent | None:
        """The roster row for a submission's id: by id, then login id, SIS id or email."""
        key = student_id.strip().casefold()
        for field in ("id", "login_id", "sis_id", "email"):
            for row in self.students:
                if getattr(row, field) and getattr(row, field).strip().casefold() == key:
                    return row
        return None

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "students": [s.to_json() for s in self.students]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Roster:
        return cls(
            str(data.get("path", "")),
            tuple(RosterStudent.from_json(s) for s in data.get("students", [])),
        )


@dataclass(frozen=True)
class Reconciled:
    """Submissions and roster side by side."""

    matched: dict[str, RosterStudent]  # submission's student id -> roster row
    unmatched: tuple[str, ...]  # graded, but not on the roster
    missing: tuple[RosterStudent, ...]  # on the roster, no submission

    def describe(self, roster: Roster) -> list[str]:
        """Lines for the batch summary."""
        lines = [
            f"Roster {roster.path}: {len(roster.students)} student(s), "
            f"{len(self.matched)} with a submission"
        ]
        if self.missing:
            names = ", ".join(f"{s.display or s.id} ({s.id})" for s in self.missing)
            lines.append(
                f"{len(self.missing)} on the roster without a submission (no row in an LMS "
                f"export, so the LMS keeps any grade it holds): {names}"
            )
        if self.unmatched:
            lines.append(
                f"{len(self.unmatched)} submission(s) not on the roster (graded and exported "
                f"all the same; check their ids): {', '.join(self.unmatched)}"
            )
        return lines


def read_roster(path: Path) -> Roster:
    """Read a roster CSV file; a missing file or id column is an error saying what to do."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise RosterError(f"{path}: no such roster file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"{path}: cannot be read as UTF-8 text ({exc})") from None
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        raise RosterError(f"{path}: the roster is empty; it needs a header row with an id column")
    columns = _columns(header)
    if "id" not in columns:
        raise RosterError(
            f"{path}: no id column in the header ({', '.join(h for h in header if h)}); "
            "name the column of student ids 'id' (or ID, Identifier, Username)"
        )
    students = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        values = {
            field: row[index].strip() if index < len(row) else ""
            for field, index in columns.items()
        }
        participant = _PARTICIPANT.match(values["id"])
        if participant:
            values["id"] = participant.group(1)
        if values["id"] and not values["id"].casefold().startswith("points possible"):
            students.append(RosterStudent(**values))
    ids = [s.id for s in students]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RosterError(f"{path}: the id(s) {', '.join(duplicates)} appear more than once")
    return Roster(str(path), tuple(students))


def reconcile(roster: Roster, student_ids: Iterable[str]) -> Reconciled:
    """Which submissions are on the roster, which are not, and who did not submit."""
    matched: dict[str, RosterStudent] = {}
    unmatched = []
    for student in dict.fromkeys(student_ids):
        row = roster.match(student)
        if row is None:
            unmatched.append(student)
        else:
            matched[student] = row
    seen = {row.id for row in matched.values()}
    missing = tuple(s for s in roster.students if s.id not in seen)
    return Reconciled(matched, tuple(unmatched), missing)


def _columns(header: list[str]) -> dict[str, int]:
    """Field name -> column index, from the header's names (the first match of each wins)."""
    columns: dict[str, int] = {}
    normal = [h.strip().casefold() for h in header]
    for field, aliases in FIELDS.items():
        for alias in aliases:
            if alias in normal and normal.index(alias) not in columns.values():
                columns[field] = normal.index(alias)
                break
    return columns
