"""What the workbench knows and changes, without the web: the queue of written items, grades,
rubric items and their re-application. Every grade is stored by
:func:`grader.publish.record_manual_grades` (the one implementation shared with ``grader
manual``; a group or a rubric edit is one transaction and one republish), so results.json,
the summary and the students' reports follow at once.

One lock orders the writes of this process (each one a SQLite transaction): two reviewers at
once lose nothing, the last write to the same item wins, and the answer to it says whose grade
it replaced.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.assignment import Assignment, CheckSpec
from grader.gradebook import Gradebook, ManualGrade, ReviewNote, RubricItem
from grader.model import SubmissionResult
from grader.publish import ManualEntry, clear_override, record_manual_grades, record_override
from grader.review.answers import normalise_answer


class ReviewError(ValueError):
    """A request the workbench refuses, with what to send instead; nothing was stored."""


@dataclass(frozen=True)
class Replaced:
    """Another reviewer's grade that a write replaced."""

    score: float
    reviewer: str
    graded_at: str


class Workbench:
    """The graded folder ``out`` of assignment ``spec``, as reviewers see and change it."""

    def __init__(self, out: Path, spec: Assignment) -> None:
        self.out = out
        self.spec = spec
        self.lock = threading.Lock()

    @contextmanager
    def book(self) -> Iterator[Gradebook]:
        book = Gradebook(self.out / "gradebook.sqlite")
        try:
            yield book
        finally:
            book.close()

    # --- reading ---------------------------------------------------------------------------

    @property
    def manual_checks(self) -> list[CheckSpec]:
        return [c for c in self.spec.checks if c.manual]

    def check(self, check_id: str) -> CheckSpec:
        """The manual item ``check_id``, or a ReviewError naming the manual items."""
        for spec in self.manual_checks:
            if spec.id == check_id:
                return spec
        names = ", ".join(c.id for c in self.manual_checks)
        raise ReviewError(
            f"{check_id!r} is not a manual item of {self.spec.name}; these are: {names}"
        )

    def results(self, students: set[str] | None = None) -> list[SubmissionResult]:
        with self.book() as book:
            return list(book.results(self.spec.name, students))

    def result(self, student: str) -> SubmissionResult:
        found = self.results({student})
        if not found:
            raise ReviewError(f"no graded submission of student {student!r} in {self.out}")
        return found[0]

    def queue(self, check_id: str | None = None) -> list[dict[str, Any]]:
        """One object per manual item of every student (of one check, when given), graded or
        not, in check then student order; identical answers share a ``group`` number."""
        checks = [self.check(check_id)] if check_id else self.manual_checks
        with self.book() as book:
            results = list(book.results(self.spec.name))
            grades = book.manual_grades(self.spec.name)
            notes = self._live_notes(book)
        items = []
        for spec in checks:
            groups: dict[str, int] = {}
            rows = []
            for result in results:
                check = next((c for c in result.checks if c.id == spec.id), None)
                if check is None:
                    continue
                key = normalise_answer(check.answer)
                group = groups.setdefault(key, len(groups) + 1)
                grade = grades.get((result.student, spec.id))
                note = notes.get((result.student, spec.id))
                rows.append(_item(result.student, spec, check.status, grade, note, check.answer))
                rows[-1]["group"] = group
            sizes: dict[int, int] = {}
            for row in rows:
                sizes[row["group"]] = sizes.get(row["group"], 0) + 1
            for row in rows:
                row["group_size"] = sizes[row["group"]]
            items.extend(rows)
        return items

    def item(self, student: str, check_id: str) -> dict[str, Any]:
        found = [i for i in self.queue(check_id) if i["student"] == student]
        if not found:
            raise ReviewError(f"no graded submission of student {student!r} in {self.out}")
        return found[0]

    def rubric(self, check_id: str) -> list[RubricItem]:
        self.check(check_id)
        with self.book() as book:
            return book.rubric_items(self.spec.name, check_id)

    # --- writing ---------------------------------------------------------------------------

    def grade(
        self,
        student: str,
        check_id: str,
        score: float,
        comment: str = "",
        items: tuple[int, ...] = (),
        seen: str | None = None,
        reviewer: str = "",
    ) -> dict[str, Any]:
        """Store one grade; the stored item comes back, with ``replaced`` set when the item
        had changed since the reviewer saw it (``seen``: the item's ``version`` then)."""
        return self.grade_many(
            [student], check_id, score, comment, items, {student: seen}, reviewer
        )[0]

    def grade_many(
        self,
        students: list[str],
        check_id: str,
        score: float,
        comment: str = "",
        items: tuple[int, ...] = (),
        seen: dict[str, str | None] | None = None,
        reviewer: str = "",
    ) -> list[dict[str, Any]]:
        """The same grade for several students' answers (a group), all or none stored."""
        spec = self.check(check_id)
        if not 0 <= score <= spec.points:
            raise ReviewError(
                f"a score for {check_id} is between 0 and {spec.points:g}, not {score:g}"
            )
        with self.lock:
            with self.book() as book:
                known = set(book.stored(self.spec.name))
                rubric = {i.id: i for i in book.rubric_items(self.spec.name, check_id)}
                grades = book.manual_grades(self.spec.name)
                notes = self._live_notes(book, check_id)  # as the queue showed them
            missing = [s for s in students if s not in known]
            if missing or not students:
                who = (missing or [""])[0]
                raise ReviewError(f"no graded submission of student {who!r} in {self.out}")
            unknown = [i for i in items if i not in rubric]
            if unknown:
                raise ReviewError(f"rubric item {unknown[0]} is not one of {check_id}'s")
            chosen = [rubric[i] for i in sorted(set(items))]
            self._store(students, spec, score, chosen, comment, reviewer)
        return self._stored_rows(students, check_id, grades, notes, seen or {})

    def _store(
        self,
        students: list[str],
        spec: CheckSpec,
        score: float,
        chosen: list[RubricItem],
        comment: str,
        reviewer: str,
    ) -> None:
        """The grades, through the one implementation `grader manual` uses, then the notes
        that remember the rubric items and comment each was composed from."""
        record_manual_grades(
            self.out,
            self.spec,
            [
                ManualEntry(s, spec.id, score, compose_comment(chosen, comment), reviewer)
                for s in students
            ],
        )
        adjustment = score - spec.points - sum(i.points for i in chosen)
        ids = tuple(i.id for i in chosen)
        with self.book() as book:
            for student in students:
                book.save_review_note(
                    self.spec.name, student, spec.id, ids, adjustment, comment, reviewer
                )

    def _stored_rows(
        self,
        students: list[str],
        check_id: str,
        grades: dict[tuple[str, str], ManualGrade],
        notes: dict[tuple[str, str], ReviewNote],
        seen: dict[str, str | None],
    ) -> list[dict[str, Any]]:
        """Each stored item as the queue now shows it, with ``replaced`` where another
        reviewer's grade changed it since this reviewer saw it (``seen``)."""
        after = {i["student"]: i for i in self.queue(check_id) if i["student"] in set(students)}
        rows = []
        for student in students:
            row = dict(after[student])
            grade = grades.get((student, check_id))
            was = _stamp(grade, notes.get((student, check_id)))
            old = seen.get(student)
            if old is not None and was and old != was and grade is not None:
                row["replaced"] = Replaced(grade.score, grade.grader, grade.graded_at).__dict__
            rows.append(row)
        return rows

    def override(
        self, student: str, check_id: str, score: float | None, reason: str, reviewer: str = ""
    ) -> dict[str, Any]:
        """Override an automatic check's score with a reason (``score`` None: clear it), through
        the same code as ``grader manual --override``; the check's row comes back."""
        with self.lock:
            if score is None:
                result = clear_override(self.out, self.spec, student, check_id)
            else:
                result = record_override(
                    self.out, self.spec, student, check_id, score, reason, reviewer
                )
        check = next(c for c in result.checks if c.id == check_id)
        return {
            "student": student,
            "check": check_id,
            "status": check.status,
            "score": check.score,
            "max_score": check.max_score,
            "override": check.override.to_json() if check.override else None,
            "total": result.score,
        }

    def add_item(self, check_id: str, points: float, text: str) -> RubricItem:
        spec = self.check(check_id)
        _check_item(spec, points, text)
        with self.lock, self.book() as book:
            item_id = book.add_rubric_item(self.spec.name, check_id, points, text.strip())
        return RubricItem(item_id, check_id, points, text.strip())

    def edit_item(self, item_id: int, points: float, text: str) -> tuple[RubricItem, int]:
        """Change a rubric item and regrade every answer that carries it; returns the item and
        how many answers were regraded."""
        with self.lock:
            with self.book() as book:
                item = next((i for i in book.rubric_items(self.spec.name) if i.id == item_id), None)
                if item is None:
                    raise ReviewError(f"no rubric item {item_id}")
                spec = self.check(item.check_id)
                _check_item(spec, points, text)
                notes = self._live_notes(book, spec.id)  # before the edit: as graded
                book.update_rubric_item(item_id, points, text.strip())
                rubric = {i.id: i for i in book.rubric_items(self.spec.name, spec.id)}
            carriers = {s: n for (s, _), n in notes.items() if item_id in n.items}
            entries = []
            for student, note in sorted(carriers.items()):
                chosen = [rubric[i] for i in note.items if i in rubric]
                score = composed_score(spec, chosen, note.adjustment)
                comment = compose_comment(chosen, note.comment)
                entries.append(ManualEntry(student, spec.id, score, comment, note.reviewer))
            if entries:
                record_manual_grades(self.out, self.spec, entries)
            with self.book() as book:
                for student, note in carriers.items():
                    book.save_review_note(
                        self.spec.name, student, spec.id, note.items, note.adjustment,
                        note.comment, note.reviewer,
                    )  # fmt: skip
        return RubricItem(item_id, spec.id, points, text.strip()), len(carriers)

    def _live_notes(
        self, book: Gradebook, check_id: str | None = None
    ) -> dict[tuple[str, str], ReviewNote]:
        """What reviewers entered, for the answers whose stored grade still is what it was
        composed from (a later `grader manual` of the same item makes its note stale)."""
        grades = book.manual_grades(self.spec.name)
        rubric = {i.id: i for i in book.rubric_items(self.spec.name, check_id)}
        specs = {c.id: c for c in self.manual_checks}
        live = {}
        for (student, check), note in book.review_notes(self.spec.name, check_id).items():
            grade, spec = grades.get((student, check)), specs.get(check)
            if grade is None or spec is None:
                continue
            chosen = [rubric[i] for i in note.items if i in rubric]
            if (
                abs(composed_score(spec, chosen, note.adjustment) - grade.score) < 1e-9
                and compose_comment(chosen, note.comment) == grade.comment
            ):
                live[student, check] = note
        return live


