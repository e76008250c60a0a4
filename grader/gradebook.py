"""The gradebook: every result kept in SQLite as it is produced, so nothing is lost.

One row per (assignment, student) submission, with its content hash and the key of the plan
it was graded under (rubric, reference, hidden seed, grader version): a rerun grades only what
is missing or changed. One row per check result; manual grades and instructors' overrides of
automatic checks in their own tables, applied when results are read, so that they survive any
regrade. Each grading run is recorded. The file carries a schema version, and each stored
result its own, read by an upgrade path (:mod:`grader.stored`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from grader.errors import UserError
from grader.model import Override, SubmissionResult
from grader.stored import StoredResultError, result_from_dict, result_json

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, assignment TEXT NOT NULL, plan_key TEXT NOT NULL,
    hidden_seed INTEGER, sandbox TEXT, started TEXT NOT NULL, finished TEXT, graded INTEGER
);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY, assignment TEXT NOT NULL, student TEXT NOT NULL,
    path TEXT NOT NULL, content_hash TEXT NOT NULL, plan_key TEXT NOT NULL,
    run_id INTEGER REFERENCES runs(id), graded_at TEXT NOT NULL,
    score REAL NOT NULL, max_score REAL NOT NULL, problem TEXT, result TEXT NOT NULL,
    UNIQUE (assignment, student)
);
CREATE TABLE IF NOT EXISTS check_results (
    submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, check_id TEXT NOT NULL, status TEXT NOT NULL,
    score REAL NOT NULL, max_score REAL NOT NULL, feedback TEXT NOT NULL,
    PRIMARY KEY (submission_id, check_id)
);
CREATE TABLE IF NOT EXISTS manual_grades (
    assignment TEXT NOT NULL, student TEXT NOT NULL, check_id TEXT NOT NULL,
    score REAL NOT NULL, comment TEXT NOT NULL DEFAULT '', grader TEXT NOT NULL DEFAULT '',
    graded_at TEXT NOT NULL, PRIMARY KEY (assignment, student, check_id)
);
CREATE TABLE IF NOT EXISTS overrides (
    assignment TEXT NOT NULL, student TEXT NOT NULL, check_id TEXT NOT NULL,
    score REAL NOT NULL, reason TEXT NOT NULL, grader TEXT NOT NULL DEFAULT '',
    set_at TEXT NOT NULL, PRIMARY KEY (assignment, student, check_id)
);
CREATE TABLE IF NOT EXISTS rubric_items (
    id INTEGER PRIMARY KEY, assignment TEXT NOT NULL, check_id TEXT NOT NULL,
    points REAL NOT NULL, text TEXT NOT NULL, created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rubric_marks (
    assignment TEXT NOT NULL, student TEXT NOT NULL, check_id TEXT NOT NULL,
    item_id INTEGER NOT NULL REFERENCES rubric_items(id) ON DELETE CASCADE,
    PRIMARY KEY (assignment, student, check_id, item_id)
);
CREATE TABLE IF NOT EXISTS review_notes (
    assignment TEXT NOT NULL, student TEXT NOT NULL, check_id TEXT NOT NULL,
    adjustment REAL NOT NULL, comment TEXT NOT NULL DEFAULT '', reviewer TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL, updated TEXT NOT NULL, PRIMARY KEY (assignment, student, check_id)
);
"""


# student -> check id -> (score, comment or reason, grader)
_PerStudent = dict[str, dict[str, tuple[float, str, str]]]


class GradebookError(UserError, RuntimeError):
    """A gradebook that cannot be used, with the file and what to do."""


@dataclass(frozen=True)
class ManualGrade:
    """An instructor's stored grade of one written item."""

    score: float
    comment: str
    grader: str
    graded_at: str


@dataclass(frozen=True)
class RubricItem:
    """A reusable rubric item of one manual check: points added (negative: taken off)."""

    id: int
    check_id: str
    points: float
    text: str


