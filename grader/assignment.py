"""Assignments as data: a YAML rubric plus a reference module, found in a course folder.

The rubric says what is checked and how (functions, points, cases, tolerances, known mistakes);
the reference module holds the correct implementations, the case generators and the wrong
variants. Everything is validated on load, and a mistake in the rubric is reported with the
file and the key, never as a KeyError halfway through a batch.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.check.stats import DISTRIBUTIONS
from grader.errors import UserError
from grader.model import Visibility
from grader.run.boundary import Limits

SCHEMA_VERSION = 1
# allclose (tolerances), every distribution of the registry (grader/check/stats.py), or a
# course's own comparator, a function of the reference module (kind "reference")
COMPARATORS = ("allclose", *DISTRIBUTIONS, "reference")


class RubricError(UserError, ValueError):
    """A rubric or reference module that cannot be used, with where and what to fix."""


@dataclass(frozen=True)
class Compare:
    """How a returned value is compared with the expected one."""

    kind: str = "allclose"  # one of COMPARATORS
    rtol: float = 1e-7
    atol: float = 1e-10
    false_failure_rate: float = 1e-6  # for statistical checks: per check, all its tests together
    function: str = ""  # for kind "reference": a function of the reference module


@dataclass(frozen=True)
class CaseSet:
    """A group of cases made by one generator of the reference module."""

    generator: str
    visibility: Visibility = "public"
    count: int = 1
    seed: int = 0  # public cases use this seed; hidden ones a per-run seed
    compare: Compare | None = None  # overrides the check's comparison for these cases


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: built by a variant of the reference, a detected behaviour, or (with
    neither) named by a reference comparator's verdict (``Verdict(..., mistake=name)``)."""

    name: str
    message: str
    variant: str = ""  # a reference function computing the wrong answer
    detect: str = ""  # or a behaviour the engine detects: "input_mutated"


@dataclass(frozen=True)
class CheckSpec:
    """One rubric item."""

    id: str
    points: float
    title: str = ""
    function: str = ""
    manual: bool = False
    expected: str = ""  # reference function giving the expected value; default: `function`
    compare: Compare = field(default_factory=Compare)
    cases: tuple[CaseSet, ...] = ()
    mistakes: tuple[Mistake, ...] = ()
    inputs_unchanged: bool = False
    timeout: float = 10.0
    scoring: str = "proportional"  # proportional (per case) | all (all cases or nothing)
    prompt: str = ""  # for manual items: what the student is asked to write

    @property
    def expected_function(self) -> str:
        return self.expected or self.function


@dataclass(frozen=True)
class Assignment:
    """A validated rubric, with the way to its reference module and templates."""

    name: str
    title: str
    checks: tuple[CheckSpec, ...]
    rubric_path: Path
    reference_path: Path | None
    course: Path
    total: float
    limits: Limits = field(default_factory=Limits)

    @cached_property
    def reference(self) -> ModuleType:
        """The reference module (instructor side only; never sent to a student or a child)."""
        if self.reference_path is None or not self.reference_path.exists():
            raise RubricError(
                f"{self.rubric_path}: the reference module for {self.name!r} is not here "
                f"(looked for {self.reference_path}); grading needs it, `grader check` does not"
            )
        return load_module(self.reference_path)

    def check(self, check_id: str) -> CheckSpec:
        for spec in self.checks:
            if spec.id == check_id:
                return spec
        raise KeyError(check_id)


def find_course(explicit: str | Path | None = None) -> Path:
    """The course folder holding ``rubrics/``: given, $GRADER_COURSE, here or above, or the
    checkout this package was installed from."""
    candidates = []
    if explicit:
        candidates.append(Path(explicit))
    if os.environ.get("GRADER_COURSE"):
        candidates.append(Path(os.environ["GRADER_COURSE"]))
    here = Path.cwd()
    candidates += [here, *here.parents]
    candidates.append(Path(__file__).resolve().parents[1])
    for candidate in candidates:
        if (candidate / "rubrics").is_dir():
            return candidate.resolve()
    if explicit:
        raise RubricError(f"{explicit}: no rubrics/ folder there; give the course folder")
    raise RubricError("no course folder found: run inside one (it holds rubrics/) or pass --course")


def load_assignment(name: str, course: str | Path | None = None) -> Assignment:
    """Read and validate ``rubrics/NAME.yaml`` of the course, checking it against its reference."""
    root = find_course(course)
    path = root / "rubrics" / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in (root / "rubrics").glob("*.yaml"))
        raise RubricError(f"{path}: no such rubric; the course has: {', '.join(known) or 'none'}")
    assignment = parse_rubric(path, root)
    if assignment.reference_path and assignment.reference_path.exists():
        validate_against_reference(assignment)
    return assignment


