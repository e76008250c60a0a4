"""Make the student notebook from the instructor's master notebook (nbgrader-style markers).

In code cells, the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` become
``raise NotImplementedError``; in markdown cells, the text between ``<!-- BEGIN SOLUTION -->``
and ``<!-- END SOLUTION -->`` becomes a prompt to write one's own answer. Outputs are cleared.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nbformat

from grader.errors import UserError

CODE_BLOCK = re.compile(
    r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*$",
    re.DOTALL | re.MULTILINE,
)
TEXT_BLOCK = re.compile(r"<!--\s*BEGIN SOLUTION\s*-->.*?<!--\s*END SOLUTION\s*-->", re.DOTALL)
MARKERS = ("BEGIN SOLUTION", "END SOLUTION")


class MasterError(UserError, ValueError):
    """A master notebook whose solution markers do not pair up."""


def student_notebook(master: Path) -> nbformat.NotebookNode:
    """The student version of ``master``: no solution, no output."""
    import nbformat  # here, not above: importing it (and its schema validator) is slow

    notebook = nbformat.read(master, as_version=4)
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "code":
            cell.source = CODE_BLOCK.sub(r"\1raise NotImplementedError", cell.source)
            cell.outputs, cell.execution_count = [], None
        elif cell.cell_type == "markdown":
            cell.source = TEXT_BLOCK.sub("_Write your answer here._", cell.source)
        if any(marker in cell.source for marker in MARKERS):
            raise MasterError(f"{master}: cell {number} has a solution marker without its pair")
        cell.metadata.pop("grader", None)
    return notebook