@dataclass(frozen=True)
class ReviewNote:
    """What a reviewer entered for one answer, from which its grade is composed: the rubric
    items applied, the points given beyond them (``adjustment``) and the free comment."""

    items: tuple[int, ...]
    adjustment: float
    comment: str
    reviewer: str
    version: int


@dataclass(frozen=True)
class Stored:
    """What the gradebook knows of one student's graded submission, for resuming."""

    content_hash: str
    plan_key: str


class Gradebook:
    """A SQLite gradebook. Each recorded result is committed at once (WAL journal)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise GradebookError(
                f"{path}: not a usable gradebook ({exc}); move it away or pass another --gradebook"
            ) from exc
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            with self.db:
                self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) != SCHEMA_VERSION:
            raise GradebookError(
                f"{path}: gradebook schema {row[0]}, but this grader reads "
                f"schema {SCHEMA_VERSION}; use a matching grader version"
            )

    def close(self) -> None:
        self.db.close()

    def start_run(self, assignment: str, plan_key: str, hidden_seed: int, sandbox: str) -> int:
        with self.db:
            cursor = self.db.execute(
                "INSERT INTO runs (assignment, plan_key, hidden_seed, sandbox, started) "
                "VALUES (?, ?, ?, ?, ?)",
                (assignment, plan_key, hidden_seed, sandbox, _now()),
            )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, graded: int) -> None:
        with self.db:
            self.db.execute(
                "UPDATE runs SET finished = ?, graded = ? WHERE id = ?", (_now(), graded, run_id)
            )

    def stored(self, assignment: str) -> dict[str, Stored]:
        """Each graded student's content hash and plan key."""
        rows = self.db.execute(
            "SELECT student, content_hash, plan_key FROM submissions WHERE assignment = ?",
            (assignment,),
        )
        return {student: Stored(digest, key) for student, digest, key in rows}

    def record(
        self, run_id: int, plan_key: str, content_hash: str, result: SubmissionResult
    ) -> None:
        """Store one result (replacing an earlier one of the same student), committed now."""
        with self.db:
            self.db.execute(
                "DELETE FROM submissions WHERE assignment = ? AND student = ?",
                (result.assignment, result.student),
            )
            cursor = self.db.execute(
                "INSERT INTO submissions (assignment, student, path, content_hash, plan_key, "
                "run_id, graded_at, score, max_score, problem, result) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result.assignment,
                    result.student,
                    result.submission,
                    content_hash,
                    plan_key,
                    run_id,
                    _now(),
                    result.score,
                    result.max_score,
                    result.problem,
                    result_json(result),
                ),
            )
            self.db.executemany(
                "INSERT INTO check_results VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (cursor.lastrowid, i, c.id, c.status, c.score, c.max_score, c.feedback)
                    for i, c in enumerate(result.checks)
                ],
            )

    def results(
        self, assignment: str, students: set[str] | None = None
    ) -> Iterator[SubmissionResult]:
        """Stored results in student order, with manual grades and overrides applied; one at a
        time."""
        manual, overrides = self._manual(assignment), self._overrides(assignment)
        rows = self.db.execute(
            "SELECT student, result FROM submissions WHERE assignment = ? ORDER BY student",
            (assignment,),
        )
        for student, text in rows:
            if students is None or student in students:
                yield self._applied(text, student, manual, overrides)

    def _applied(
        self, text: str, student: str, manual: _PerStudent, overrides: _PerStudent
    ) -> SubmissionResult:
        """A stored result with the student's manual grades and overrides applied."""
        return _graded(self._read(text, student), manual, overrides)

    def _read(self, text: str, student: str) -> SubmissionResult:
        """A stored result, of any schema up to this grader's (:mod:`grader.stored`)."""
        try:
            return result_from_dict(json.loads(text))
        except (StoredResultError, ValueError) as exc:
            raise GradebookError(f"{self.path}: the result of {student}: {exc}") from None

    def result(self, assignment: str, student: str) -> SubmissionResult | None:
        """One student's stored result, manual grades and overrides applied, or None."""
        row = self.db.execute(
            "SELECT result FROM submissions WHERE assignment = ? AND student = ?",
            (assignment, student),
        ).fetchone()
        if row is None:
            return None
        manual, overrides = self._manual(assignment, student), self._overrides(assignment, student)
        return self._applied(row[0], student, manual, overrides)

    def with_grades(self, result: SubmissionResult) -> SubmissionResult:
        """``result`` with its student's stored manual grades and overrides applied: what
        :meth:`result` reads back once ``result`` is recorded, without decoding it again."""
        assignment, student = result.assignment, result.student
        manual, overrides = self._manual(assignment, student), self._overrides(assignment, student)
        return _graded(result, manual, overrides)

    def set_override(
        self,
        assignment: str,
        student: str,
        check_id: str,
        score: float,
        reason: str,
        grader: str = "",
    ) -> None:
        """An instructor's score for an automatic check, in place of the check's own."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO overrides VALUES (?, ?, ?, ?, ?, ?, ?)",
                (assignment, student, check_id, score, reason, grader, _now()),
            )

    def clear_override(self, assignment: str, student: str, check_id: str) -> bool:
        """Give the check its own score back; False when there was no override."""
        with self.db:
            cursor = self.db.execute(
                "DELETE FROM overrides WHERE assignment = ? AND student = ? AND check_id = ?",
                (assignment, student, check_id),
            )
        return cursor.rowcount > 0

    def set_manual_grade(
        self,
        assignment: str,
        student: str,
        check_id: str,
        score: float,
        comment: str = "",
        grader: str = "",
    ) -> None:
        self.set_manual_grades(assignment, [(student, check_id, score, comment, grader)])

    def set_manual_grades(
        self, assignment: str, grades: list[tuple[str, str, float, str, str]]
    ) -> None:
        """Store (student, check id, score, comment, grader) rows in one transaction."""
        now = _now()
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO manual_grades VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(assignment, *grade, now) for grade in grades],
            )

    def manual_grades(self, assignment: str) -> dict[tuple[str, str], ManualGrade]:
        """Every stored manual grade of an assignment, by (student, check id)."""
        rows = self.db.execute(
            "SELECT student, check_id, score, comment, grader, graded_at FROM manual_grades "
            "WHERE assignment = ?",
            (assignment,),
        )
        return {(s, c): ManualGrade(score, comment, g, at) for s, c, score, comment, g, at in rows}

    # --- the review workbench: rubric items and what a reviewer entered per answer ----------

    def rubric_items(self, assignment: str, check_id: str | None = None) -> list[RubricItem]:
        """The rubric items of one check (or of all), in the order they were created."""
        rows = self.db.execute(
            "SELECT id, check_id, points, text FROM rubric_items WHERE assignment = ? "
            "AND (? IS NULL OR check_id = ?) ORDER BY id",
            (assignment, check_id, check_id),
        )
        return [RubricItem(*row) for row in rows]

    def add_rubric_item(self, assignment: str, check_id: str, points: float, text: str) -> int:
        with self.db:
            cursor = self.db.execute(
                "INSERT INTO rubric_items (assignment, check_id, points, text, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (assignment, check_id, points, text, _now()),
            )
        return int(cursor.lastrowid or 0)

    def update_rubric_item(self, item_id: int, points: float, text: str) -> None:
        with self.db:
            self.db.execute(
                "UPDATE rubric_items SET points = ?, text = ? WHERE id = ?",
                (points, text, item_id),
            )

    def review_notes(
        self, assignment: str, check_id: str | None = None
    ) -> dict[tuple[str, str], ReviewNote]:
        """What reviewers entered, by (student, check id)."""
        marks: dict[tuple[str, str], list[int]] = {}
        for student, check, item in self.db.execute(
            "SELECT student, check_id, item_id FROM rubric_marks WHERE assignment = ? "
            "AND (? IS NULL OR check_id = ?) ORDER BY item_id",
            (assignment, check_id, check_id),
        ):
            marks.setdefault((student, check), []).append(item)
        notes = {}
        for student, check, adjustment, comment, reviewer, version in self.db.execute(
            "SELECT student, check_id, adjustment, comment, reviewer, version FROM review_notes "
            "WHERE assignment = ? AND (? IS NULL OR check_id = ?)",
            (assignment, check_id, check_id),
        ):
            items = tuple(marks.get((student, check), ()))
            notes[student, check] = ReviewNote(items, adjustment, comment, reviewer, version)
        return notes

    def save_review_note(
        self,
        assignment: str,
        student: str,
        check_id: str,
        items: tuple[int, ...],
        adjustment: float,
        comment: str,
        reviewer: str,
    ) -> None:
        """Replace what was entered for one answer, in one transaction; its version goes up."""
        with self.db:
            self.db.execute(
                "DELETE FROM rubric_marks WHERE assignment = ? AND student = ? AND check_id = ?",
                (assignment, student, check_id),
            )
            self.db.executemany(
                "INSERT INTO rubric_marks VALUES (?, ?, ?, ?)",
                [(assignment, student, check_id, item) for item in sorted(set(items))],
            )
            self.db.execute(
                "INSERT INTO review_notes VALUES (?, ?, ?, ?, ?, ?, 1, ?) "
                "ON CONFLICT (assignment, student, check_id) DO UPDATE SET "
                "adjustment = excluded.adjustment, comment = excluded.comment, "
                "reviewer = excluded.reviewer, version = review_notes.version + 1, "
                "updated = excluded.updated",
                (assignment, student, check_id, adjustment, comment, reviewer, _now()),
            )

    def _manual(self, assignment: str, student: str | None = None) -> _PerStudent:
        """Manual grades by student and check: (score, comment, grader)."""
        return self._per_student("manual_grades", "comment", assignment, student)

    def _overrides(self, assignment: str, student: str | None = None) -> _PerStudent:
        """Overrides by student and check: (score, reason, grader)."""
        return self._per_student("overrides", "reason", assignment, student)

    def _per_student(
        self, table: str, text: str, assignment: str, student: str | None
    ) -> _PerStudent:
        query = f"SELECT student, check_id, score, {text}, grader FROM {table} WHERE assignment = ?"
        args: tuple[str, ...] = (assignment,)
        if student is not None:
            query, args = query + " AND student = ?", (assignment, student)
        found: _PerStudent = {}
        for who, check_id, score, words, grader in self.db.execute(query, args):
            found.setdefault(who, {})[check_id] = (score, words, grader)
        return found


def _graded(
    result: SubmissionResult, manual: _PerStudent, overrides: _PerStudent
) -> SubmissionResult:
    """``result`` with its student's manual grades, then overrides, applied."""
    student = result.student
    result = _with_manual(result, manual.get(student, {}))
    return _with_overrides(result, overrides.get(student, {}))