def parse_rubric(path: Path, course: Path) -> Assignment:
    """Parse a rubric file into an Assignment, refusing unknown keys and impossible values."""
    import yaml  # here, not above: a self-check from a bundle reads no YAML

    try:
        # libyaml's parser where it is installed (10x faster; the same resolver and constructor)
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise RubricError(f"{path}: not valid YAML: {exc}") from exc
    where = _Where(path)
    if not isinstance(data, dict):
        raise RubricError(f"{path}: a rubric is a mapping with keys schema, assignment, checks")
    _known_keys(
        data, {"schema", "assignment", "title", "reference", "total", "limits", "checks"}, where
    )
    schema = data.get("schema")
    if schema != SCHEMA_VERSION:
        raise RubricError(
            f"{path}: schema {schema!r} is not supported; this grader reads schema "
            f"{SCHEMA_VERSION} (add `schema: {SCHEMA_VERSION}` or upgrade the grader)"
        )
    name = _required(data, "assignment", str, where)
    if name != path.stem:
        raise RubricError(f"{path}: assignment {name!r} must match the file name {path.stem!r}")
    raw_checks = data.get("checks")
    if not isinstance(raw_checks, list) or not raw_checks:
        raise RubricError(f"{path}: `checks` must be a non-empty list")
    checks = tuple(_parse_check(raw, where.at(f"checks[{i}]")) for i, raw in enumerate(raw_checks))
    ids = [c.id for c in checks]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise RubricError(f"{path}: check ids appear twice: {', '.join(duplicated)}")
    total = float(data.get("total", sum(c.points for c in checks)))
    if abs(sum(c.points for c in checks) - total) > 1e-9:
        raise RubricError(
            f"{path}: the checks' points add up to {sum(c.points for c in checks):g}, "
            f"but `total` says {total:g}"
        )
    reference = data.get("reference", f"reference/{name}.py")
    return Assignment(
        name=name,
        title=str(data.get("title", name)),
        checks=checks,
        rubric_path=path,
        reference_path=(course / reference) if reference else None,
        course=course,
        total=total,
        limits=_parse_limits(data.get("limits", {}), where.at("limits")),
    )


def validate_against_reference(assignment: Assignment) -> None:
    """Every function the rubric names must exist in the reference module."""
    module = assignment.reference
    for spec in assignment.checks:
        names = []
        if not spec.manual:
            names.append(("expected", spec.expected_function))
            names += [("generator", s.generator) for s in spec.cases]
            names += [("compare.function", c.function) for c in _compares(spec) if c.function]
            names += [("variant", m.variant) for m in spec.mistakes if m.variant]
        for key, function in names:
            if not callable(getattr(module, function, None)):
                raise RubricError(
                    f"{assignment.rubric_path}: check {spec.id}: {key} {function!r} is not a "
                    f"function of {assignment.reference_path}"
                )