def composed_score(spec: CheckSpec, items: list[RubricItem], adjustment: float) -> float:
    """Full points, plus the items' points, plus the reviewer's own adjustment, kept in
    [0, points]."""
    return round(
        min(max(spec.points + sum(i.points for i in items) + adjustment, 0.0), spec.points), 6
    )


def compose_comment(items: list[RubricItem], comment: str) -> str:
    """The feedback the student reads: one line per rubric item applied, then the comment."""
    lines = [f"{i.points:+g} {i.text}".replace("-", "−", 1) for i in items]
    if comment.strip():
        lines.append(comment.strip())
    return "\n".join(lines)


def _check_item(spec: CheckSpec, points: float, text: str) -> None:
    if not text.strip():
        raise ReviewError("a rubric item needs a text, e.g. 'base case missing'")
    if not -spec.points <= points <= spec.points:
        raise ReviewError(
            f"a rubric item of {spec.id} gives between {-spec.points:g} and {spec.points:g} "
            f"points, not {points:g}"
        )


def _stamp(grade: ManualGrade | None, note: ReviewNote | None) -> str:
    """What changes whenever an item's stored grade changes ("" while it is not graded)."""
    if grade is None:
        return ""
    return f"{grade.graded_at}#{note.version if note else 0}"


def _item(
    student: str,
    spec: CheckSpec,
    status: str,
    grade: ManualGrade | None,
    note: ReviewNote | None,
    answer: str | None,
) -> dict[str, Any]:
    return {
        "student": student,
        "check": spec.id,
        "title": spec.title,
        "status": status,
        "score": grade.score if grade else 0.0,
        "max_score": spec.points,
        "graded": grade is not None,
        "comment": note.comment if note else (grade.comment if grade else ""),
        "items": list(note.items) if note else [],
        "reviewer": grade.grader if grade else "",
        "graded_at": grade.graded_at if grade else "",
        "version": _stamp(grade, note),
        "answered": bool(answer and answer.strip()),
        "answer": answer or "",
    }
