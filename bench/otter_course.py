"""The otter-grader side of the benchmark: an autograder zip with the nbgrader side's checks.

``write_tests`` writes one exception-based otter test file per automatic check of sheet3
(``tests/1a_hessian.py`` ...), with the rubric's points and two cases: the visible asserts of
``nbgrader_course.TESTS`` (a visible case) and the visible followed by the hidden asserts (a
hidden case). Each case runs its asserts, as nbgrader's test cell does, in the namespace the
student's notebook left (a copy of it: otter's ``env``), so ``np`` and the student's
functions are the student's own. ``build_autograder`` calls ``otter generate`` on that folder
(no requirements, no environment: ``otter run`` runs in the otter venv, without Docker).

A check passes when every case passes (all or nothing, as an nbgrader test cell); the verdict
is read from each run's ``results.json``.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import nbgrader_course

AUTO = [check for check in nbgrader_course.TESTS]

TEMPLATE = '''\
"""{check}: the nbgrader benchmark's asserts (bench/nbgrader_course.py), as an otter test."""

from otter.test_files import test_case

OK_FORMAT = False

name = "{name}"
points = {points}

VISIBLE = {visible!r}
HIDDEN = {hidden!r}


@test_case(points=None, hidden=False)
def visible(env):
    exec(compile(VISIBLE, "<visible tests>", "exec"), dict(env))


@test_case(points=None, hidden=True)
def hidden(env):
    exec(compile(VISIBLE + "\\n" + HIDDEN, "<hidden tests>", "exec"), dict(env))
'''


def test_name(check: str) -> str:
    return check.replace(".", "_")


def split_tests(check: str) -> tuple[str, str]:
    """The visible and the hidden part of the nbgrader test cell's code."""
    code = textwrap.dedent(nbgrader_course.TESTS[check]).strip("\n")
    visible, _, rest = code.partition("### BEGIN HIDDEN TESTS")
    hidden, _, after = rest.partition("### END HIDDEN TESTS")
    return visible.rstrip() + "\n", textwrap.dedent(hidden).strip("\n") + "\n" + after.strip()


def write_tests(folder: Path) -> Path:
    tests = folder / "tests"
    tests.mkdir(parents=True, exist_ok=True)
    for check in AUTO:
        visible, hidden = split_tests(check)
        text = TEMPLATE.format(
            check=check,
            name=test_name(check),
            points=nbgrader_course.POINTS[check],
            visible=visible,
            hidden=hidden,
        )
        (tests / f"{test_name(check)}.py").write_text(text, encoding="utf-8")
    return tests


def build_autograder(folder: Path, otter: Path) -> Path:
    """``folder/autograder.zip`` from ``folder/tests`` with ``otter generate``."""
    tests = write_tests(folder)
    zip_path = folder / "autograder.zip"
    subprocess.run(
        [
            str(otter),
            "generate",
            "--tests-dir",
            str(tests),
            "--output-path",
            str(zip_path),
            "--no-config",
            "--no-requirements",
            "--no-environment",
        ],
        cwd=folder,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return zip_path


def verdicts(results_json: Path) -> dict[str, bool]:
    """Check id -> passed, from one ``otter run`` results.json (every case must pass)."""
    data = json.loads(results_json.read_text(encoding="utf-8"))
    by_name = {test_name(c): c for c in AUTO}
    out = {}
    for test in data.get("tests", []):
        name = str(test.get("name", "")).split(" - ")[0].strip()
        check = by_name.get(name)
        if check is not None and test.get("score") is not None:
            out[check] = out.get(check, True) and test.get("score", 0) >= test.get("max_score", 1)
    return out
