"""The self-check cells of a released notebook: one that creates the ``Notebook`` first, and one
``nb.check(ID)`` after each exercise's code cell. When the notebook is graded, these cells are
not run (:func:`is_selfcheck_source`): the sandbox has no grader to import, and needs none."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nbformat

TAG = "grader:selfcheck"
VARIABLE = "nb"
IMPORT_LINE = re.compile(r"^(?:from grader import Notebook|import grader)\s*(?:#.*)?$")
INIT_LINE = re.compile(r"^(\w+)\s*=\s*(?:grader\.)?Notebook\(.*\)\s*(?:#.*)?$")
CHECK_LINE = re.compile(r"^(\w+)\.check(?:_all)?\(.*\)\s*(?:#.*)?$")


def init_source(assignment: str) -> str:
    return (
        "# Self-checks: run this cell first. (To install the grader, see the README.md that\n"
        "# came with this notebook.)\n"
        "from grader import Notebook\n"
        "\n"
        f'{VARIABLE} = Notebook(assignment="{assignment}")'
    )


def check_source(check_id: str) -> str:
    return f'{VARIABLE}.check("{check_id}")'


def add_check_cells(
    student: nbformat.NotebookNode,
    master: nbformat.NotebookNode,
    assignment: str,
    check_ids: list[str],
) -> nbformat.NotebookNode:
    """The student notebook with the init cell first and a check cell after each code cell
    that the master tags ``metadata.grader.check`` with one of ``check_ids``. ``student`` is
    the master with its solutions removed: the same cells, in the same order."""
    if len(student.cells) != len(master.cells):
        raise ValueError("the student notebook must have the master's cells")
    cells = [_cell(init_source(assignment))]
    for made, original in zip(student.cells, master.cells, strict=True):
        cells.append(made)
        check_id = (original.get("metadata", {}).get("grader") or {}).get("check")
        if original.cell_type == "code" and check_id in check_ids:
            cells.append(_cell(check_source(check_id)))
    student.cells = cells
    return student


def checker_names(sources: Iterable[str]) -> set[str]:
    """The variables that a notebook's cells assign a ``Notebook(...)`` to."""
    names = set()
    for source in sources:
        for line in source.splitlines():
            match = INIT_LINE.match(line.strip())
            if match:
                names.add(match.group(1))
    return names


def is_selfcheck_source(source: str, checkers: set[str]) -> bool:
    """True for a cell that only creates the Notebook or runs its checks (``checkers`` are the
    variables holding one), with nothing of the student's own: it is left out when graded."""
    code = (line for line in map(str.strip, source.splitlines()) if line and line[0] != "#")
    found = False
    for line in code:  # a student's cell usually stops at its first line
        if not _selfcheck_line(line, checkers):
            return False
        found = True
    return found


def _selfcheck_line(line: str, checkers: set[str]) -> bool:
    if IMPORT_LINE.match(line) or INIT_LINE.match(line):
        return True
    match = CHECK_LINE.match(line)
    return match is not None and match.group(1) in checkers


def _cell(source: str) -> nbformat.NotebookNode:
    from nbformat.v4 import new_code_cell

    cell = new_code_cell(source)
    cell.metadata["tags"] = [TAG]
    return cell
