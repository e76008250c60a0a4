"""Shared fixtures: the sheet3 assignment, grading plans, and a way to grade a piece of code."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from grader.assignment import Assignment, load_assignment
from grader.grading import Plan, grade_submission, grading_plan
from grader.load.discover import read_submission
from grader.model import SubmissionResult

ROOT = Path(__file__).resolve().parents[1]
HIDDEN_SEED = 20261127


@pytest.fixture(scope="session")
def sheet3() -> Assignment:
    return load_assignment("sheet3", ROOT)


@pytest.fixture(scope="session")
def plan(sheet3: Assignment) -> Plan:
    """Public and hidden cases of every check, with a fixed hidden seed."""
    return grading_plan(sheet3, hidden_seed=HIDDEN_SEED)


def only(plan: Plan, *check_ids: str) -> Plan:
    """The plan restricted to some checks: faster tests that run only what they look at."""
    return replace(
        plan,
        checks=tuple(c for c in plan.checks if c.id in check_ids),
        cases=tuple(c for c in plan.cases if c.check_id in check_ids),
    )


def write_module(folder: Path, source: str, name: str = "student.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def write_notebook(
    folder: Path,
    cells: list[str],
    name: str = "student.ipynb",
    answers: dict[str, str] | None = None,
) -> Path:
    """A notebook of code cells (dedented), plus tagged markdown answer cells."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(textwrap.dedent(c)) for c in cells]
    for check_id, text in (answers or {}).items():
        cell = nbformat.v4.new_markdown_cell(f"<!-- answer: {check_id} -->\n{text}")
        cell.metadata["tags"] = [f"answer:{check_id}"]
        notebook.cells.append(cell)
    path = folder / name
    nbformat.write(notebook, path)
    return path


def grade_code(folder: Path, source: str, plan: Plan, *check_ids: str) -> SubmissionResult:
    """Grade a module's source on the given checks (all when none are named)."""
    path = write_module(folder, source)
    return grade_submission(read_submission(path), only(plan, *check_ids) if check_ids else plan)


def by_id(result: SubmissionResult) -> dict:
    return {check.id: check for check in result.checks}