def load_module(path: Path) -> ModuleType:
    """Import a Python file by path, under a private name."""
    spec = importlib.util.spec_from_file_location(f"grader_reference_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise RubricError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- parsing helpers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Where:
    path: Path
    key: str = ""

    def at(self, key: str) -> _Where:
        return _Where(self.path, f"{self.key}.{key}" if self.key else key)

    def fail(self, message: str) -> RubricError:
        return RubricError(
            f"{self.path}: {self.key}: {message}" if self.key else f"{self.path}: {message}"
        )


def _parse_check(raw: Any, where: _Where) -> CheckSpec:
    if not isinstance(raw, dict):
        raise where.fail("each check is a mapping with at least `id` and `points`")
    _known_keys(raw, {f.name for f in fields(CheckSpec)}, where)
    check_id = _required(raw, "id", str, where)
    where = _Where(where.path, f"{where.key} ({check_id})")
    points = _number(raw.get("points"), where.at("points"), minimum=0.0)
    manual = bool(raw.get("manual", False))
    function = raw.get("function", "")
    if not manual and not function:
        raise where.fail("an automatic check needs `function` (or `manual: true`)")
    compare = _parse_compare(raw.get("compare", {}), where.at("compare"))
    cases = tuple(
        _parse_case_set(c, where.at(f"cases[{i}]"))
        for i, c in enumerate(raw.get("cases", []) or [])
    )
    if not manual and not cases:
        raise where.fail("an automatic check needs at least one entry in `cases`")
    mistakes = tuple(
        _parse_mistake(m, where.at(f"mistakes[{i}]"))
        for i, m in enumerate(raw.get("mistakes", []) or [])
    )
    named_by_verdict = [m.name for m in mistakes if not m.variant and not m.detect]
    judges = [compare, *(c.compare for c in cases if c.compare)]
    if named_by_verdict and not any(c.kind == "reference" for c in judges):
        raise where.at("mistakes").fail(
            f"{named_by_verdict[0]!r} has neither `variant` nor `detect`; such a mistake is "
            "named by a comparator of kind `reference` (its Verdict's `mistake`), and this "
            "check has none"
        )
    scoring = raw.get("scoring", "proportional")
    if scoring not in ("proportional", "all"):
        raise where.at("scoring").fail(f"{scoring!r} is not one of proportional, all")
    return CheckSpec(
        id=check_id,
        points=points,
        title=str(raw.get("title", "")),
        function=str(function),
        manual=manual,
        expected=str(raw.get("expected", "")),
        compare=compare,
        cases=cases,
        mistakes=mistakes,
        inputs_unchanged=bool(raw.get("inputs_unchanged", False)),
        timeout=_number(raw.get("timeout", 10.0), where.at("timeout"), minimum=0.01),
        scoring=scoring,
        prompt=str(raw.get("prompt", "")),
    )


def _parse_limits(raw: Any, where: _Where) -> Limits:
    if not isinstance(raw, dict):
        raise where.fail("must be a mapping, e.g. {load_timeout: 10, memory_mb: 2048}")
    _known_keys(raw, {f.name for f in fields(Limits)}, where)
    values = {key: _number(value, where.at(key), minimum=0.01) for key, value in raw.items()}
    integers = {f.name for f in fields(Limits) if f.type in ("int", int)}
    chosen: dict[str, Any] = {k: int(v) if k in integers else v for k, v in values.items()}
    return Limits(**chosen)


def _parse_compare(raw: Any, where: _Where) -> Compare:
    if isinstance(raw, str):
        raw = {"kind": raw}
    if not isinstance(raw, dict):
        raise where.fail("must be a comparator name or a mapping")
    _known_keys(raw, {f.name for f in fields(Compare)}, where)
    kind = raw.get("kind", "allclose")
    if kind not in COMPARATORS:
        raise where.at("kind").fail(f"{kind!r} is not one of {', '.join(COMPARATORS)}")
    rate = _number(
        raw.get("false_failure_rate", 1e-6), where.at("false_failure_rate"), minimum=1e-15
    )
    if rate > 0.01:
        raise where.at("false_failure_rate").fail(
            f"{rate} is too high a rate of failing correct work; use at most 0.01"
        )
    if kind == "reference" and not raw.get("function"):
        raise where.fail("kind `reference` needs `function`, a function of the reference module")
    return Compare(
        kind=kind,
        rtol=_number(raw.get("rtol", 1e-7), where.at("rtol"), minimum=0.0),
        atol=_number(raw.get("atol", 1e-10), where.at("atol"), minimum=0.0),
        false_failure_rate=rate,
        function=str(raw.get("function", "")),
    )


def _parse_case_set(raw: Any, where: _Where) -> CaseSet:
    if not isinstance(raw, dict):
        raise where.fail("each case set is a mapping with at least `generator`")
    _known_keys(raw, {f.name for f in fields(CaseSet)}, where)
    visibility = raw.get("visibility", "public")
    if visibility not in ("public", "hidden"):
        raise where.at("visibility").fail(f"{visibility!r} is not one of public, hidden")
    compare = _parse_compare(raw["compare"], where.at("compare")) if "compare" in raw else None
    count = raw.get("count", 1)
    if not isinstance(count, int) or count < 1:
        raise where.at("count").fail(f"{count!r} is not a whole number of at least 1")
    return CaseSet(
        generator=_required(raw, "generator", str, where),
        visibility=visibility,
        count=count,
        seed=int(raw.get("seed", 0)),
        compare=compare,
    )


def _parse_mistake(raw: Any, where: _Where) -> Mistake:
    if not isinstance(raw, dict):
        raise where.fail("each mistake is a mapping with `name`, `message` and `variant`")
    _known_keys(raw, {f.name for f in fields(Mistake)}, where)
    variant, detect = str(raw.get("variant", "")), str(raw.get("detect", ""))
    if variant and detect:
        raise where.fail("give at most one of `variant` (a reference function) or `detect`")
    if detect and detect != "input_mutated":
        raise where.at("detect").fail(f"{detect!r} is not a known behaviour (input_mutated)")
    return Mistake(
        name=_required(raw, "name", str, where),
        message=_required(raw, "message", str, where).strip(),
        variant=variant,
        detect=detect,
    )


def _compares(spec: CheckSpec) -> list[Compare]:
    return [spec.compare, *(s.compare for s in spec.cases if s.compare)]


def _known_keys(raw: dict[str, Any], known: set[str], where: _Where) -> None:
    for key in raw:
        if key not in known:
            if key in ("rtol", "atol", "tolerance", "tolerence", "tol") and "compare" in known:
                raise where.fail(
                    f"unknown key {key!r}; tolerances go under "
                    "`compare: {kind: allclose, rtol: ..., atol: ...}`"
                )
            hint = difflib.get_close_matches(str(key), sorted(known), n=1)
            suggestion = (
                f"; did you mean {hint[0]!r}?" if hint else f"; known: {', '.join(sorted(known))}"
            )
            raise where.fail(f"unknown key {key!r}{suggestion}")


def _required(raw: dict[str, Any], key: str, kind: type, where: _Where) -> Any:
    value = raw.get(key)
    if not isinstance(value, kind) or value == "":
        raise where.at(key).fail(f"is required and must be a {kind.__name__}")
    return value


def _number(value: Any, where: _Where, minimum: float) -> float:
    if isinstance(value, str):  # YAML 1.1 reads `1e-7` (no dot) as text
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise where.fail(f"{value!r} is not a number")
    if value < minimum:
        raise where.fail(f"{value} is below the smallest allowed value {minimum}")
    return float(value)
