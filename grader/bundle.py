"""The public bundle: what a student's self-check needs, and nothing more.

It holds every check of the rubric, the public cases and their expected outputs (and the known wrong
answers to them, so that mistakes are named at home too). It holds no reference code and no
hidden case. It is plain JSON with arrays as base64 ``.npy``, versioned like every file we write.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from grader.assignment import Assignment, CheckSpec, Compare, Mistake, RubricError
from grader.atomic import write_text_atomic
from grader.check.cases import Case, build_cases
from grader.check.stats import Distribution, Normal, distribution_from_json
from grader.grading import Plan
from grader.model import Call, Rng
from grader.run import wire
from grader.run.boundary import Limits

FORMAT = "grader-public-bundle"
SCHEMA = 2  # 2: distributions as {"__distribution__": {"kind": ...}}
READS = (1, 2)  # schema 1 (Normal as "__normal__") is read as it is
DISTRIBUTION_KEY = "__distribution__"  # {"kind": "normal", ...}: each kind's own to_json
NORMAL_KEY = "__normal__"  # the form bundles had before the open family; still read


def bundle_name(assignment: str) -> str:
    return f"{assignment}.public.json"


def build_bundle(assignment: Assignment) -> dict[str, Any]:
    """The bundle of an assignment: public cases only, computed from its reference."""
    cases = [c for c in build_cases(assignment, ("public",)) if c.compare.kind != "reference"]
    checks = assignment.checks  # every one: a check with no case here is shown as pending
    return {
        "format": FORMAT,
        "schema": SCHEMA,
        "assignment": assignment.name,
        "title": assignment.title,
        "limits": dataclasses.asdict(assignment.limits),
        "checks": [_check_json(spec) for spec in checks],
        "cases": [_case_json(case) for case in cases],
    }


def write_bundle(assignment: Assignment, path: Path) -> Path:
    """Write the bundle atomically (a half-written bundle never exists); it is a handout,
    readable by whoever it is handed to (0644)."""
    text = json.dumps(build_bundle(assignment), indent=1, ensure_ascii=False)
    return write_text_atomic(text, path, mode=0o644)


def read_bundle(path: Path) -> Plan:
    """A self-check plan from a bundle file, with a clear error for anything else."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RubricError(
            f"{path}: not a readable public bundle ({exc}); ask your instructor "
            "for the assignment's .public.json file"
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RubricError(f"{path}: not a grader public bundle")
    if data.get("schema") not in READS:
        raise RubricError(
            f"{path}: bundle schema {data.get('schema')!r} is not supported by "
            f"this grader (it reads {', '.join(map(str, READS))}); update grader or the bundle"
        )
    checks = tuple(_check_from_json(c) for c in data["checks"])
    cases = tuple(_case_from_json(c) for c in data["cases"])
    limits = Limits(**data.get("limits", {}))
    name = str(data["assignment"])
    return Plan(name, str(data.get("title", name)), checks, cases, limits=limits)


def cached_bundle(assignment: Assignment) -> Path:
    """The bundle built from the reference on first use, cached by the rubric's and reference's
    content, so that `grader check` works right after installing from the course checkout."""
    if assignment.reference_path is None or not assignment.reference_path.exists():
        raise RubricError(
            f"no public bundle for {assignment.name!r} was found and the "
            "reference is not here to build one; pass --bundle FILE"
        )
    digest = hashlib.sha256(
        assignment.rubric_path.read_bytes() + assignment.reference_path.read_bytes()
    ).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "grader"
    path = cache / f"{assignment.name}-{digest}.public.json"
    if not path.exists():
        write_bundle(assignment, path)
    return path


# --- to and from JSON ------------------------------------------------------------------------


def _check_json(spec: CheckSpec) -> dict[str, Any]:
    data = dataclasses.asdict(spec)
    data.pop("cases")  # case generators are the instructor's
    data.pop("expected")
    for mistake in data["mistakes"]:
        mistake.pop("variant")  # the name of a reference function is not the student's business
    return data


def _check_from_json(data: dict[str, Any]) -> CheckSpec:
    fields = dict(data)
    fields["compare"] = Compare(**fields["compare"])
    fields["mistakes"] = tuple(Mistake(**m) for m in fields.get("mistakes", []))
    fields["cases"] = ()
    return CheckSpec(**fields)


def _case_json(case: Case) -> dict[str, Any]:
    return {
        "check_id": case.check_id,
        "index": case.index,
        "visibility": case.visibility,
        "call": {
            "function": case.call.function,
            "args": [_encode(a) for a in case.call.args],
            "repeat": case.call.repeat,
            "return_args": case.call.return_args,
            "timeout": case.call.timeout,
        },
        "compare": dataclasses.asdict(case.compare),
        "expected": _encode(case.expected),
        "variants": [[name, _encode(value)] for name, value in case.variants],
    }


def _case_from_json(data: dict[str, Any]) -> Case:
    call = data["call"]
    return Case(
        check_id=data["check_id"],
        index=int(data["index"]),
        visibility=data["visibility"],
        call=Call(
            call["function"],
            tuple(_decode(a) for a in call["args"]),
            repeat=int(call["repeat"]),
            return_args=bool(call["return_args"]),
            timeout=float(call["timeout"]),
        ),
        compare=Compare(**data["compare"]),
        expected=_decode(data["expected"]),
        variants=tuple((name, _decode(value)) for name, value in data["variants"]),
    )


def _encode(value: Any) -> Any:
    if isinstance(value, Rng):
        return {wire.RNG_KEY: value.seed}
    if isinstance(value, Distribution):
        return {DISTRIBUTION_KEY: value.to_json()}
    if isinstance(value, (list, tuple)) and any(isinstance(v, (Rng, Distribution)) for v in value):
        return [_encode(v) for v in value]
    return wire.encode(value)


def _decode(data: Any) -> Any:
    if isinstance(data, dict) and set(data) == {wire.RNG_KEY}:
        return Rng(int(data[wire.RNG_KEY]))
    if isinstance(data, dict) and set(data) == {DISTRIBUTION_KEY}:
        return distribution_from_json(data[DISTRIBUTION_KEY])
    if isinstance(data, dict) and set(data) == {NORMAL_KEY}:
        spec = data[NORMAL_KEY]
        return Normal(tuple(spec["shape"]), float(spec["var"]), float(spec["mean"]))
    return wire.decode(data)
