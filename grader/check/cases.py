"""Cases: the calls to make and what each should return, computed from the reference.

Case generators of the reference module take a ``numpy.random.Generator`` and return the
positional arguments of one call (a tuple), or a dict ``{"args": (...), "repeat": n}``. Public
cases use the rubric's seed; hidden ones a seed recorded for the grading run. Expected values
and the known wrong answers are computed here, in the trusted process, on copies of the inputs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.assignment import Assignment, CheckSpec, Compare, RubricError
from grader.check.stats import DISTRIBUTIONS, Distribution
from grader.model import Call, Rng, Visibility


@dataclass(frozen=True)
class Case:
    """One call of one check, with its expectation and the known wrong answers to it."""

    check_id: str
    index: int
    visibility: Visibility
    call: Call
    compare: Compare
    expected: Any = None  # a value, a Distribution, or None for a reference comparator
    variants: tuple[tuple[str, Any], ...] = ()  # (mistake name, the wrong answer it gives)

    @property
    def statistical(self) -> bool:
        return self.compare.kind in DISTRIBUTIONS


def build_cases(
    assignment: Assignment, visibilities: tuple[str, ...], hidden_seed: int = 0
) -> list[Case]:
    """Every case of the given visibilities, for every automatic check."""
    cases: list[Case] = []
    for check_number, spec in enumerate(assignment.checks):
        if spec.manual:
            continue
        index = 0
        for set_number, case_set in enumerate(spec.cases):
            if case_set.visibility not in visibilities:
                continue
            seed = case_set.seed if case_set.visibility == "public" else hidden_seed
            rng = np.random.default_rng([seed, check_number, set_number])
            generate = getattr(assignment.reference, case_set.generator)
            for _ in range(case_set.count):
                args, repeat = _unpack(generate(rng), spec, case_set.generator)
                compare = case_set.compare or spec.compare
                cases.append(
                    _case(assignment, spec, index, case_set.visibility, args, repeat, compare)
                )
                index += 1
    return cases


def _case(
    assignment: Assignment,
    spec: CheckSpec,
    index: int,
    visibility: Visibility,
    args: tuple[Any, ...],
    repeat: int,
    compare: Compare,
) -> Case:
    reference = assignment.reference
    call = Call(
        spec.function, args, repeat=repeat, return_args=spec.inputs_unchanged, timeout=spec.timeout
    )
    if compare.kind == "reference":
        return Case(spec.id, index, visibility, call, compare)
    expected = _stacked(getattr(reference, spec.expected_function), args, repeat)
    variants = tuple(
        (mistake.name, _stacked(getattr(reference, mistake.variant), args, repeat))
        for mistake in spec.mistakes
        if mistake.variant
    )
    if compare.kind in DISTRIBUTIONS:
        for what, value in (("expected", expected), *variants):
            if getattr(value, "kind", None) != compare.kind:
                raise RubricError(
                    f"{assignment.rubric_path}: check {spec.id}: compare kind {compare.kind!r} "
                    f"needs a {DISTRIBUTIONS[compare.kind].__name__} from the reference, but "
                    f"{what!r} gave {type(value).__name__}"
                )
    return Case(spec.id, index, visibility, call, compare, expected, _distinct(variants, expected))


def _distinct(variants: tuple[tuple[str, Any], ...], expected: Any) -> tuple[tuple[str, Any], ...]:
    """The wrong distributions this case can tell apart: on a square matrix fan-out is fan-in
    (the right answer) and Glorot is LeCun, so none of those is named from this case."""
    others = [expected, *(wrong for _, wrong in variants)]
    return tuple(
        (name, wrong)
        for name, wrong in variants
        if not isinstance(wrong, Distribution) or sum(wrong == other for other in others) == 1
    )


def _stacked(function: Any, args: tuple[Any, ...], repeat: int) -> Any:
    """The reference's answer, on a copy of the arguments; for repeated calls, stacked."""
    value = function(*copy.deepcopy(args))
    if repeat == 1:
        return value
    if isinstance(value, Distribution):
        return value.stacked(repeat)
    return np.stack([np.asarray(value)] * repeat)


def _unpack(made: Any, spec: CheckSpec, generator: str) -> tuple[tuple[Any, ...], int]:
    if isinstance(made, dict):
        return tuple(made["args"]), int(made.get("repeat", 1))
    if isinstance(made, tuple):
        return made, 1
    raise TypeError(
        f"check {spec.id}: generator {generator} must return a tuple of arguments "
        f"or a dict with 'args', not {type(made).__name__}"
    )


def describe_call(call: Call) -> str:
    """``hessian(X)`` with each argument summarised: "hessian(array 50×3)"."""
    parts = [_describe_argument(a) for a in call.args]
    text = f"{call.function}({', '.join(parts)})"
    return text + (f", called {call.repeat} times" if call.repeat > 1 else "")


def _describe_argument(value: Any) -> str:
    if isinstance(value, Rng):
        return "rng"
    if isinstance(value, np.ndarray):
        return "array " + "×".join(str(n) for n in value.shape) if value.ndim else f"{value:g}"
    if isinstance(value, (list, tuple)):
        return f"list of {len(value)}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value)
