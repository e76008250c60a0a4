"""Which assignment a command is about, when ``--assignment`` is not given: the public bundle
beside the submission, then the graded folder's ``grading.json``, then a course holding a
single rubric. Only an ambiguous case needs ``--assignment``; the error lists the choices."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from grader.assignment import RubricError, find_course
from grader.errors import UserError

BUNDLE_SUFFIX = ".public.json"
RECORD = "grading.json"  # written by ``grader grade`` in its output folder


class AmbiguousAssignment(RubricError):
    """Several assignments fit and nothing says which: the user passes ``--assignment``."""


def infer_assignment(
    explicit: str | None = None,
    *,
    submission: Path | None = None,
    out: Path | None = None,
    course: str | Path | None = None,
) -> str:
    """The assignment's name: ``explicit``, else the bundle beside ``submission`` (or in the
    current folder), else ``out/grading.json``, else the course's only rubric."""
    if explicit:
        return explicit
    if submission is not None:
        name = _from_bundles(submission)
        if name:
            return name
    if out is not None:
        recorded = read_record(out).get("assignment")
        if isinstance(recorded, str) and recorded:
            return recorded
    root = find_course(course)
    names = course_assignments(root)
    if len(names) == 1:
        return names[0]
    raise AmbiguousAssignment(
        f"{root / 'rubrics'}: which assignment? the course has "
        f"{', '.join(names) or 'no rubric'}; pass --assignment NAME"
    )


def course_assignments(root: Path) -> list[str]:
    """The names of a course's rubrics (``rubrics/NAME.yaml``), sorted."""
    return sorted(p.stem for p in (root / "rubrics").glob("*.yaml"))


def read_record(out: Path) -> dict[str, Any]:
    """``out/grading.json`` as a dict; empty when there is none (or it is not a JSON object)."""
    path = out / RECORD
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: not readable JSON ({exc}); delete it and grade again") from None
    return data if isinstance(data, dict) else {}


def recorded_course(out: Path) -> Path | None:
    """The course folder ``out`` was graded with, as ``grading.json`` records it (if it still
    holds ``rubrics/``)."""
    course = read_record(out).get("course")
    if isinstance(course, str) and (Path(course) / "rubrics").is_dir():
        return Path(course)
    return None


def _from_bundles(submission: Path) -> str | None:
    """The one bundle beside the submission, or in the current folder; with several, the one
    named as the submission is (``sheet3.ipynb`` and ``sheet3.public.json``)."""
    folder = submission if submission.is_dir() else submission.parent
    for where in dict.fromkeys((folder.resolve(), Path.cwd().resolve())):
        names = _bundle_names(where.glob(f"*{BUNDLE_SUFFIX}"))
        if len(names) == 1:
            return names[0]
        if submission.stem in names:
            return submission.stem
        if names:
            raise AmbiguousAssignment(
                f"{where}: which assignment? bundles for {', '.join(names)} are here; "
                "pass --assignment NAME"
            )
    return None


def _bundle_names(paths: Iterable[Path]) -> list[str]:
    return sorted(p.name[: -len(BUNDLE_SUFFIX)] for p in paths if p.is_file())
