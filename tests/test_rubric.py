"""Rubrics as data: the shipped sheet3 rubric, and the clear refusal of broken rubrics.

A broken rubric is refused on load with the file and the key, never halfway through a batch.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from grader.assignment import RubricError, load_assignment
from grader.check.cases import build_cases
from grader.check.compare import compare_allclose
from grader.check.stats import Normal

# The contract's table: check id, function ("" for manual items), points.
CONTRACT = [
    ("1a.hessian", "hessian", 10),
    ("1a.hessian_gaussian", "hessian_gaussian", 10),
    ("1b.condition_number", "condition_number", 12),
    ("1b.derivation", "", 8),
    ("1c.center", "center", 4),
    ("1c.centered_min_error", "centered_min_error", 5),
    ("1c.explanation", "", 6),
    ("2a.he_init", "he_init", 15),
    ("2a.preactivation_variances", "preactivation_variances", 10),
    ("2a.proof", "", 10),
    ("2b.tanh_init", "tanh_init", 10),
]


# --- the shipped rubric -------------------------------------------------------------------


def test_the_shipped_rubric_loads_and_validates(sheet3):
    assert sheet3.name == "sheet3"
    assert sheet3.reference_path is not None and sheet3.reference_path.exists()
    for spec in sheet3.checks:
        if not spec.manual:
            assert callable(getattr(sheet3.reference, spec.expected_function))


def test_the_check_ids_are_the_contracts_in_order(sheet3):
    assert [c.id for c in sheet3.checks] == [row[0] for row in CONTRACT]
    assert [c.function for c in sheet3.checks] == [row[1] for row in CONTRACT]
    assert [c.points for c in sheet3.checks] == [row[2] for row in CONTRACT]
    assert [c.manual for c in sheet3.checks] == [row[1] == "" for row in CONTRACT]


def test_points_sum_to_100_with_76_automatic_and_24_manual(sheet3):
    assert sheet3.total == 100
    assert sum(c.points for c in sheet3.checks) == 100
    assert sum(c.points for c in sheet3.checks if not c.manual) == 76
    assert sum(c.points for c in sheet3.checks if c.manual) == 24


def test_every_automatic_check_has_public_and_hidden_cases(sheet3):
    for spec in sheet3.checks:
        if not spec.manual:
            visibilities = {s.visibility for s in spec.cases}
            assert visibilities == {"public", "hidden"}, spec.id


def _differs(wrong, expected, compare) -> bool:
    if isinstance(expected, Normal):
        return tuple(wrong.shape) != tuple(expected.shape) or not np.isclose(
            wrong.var, expected.var, rtol=0.05
        )
    return not compare_allclose(wrong, expected, compare.rtol, compare.atol).passed


@pytest.mark.parametrize("hidden_seed", [0, 1, 2, 3, 20261127])
def test_every_mistake_differs_from_the_reference_on_every_case(sheet3, hidden_seed):
    """Otherwise a correct answer could be named as a mistake, or the mistake never named."""
    cases = build_cases(sheet3, ("public", "hidden"), hidden_seed)
    named = set()
    for case in cases:
        for name, wrong in case.variants:
            named.add((case.check_id, name))
            assert _differs(wrong, case.expected, case.compare), (case.check_id, case.index, name)
    variants = {(s.id, m.name) for s in sheet3.checks for m in s.mistakes if m.variant}
    assert named == variants  # every variant was tried on some case


# --- broken rubrics are refused -------------------------------------------------------------

REFERENCE = """
import numpy as np
from grader.api import Normal, Rng

def double(x):
    return 2 * np.asarray(x, dtype=float)

def double_wrong(x):
    return 3 * np.asarray(x, dtype=float)

def vectors(rng):
    return (rng.normal(size=4),)

def noise(n, rng=None):
    return Normal((n,), 1.0)

def sizes(rng):
    return (int(rng.integers(50, 60)), Rng(int(rng.integers(1000))))
"""

RUBRIC = """
schema: 1
assignment: x
title: A tiny assignment
total: 10
checks:
  - id: q1
    function: double
    points: 6
    compare: {kind: allclose, rtol: 1.0e-7, atol: 1.0e-10}
    cases:
      - {generator: vectors, visibility: public, count: 2, seed: 1}
      - {generator: vectors, visibility: hidden}
    mistakes:
      - name: tripled
        variant: double_wrong
        message: you multiplied by three
  - id: q2
    function: noise
    points: 2
    compare: {kind: normal}
    cases:
      - {generator: sizes}
  - id: q3
    points: 2
    manual: true
