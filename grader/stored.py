"""A result as the gradebook stores it: JSON with a schema version, and an upgrade path.

Every stored result names its schema (``"schema": N``); a result from before schema 2 has none
and is schema 1. Reading one brings it up to :data:`RESULT_SCHEMA` one step at a time, a
function per step (:data:`UPGRADES`), so a gradebook written by any earlier grader reads as
it is: nothing is refused, nothing regraded. A result from a newer grader is refused with a
one-line error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, fields, is_dataclass
from typing import Any

from grader.errors import UserError
from grader.model import CaseResult, CheckResult, Override, Plot, RunLog, SubmissionResult

RESULT_SCHEMA = 2

Upgrade = Callable[[dict[str, Any]], dict[str, Any]]


class StoredResultError(UserError, ValueError):
    """A stored result this grader cannot read (a newer schema, or not a result at all)."""


def _schema_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 (issues 1-12) stored ``asdict`` of the result, keys an older grader did not
    know yet simply absent. Schema 2 names its version and holds every key."""
    checks = [
        {"title": "", "cases": [], "answer": None, "override": None, **check}
        for check in data.get("checks", ())
    ]
    for check in checks:
        check["cases"] = [{"mistake": None, "plot": None, **case} for case in check["cases"]]
    log = {
        "cell_errors": [],
        "output": "",
        "load_error": "",
        "sandbox": "",
        **(data.get("log") or {}),
    }
    return {
        "assignment": "",
        "problem": None,
        **data,
        "checks": checks,
        "log": log,
        "schema": 2,
    }


UPGRADES: dict[int, Upgrade] = {1: _schema_1_to_2}  # from version N to N + 1


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` brought up to :data:`RESULT_SCHEMA`, one step at a time."""
    version = data.get("schema", 1)
    if not isinstance(version, int) or version < 1:
        raise StoredResultError(f"a stored result with schema {version!r}: not a result")
    if version > RESULT_SCHEMA:
        raise StoredResultError(
            f"a stored result of schema {version}, but this grader reads up to schema "
            f"{RESULT_SCHEMA}; upgrade the grader (pip install -U grader)"
        )
    while version < RESULT_SCHEMA:
        data = UPGRADES[version](data)
        version = data["schema"]
    return data


def result_to_dict(result: SubmissionResult) -> dict[str, Any]:
    """The result as JSON-ready data, in the current schema."""
    return {"schema": RESULT_SCHEMA, **asdict(result)}


def result_json(result: SubmissionResult) -> str:
    """``json.dumps(result_to_dict(result))``, encoded in one pass: the encoder asks for each
    dataclass's fields as it meets it, with none of ``asdict``'s deep copies."""
    return json.dumps({"schema": RESULT_SCHEMA, **_fields_of(result)}, default=_fields_of)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _fields_of(value: object) -> dict[str, Any]:
    """A dataclass instance's fields by name, in their order (what ``asdict`` makes of it, one
    level deep); anything else is not JSON data."""
    kind = type(value)
    names = _FIELD_NAMES.get(kind)
    if names is None:
        if not is_dataclass(value) or isinstance(value, type):
            raise TypeError(f"Object of type {kind.__name__} is not JSON serializable")
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(value))
    return {name: getattr(value, name) for name in names}


def result_from_dict(data: dict[str, Any]) -> SubmissionResult:
    """Rebuild a SubmissionResult (and its nested dataclasses) from :func:`result_to_dict`'s
    data of this or any earlier schema."""
    data = upgrade(data)
    try:
        checks = tuple(
            CheckResult(
                **{
                    **c,
                    "cases": tuple(
                        CaseResult(**{**k, "plot": Plot(**k["plot"]) if k["plot"] else None})
                        for k in c["cases"]
                    ),
                    "override": Override(**c["override"]) if c["override"] else None,
                }
            )
            for c in data["checks"]
        )
        log = data["log"]
        log = RunLog(**{**log, "cell_errors": tuple(tuple(e) for e in log["cell_errors"])})
        known = {f.name for f in fields(SubmissionResult)} - {"checks", "log"}
        return SubmissionResult(
            **{k: v for k, v in data.items() if k in known}, checks=checks, log=log
        )
    except (KeyError, TypeError) as exc:
        raise StoredResultError(f"a stored result that does not read ({exc})") from None