def _with_manual(
    result: SubmissionResult, grades: dict[str, tuple[float, str, str]]
) -> SubmissionResult:
    """Manual items an instructor graded: passed with any credit, failed with none; the
    instructor's comment is the feedback."""
    if not grades:
        return result
    checks = []
    for check in result.checks:
        if check.status == "manual" and check.id in grades:
            score, comment, grader = grades[check.id]
            score = min(max(score, 0.0), check.max_score)
            by = f" ({grader})" if grader else ""
            note = comment or "Graded by hand."
            check = replace(
                check,
                status="passed" if score > 0 else "failed",
                score=score,
                feedback=f"{note}{by}",
            )
        checks.append(check)
    return replace(result, checks=tuple(checks))


def _with_overrides(
    result: SubmissionResult, overrides: dict[str, tuple[float, str, str]]
) -> SubmissionResult:
    """Automatic checks an instructor overrode: the instructor's score, the check's own status
    and feedback, and what it scored before (shown as overridden in reports and the summary)."""
    if not overrides:
        return result
    checks = []
    for check in result.checks:
        if check.id in overrides and check.status != "manual":
            score, reason, grader = overrides[check.id]
            check = replace(
                check,
                score=min(max(score, 0.0), check.max_score),
                override=Override(check.score, reason, grader),
            )
        checks.append(check)
    return replace(result, checks=tuple(checks))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