"""


def write_course(root: Path, rubric: str = RUBRIC, reference: str = REFERENCE) -> Path:
    (root / "rubrics").mkdir(parents=True, exist_ok=True)
    (root / "reference").mkdir(exist_ok=True)
    (root / "rubrics" / "x.yaml").write_text(textwrap.dedent(rubric), encoding="utf-8")
    (root / "reference" / "x.py").write_text(textwrap.dedent(reference), encoding="utf-8")
    return root


def refused(tmp_path: Path, rubric: str, reference: str = REFERENCE) -> str:
    write_course(tmp_path, rubric, reference)
    with pytest.raises(RubricError) as caught:
        load_assignment("x", tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "rubrics" / "x.yaml") in message  # every message names the file
    return message


def test_the_tiny_course_loads(tmp_path):
    assignment = load_assignment("x", write_course(tmp_path))
    assert [c.id for c in assignment.checks] == ["q1", "q2", "q3"]
    assert assignment.total == 10
    assert assignment.check("q1").mistakes[0].variant == "double_wrong"


def test_a_typo_in_a_checks_key_is_refused_suggesting_where_it_belongs(tmp_path):
    message = refused(
        tmp_path, RUBRIC.replace("    points: 6\n", "    points: 6\n    tolerence: 1.0e-6\n")
    )
    assert "'tolerence'" in message and "checks[0]" in message
    assert "compare" in message  # tolerances live under `compare`


def test_a_typo_in_a_compare_key_is_refused_naming_the_right_keys(tmp_path):
    message = refused(
        tmp_path, RUBRIC.replace("{kind: allclose, rtol:", "{kind: allclose, tolerence: 1, rtol:")
    )
    assert "'tolerence'" in message and "compare" in message
    assert "rtol" in message and "atol" in message


def test_a_close_typo_gets_a_did_you_mean(tmp_path):
    message = refused(tmp_path, RUBRIC.replace("    points: 6\n", "    pionts: 6\n", 1))
    assert "'pionts'" in message and "did you mean 'points'" in message


def test_an_unknown_comparator_is_refused(tmp_path):
    message = refused(tmp_path, RUBRIC.replace("kind: allclose", "kind: approx"))
    assert "'approx'" in message and "allclose" in message and "normal" in message


def test_points_that_do_not_add_up_to_total_are_refused(tmp_path):
    message = refused(tmp_path, RUBRIC.replace("total: 10", "total: 12"))
    assert "add up to 10" in message and "12" in message


def test_an_unsupported_schema_is_refused(tmp_path):
    message = refused(tmp_path, RUBRIC.replace("schema: 1", "schema: 2"))
    assert "schema 2" in message and "schema 1" in message


def test_a_missing_schema_is_refused(tmp_path):
    message = refused(tmp_path, RUBRIC.replace("schema: 1\n", ""))
    assert "schema" in message


@pytest.mark.parametrize(
    "old, new, key",
    [
        (
            "generator: vectors, visibility: public",
            "generator: vector, visibility: public",
            "vector",
        ),
        ("variant: double_wrong", "variant: double_wrongly", "double_wrongly"),
        ("function: noise", "function: noise\n    expected: noise_distribution", "noise_dist"),
    ],
    ids=["generator", "variant", "expected"],
)
def test_an_unknown_reference_function_is_refused(tmp_path, old, new, key):
    message = refused(tmp_path, RUBRIC.replace(old, new))
    assert key in message
    assert str(tmp_path / "reference" / "x.py") in message


def test_a_negative_tolerance_is_refused(tmp_path):
    message = refused(tmp_path, RUBRIC.replace("rtol: 1.0e-7", "rtol: -1"))
    assert "rtol" in message and "-1" in message


def test_yaml_exponent_without_a_dot_is_read_as_a_number(tmp_path):
    """YAML 1.1 reads `1e-7` (no dot) as a string; the rubric reader takes it as a number."""
    rubric = RUBRIC.replace("rtol: 1.0e-7, atol: 1.0e-10", "rtol: 1e-7, atol: 1e-10")
    assignment = load_assignment("x", write_course(tmp_path, rubric))
    compare = assignment.check("q1").compare
    assert compare.rtol == 1e-7 and compare.atol == 1e-10
    assert isinstance(compare.rtol, float)


def test_a_text_that_is_not_a_number_is_refused(tmp_path):
    message = refused(tmp_path, RUBRIC.replace("rtol: 1.0e-7", "rtol: tight"))
    assert "'tight'" in message and "not a number" in message


def test_a_duplicated_check_id_is_refused(tmp_path):
    message = refused(tmp_path, RUBRIC.replace("id: q2", "id: q1"))
    assert "q1" in message and "twice" in message


def test_an_automatic_check_without_cases_is_refused(tmp_path):
    rubric = RUBRIC.replace("    cases:\n      - {generator: sizes}\n", "")
    message = refused(tmp_path, rubric)
    assert "q2" in message and "cases" in message


def test_a_mistake_needs_a_variant_or_a_behaviour(tmp_path):
    message = refused(tmp_path, RUBRIC.replace("variant: double_wrong", "detect: sloppiness"))
    assert "sloppiness" in message


def test_invalid_yaml_is_refused_naming_the_file(tmp_path):
    message = refused(tmp_path, RUBRIC + "  - id: [unclosed\n")
    assert "YAML" in message


def test_an_unknown_assignment_lists_the_known_ones(tmp_path):
    write_course(tmp_path)
    with pytest.raises(RubricError, match="the course has: x"):
        load_assignment("sheet9", tmp_path)


@pytest.mark.parametrize("hidden_seed", [0, 1, 2, 3, 4])
def test_random_initializer_mistakes_are_told_apart(sheet3, hidden_seed):
    """On every statistical case, the right variance and each known wrong one are at least
    20% apart (or differ in shape), so a sample matches at most one of them and the mistake
    named is the one made. A sample's variance is known to about 2% (8,000+ weights)."""
    from grader.check.cases import build_cases

    for case in build_cases(sheet3, ("public", "hidden"), hidden_seed):
        if case.compare.kind != "normal":
            continue
        assert np.prod(case.expected.shape) >= 8_000
        options = [("reference", case.expected), *case.variants]
        for i, (name_a, a) in enumerate(options):
            for name_b, b in options[i + 1 :]:
                if tuple(a.shape) != tuple(b.shape):
                    continue
                ratio = max(a.var, b.var) / min(a.var, b.var)
                assert ratio >= 1.2, (case.check_id, name_a, name_b, ratio)
