"""The gradebook: every result kept in SQLite as it is produced, so nothing is lost.

One row per (assignment, student) submission, with its content hash and the key of the plan
it was graded under (rubric, reference, hidden seed, grader version): a rerun grades only what
is missing or changed. One row per check result; manual grades in their own table, applied
when results are read. Each grading run is recorded. The file carries a schema version.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from grader.errors import UserError
from grader.model import CaseResult, CheckResult, Plot, RunLog, SubmissionResult

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
"""


class GradebookError(UserError, RuntimeError):
    """A gradebook that cannot be used, with the file and what to do."""


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
                    json.dumps(result_to_dict(result)),
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
        """Stored results in student order, with manual grades applied; one at a time."""
        manual = self._manual(assignment)
        rows = self.db.execute(
            "SELECT student, result FROM submissions WHERE assignment = ? ORDER BY student",
            (assignment,),
        )
        for student, text in rows:
            if students is None or student in students:
                yield _with_manual(result_from_dict(json.loads(text)), manual.get(student, {}))

    def set_manual_grade(
        self,
        assignment: str,
        student: str,
        check_id: str,
        score: float,
        comment: str = "",
        grader: str = "",
    ) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO manual_grades VALUES (?, ?, ?, ?, ?, ?, ?)",
                (assignment, student, check_id, score, comment, grader, _now()),
            )

    def _manual(self, assignment: str) -> dict[str, dict[str, tuple[float, str, str]]]:
        grades: dict[str, dict[str, tuple[float, str, str]]] = {}
        for student, check_id, score, comment, grader in self.db.execute(
            "SELECT student, check_id, score, comment, grader FROM manual_grades "
            "WHERE assignment = ?",
            (assignment,),
        ):
            grades.setdefault(student, {})[check_id] = (score, comment, grader)
        return grades


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


def result_to_dict(result: SubmissionResult) -> dict[str, Any]:
    return asdict(result)


def result_from_dict(data: dict[str, Any]) -> SubmissionResult:
    """Rebuild a SubmissionResult (and its nested dataclasses) from :func:`result_to_dict`."""
    checks = tuple(
        CheckResult(
            **{
                **c,
                "cases": tuple(
                    CaseResult(**{**k, "plot": Plot(**k["plot"]) if k.get("plot") else None})
                    for k in c.get("cases", ())
                ),
            }
        )
        for c in data["checks"]
    )
    log = data.get("log") or {}
    log = RunLog(**{**log, "cell_errors": tuple(tuple(e) for e in log.get("cell_errors", ()))})
    return SubmissionResult(**{**data, "checks": checks, "log": log})


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
