"""Read a notebook or module into cells of plain Python and the written answers it holds.

IPython syntax (``%magic``, ``%%cell magic``, ``!shell``) is neutralised so that it never breaks
a run; written answers are markdown cells tagged ``answer:ID`` (or holding the marker
``<!-- answer: ID -->``), as the released student notebook has them.
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from typing import Any

from grader.model import Cell
from grader.selfcheck.cells import checker_names, is_selfcheck_source

ANSWER_MARKER = re.compile(r"\A\s*<!--\s*answer:\s*([\w.\-]+)\s*-->")
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# The prompt `grader release` leaves in an answer cell (grader/master.py), and its usual kin:
# where it stands, in any emphasis, it is not part of the answer.
PLACEHOLDER = re.compile(
    r"^[ \t*_]*(?:write[ \t]+)?your[ \t]+answer[ \t]+here[ \t]*[.!:]?[ \t*_]*$",
    re.IGNORECASE | re.MULTILINE,
)
ANSWER_TAG = "answer:"
KEPT_CELL_MAGICS = {"time", "timeit", "capture", "prun"}  # the body is Python: run it
LINE_MAGIC = re.compile(r"^(\s*)(?:[\w.,\s]+=\s*)?[%!]")
# A class's notebooks share many cells (the handout's, the unchanged exploration cells): each
# cell's source is compiled once, up to this many remembered, each of at most this length.
REMEMBERED_CELLS = 512
REMEMBERED_LENGTH = 8000


class NotebookError(ValueError):
    """The file is not a notebook that can be read."""


def read_notebook(data: bytes, name: str) -> tuple[tuple[Cell, ...], dict[str, str]]:
    """Cells (in order) and answers of a notebook given as bytes; ``name`` is for messages."""
    notebook_cells = _plain_cells(data)
    if notebook_cells is None:
        notebook_cells = _nbformat_cells(data, name)
    cells: list[Cell] = []
    answers: dict[str, str] = {}
    code_cells = 0
    checkers = checker_names(  # only a cell that says Notebook( can create one
        source
        for c in notebook_cells
        if c.get("cell_type") == "code" and "Notebook(" in (source := c.get("source", ""))
    )
    for cell in notebook_cells:
        source = cell.get("source", "")
        if cell.get("cell_type") == "code":
            code_cells += 1  # numbered as the student sees them, self-check cells included
            if not is_selfcheck_source(source, checkers):
                cells.append(Cell(code_cells, python_source(source)))
        elif cell.get("cell_type") == "markdown":
            answer_id = _answer_id(cell)
            text = _answer_text(source) if answer_id else ""
            if text:
                answers[answer_id] = (answers.get(answer_id, "") + "\n\n" + text).strip()
    return tuple(cells), answers


def _plain_cells(data: bytes) -> list[dict[str, Any]] | None:
    """The cells of a well-formed nbformat 4 notebook, read as plain JSON: importing nbformat
    and validating against its schema cost more than a whole self-check. None for anything
    else (another version, a damaged file), which nbformat then reads, upgrades or explains."""
    try:
        notebook = json.loads(data)
    except ValueError:
        return None
    if not (
        isinstance(notebook, dict)
        and notebook.get("nbformat") == 4
        and isinstance(notebook.get("metadata"), dict)
        and isinstance(notebook.get("cells"), list)
    ):
        return None
    cells = []
    for cell in notebook["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            return None
        source = cell.get("source")
        if isinstance(source, list):
            try:
                source = "".join(source)  # in one call: a line that is not text raises
            except TypeError:
                return None
        metadata = cell.get("metadata", {})
        if not isinstance(source, str) or not isinstance(metadata, dict):
            return None
        cells.append({"cell_type": cell["cell_type"], "source": source, "metadata": metadata})
    return cells


def _nbformat_cells(data: bytes, name: str) -> list[dict[str, Any]]:
    """The cells as nbformat reads them (older versions upgraded), or a NotebookError."""
    import nbformat

    try:
        with warnings.catch_warnings():  # nbformat's advice (missing cell ids...) is not ours
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{name} is not text (UTF-8) and cannot be a notebook") from exc
    except Exception as exc:  # nbformat raises many kinds for many kinds of damage
        raise NotebookError(
            f"{name} is not a readable Jupyter notebook ({_reason(exc)}); "
            "open it in Jupyter, save it again and resubmit"
        ) from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nbformat.validate(notebook)
    except nbformat.ValidationError as exc:
        raise NotebookError(
            f"{name} is not a valid Jupyter notebook ({_reason(exc)}); "
            "open it in Jupyter, save it again and resubmit"
        ) from exc
    return list(notebook.cells)


def read_module(data: bytes, name: str) -> tuple[Cell, ...]:
    """A Python module is one cell."""
    try:
        return (Cell(1, data.decode("utf-8")),)
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{name} is not text (UTF-8) and cannot be a Python module") from exc


def python_source(source: str) -> str:
    """Cell source with IPython-only lines replaced by ``pass`` (line numbers are kept).
    Source that is valid Python is left exactly as it is. Code that cannot be compiled at all
    (nested too deeply: RecursionError, MemoryError) raises, every time it is met."""
    if len(source) > REMEMBERED_LENGTH:
        return _python_source(source)
    return _remembered_python_source(source)


def _python_source(source: str) -> str:
    try:
        compile(source, "<cell>", "exec")
        return source
    except (SyntaxError, ValueError):
        pass
    lines = source.split("\n")
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        magic = first[2:].split()[0] if len(first) > 2 else ""
        if magic not in KEPT_CELL_MAGICS:
            return "pass"  # %%bash, %%html, %%writefile: not Python, not run
        lines[0] = "pass"
    out, depth, continued = [], 0, False
    for line in lines:
        match = LINE_MAGIC.match(line) if depth == 0 and not continued else None
        out.append(f"{match.group(1)}pass" if match else line)
        if not match:
            depth, continued = _bracket_depth(line, depth)
    return "\n".join(out)


# a pure function of the text, so remembering it changes nothing; what raises is not remembered
_remembered_python_source = functools.lru_cache(maxsize=REMEMBERED_CELLS)(_python_source)


def _bracket_depth(line: str, depth: int) -> tuple[int, bool]:
    """Open brackets after ``line`` (strings and comments skipped), and whether it ends with a
    backslash: a magic can only start a logical line, never continue one."""
    quote = ""
    i = 0
    while i < len(line):
        char = line[i]
        if quote:
            if char == "\\":
                i += 1
            elif line.startswith(quote, i):
                i += len(quote) - 1
                quote = ""
        elif char == "#":
            break
        elif char in "\"'":
            quote = line[i : i + 3] if line[i : i + 3] in ('"""', "'''") else char
            i += len(quote) - 1
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        i += 1
    return depth, line.rstrip().endswith("\\")


def _answer_text(source: str) -> str:
    """The written answer: without HTML comments (markers) and without the placeholder."""
    return PLACEHOLDER.sub("", COMMENT.sub("", source)).strip()


def _answer_id(cell: dict) -> str:
    for tag in cell.get("metadata", {}).get("tags", []) or []:
        if isinstance(tag, str) and tag.startswith(ANSWER_TAG):
            return tag[len(ANSWER_TAG) :].strip()
    match = ANSWER_MARKER.search(cell.get("source", ""))
    return match.group(1) if match else ""


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0][:160] if text else type(exc).__name__) or type(exc).__name__
