"""A graded folder as the exports read it: ``results.json`` plus ``submissions.json``.

``grader grade`` writes ``DIR/submissions.json`` beside the contract's ``results.json``: the
assignment's checks (points, manual or not, hidden or public), how each submission was named
by its LMS (scheme, display name, late marker, other attempts) and the roster. The exports
read a graded folder only through ``load_graded``, so that a gradebook can replace these files
later without touching the formats.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.atomic import write_json_atomic
from grader.load.discover import UsageError
from grader.load.roster import Roster, RosterStudent, reconcile
from grader.model import CheckResult, Submission, SubmissionResult

SIDECAR = "submissions.json"
SCHEMA = 1


@dataclass(frozen=True)
class CheckInfo:
    """What an export needs to know of a rubric item."""

    id: str
    max_score: float
    title: str = ""
    manual: bool = False
    hidden: bool = False  # every case hidden: shown to students only once grades are published


@dataclass(frozen=True)
class Origin:
    """Where a graded submission came from, as its LMS named it."""

    scheme: str = ""
    display_name: str = ""
    late: bool = False
    attempt: str = ""
    other_attempts: tuple[str, ...] = ()
    problem: str | None = None  # why the submission could not be read


@dataclass(frozen=True)
class GradedEntry:
    """One student in an export: a graded submission, a roster row, or both."""

    student: str  # the id the LMS knows the student by
    result: SubmissionResult | None  # None: on the roster, no submission
    person: RosterStudent | None = None  # None: no roster, or not on it
    origin: Origin = field(default_factory=Origin)

    @property
    def open_manual(self) -> tuple[CheckResult, ...]:
        """Manual items still waiting for an instructor's grade."""
        return tuple(c for c in self.result.checks if c.status == "manual") if self.result else ()

    @property
    def pending_points(self) -> float:
        return round(sum(c.max_score for c in self.open_manual), 6)

    @property
    def name(self) -> str:
        """The best display name known: the roster's, else the LMS's."""
        return (self.person.display if self.person else "") or self.origin.display_name

    @property
    def status(self) -> str:
        """graded | pending manual | unreadable | no submission"""
        if self.result is None:
            return "no submission"
        if self.origin.problem:
            return "unreadable"
        return "pending manual" if self.open_manual else "graded"


@dataclass(frozen=True)
class Graded:
    """A graded folder: its entries, its checks and its assignment."""

    folder: Path
    assignment: str
    title: str
    checks: tuple[CheckInfo, ...]
    entries: tuple[GradedEntry, ...]
    roster: Roster | None = None

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 6)


def check_infos(assignment: Assignment) -> tuple[CheckInfo, ...]:
    """The rubric's items as exports see them."""
    return tuple(
        CheckInfo(
            spec.id,
            float(spec.points),
            spec.title,
            spec.manual,
            hidden=bool(spec.cases) and all(c.visibility == "hidden" for c in spec.cases),
        )
        for spec in assignment.checks
    )


def write_sidecar(
    folder: Path,
    assignment: Assignment,
    submissions: list[Submission],
    roster: Roster | None,
) -> Path:
    """Record the LMS metadata and roster of a batch in ``DIR/submissions.json``."""
    data = {
        "schema": SCHEMA,
        "assignment": assignment.name,
        "title": assignment.title,
        "checks": [vars(info) for info in check_infos(assignment)],
        "submissions": [
            {
                "student": s.student,
                "submission": str(s.path),
                "scheme": s.scheme,
                "display_name": s.display_name,
                "late": s.late,
                "attempt": s.attempt,
                "other_attempts": list(s.other_attempts),
                "problem": s.problem,
            }
            for s in submissions
        ],
        "roster": roster.to_json() if roster else None,
    }
    return write_json_atomic(data, folder / SIDECAR)


def lms_summary(submissions: list[Submission], roster: Roster | None) -> list[str]:
    """Lines for the end of a batch: late and repeated submissions, and the roster's verdict."""
    lines = []
    late = [s.student for s in submissions if s.late]
    if late:
        lines.append(f"{len(late)} submission(s) marked late by the LMS: {', '.join(late)}")
    repeated = [s for s in submissions if s.other_attempts]
    if repeated:
        lines.append(
            f"{len(repeated)} student(s) sent more than one file or attempt; the latest was "
            "graded, the others are listed in submissions.json: "
            + ", ".join(f"{s.student} (+{len(s.other_attempts)})" for s in repeated)
        )
    if roster is not None:
        lines += reconcile(roster, [s.student for s in submissions]).describe(roster)
    return lines


def load_graded(folder: Path, roster: Roster | None = None) -> Graded:
    """Read a graded folder; ``roster`` (when given) replaces the one recorded at grading."""
    results_path = folder / "results.json"
    if not results_path.exists():
        raise UsageError(
            f"{folder}: no results.json here; grade first (grader grade PATH --out {folder})"
        )
    results = _read_json(results_path)
    if not isinstance(results, list):
        raise UsageError(f"{results_path}: expected a JSON array of results (see the contract)")
    side = _read_json(folder / SIDECAR) if (folder / SIDECAR).exists() else {}
    if side and side.get("schema", SCHEMA) > SCHEMA:
        raise UsageError(
            f"{folder / SIDECAR}: written by a newer grader (schema {side['schema']}); upgrade"
        )
    graded_results = [_result(entry, results_path) for entry in results]
    checks = tuple(CheckInfo(**c) for c in side.get("checks", [])) or _checks_from(graded_results)
    origins = {
        (s["student"], s["submission"]): Origin(
            s.get("scheme", ""),
            s.get("display_name", ""),
            bool(s.get("late", False)),
            s.get("attempt", ""),
            tuple(s.get("other_attempts", ())),
            s.get("problem"),
        )
        for s in side.get("submissions", [])
    }
    if roster is None and side.get("roster"):
        roster = Roster.from_json(side["roster"])
    entries = []
    matched = reconcile(roster, [r.student for r in graded_results]) if roster else None
    for result in graded_results:
        person = matched.matched.get(result.student) if matched else None
        origin = origins.get((result.student, result.submission), Origin())
        entries.append(GradedEntry(result.student, result, person, origin))
    if matched:
        entries += [GradedEntry(s.id, None, s) for s in matched.missing]
    assignment = side.get("assignment") or (graded_results[0].assignment if results else "")
    return Graded(
        folder,
        assignment,
        side.get("title", assignment),
        checks,
        tuple(entries),
        roster,
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot be read as JSON ({exc})") from None


def _result(entry: dict[str, Any], where: Path) -> SubmissionResult:
    try:
        checks = tuple(
            CheckResult(
                c["id"],
                c["status"],
                float(c["score"]),
                float(c["max_score"]),
                c.get("feedback", ""),
            )
            for c in entry["checks"]
        )
        return SubmissionResult(str(entry["student"]), str(entry["submission"]), checks)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{where}: an entry does not follow the contract ({exc!r})") from None


def _checks_from(results: list[SubmissionResult]) -> tuple[CheckInfo, ...]:
    """Without the sidecar, the checks as the first result lists them."""
    if not results:
        return ()
    return tuple(
        CheckInfo(c.id, c.max_score, manual=c.status == "manual") for c in results[0].checks
    )
