"""``grader release ASSIGNMENT --out DIR``: what students get — their notebook and the public
bundle for self-checks."""

from __future__ import annotations

from pathlib import Path

import nbformat
from rich.console import Console

from grader.assign import student_notebook
from grader.assignment import load_assignment
from grader.bundle import bundle_name, write_bundle


def main(
    *, assignment: str, out: Path, course: str | None = None, console: Console | None = None
) -> int:
    console = console or Console()
    spec = load_assignment(assignment, course)
    out.mkdir(parents=True, exist_ok=True)
    written = [write_bundle(spec, out / bundle_name(assignment))]
    master = spec.course / "reference" / f"{assignment}_master.ipynb"
    if master.exists():
        notebook_path = out / f"{assignment}.ipynb"
        nbformat.write(student_notebook(master), notebook_path)
        written.append(notebook_path)
    else:
        console.print(f"[yellow]No master notebook at {master}: only the bundle was written.")
    for path in written:
        console.print(f"wrote {path}")
    console.print(
        "Give students both files; in that folder, `grader check "
        f"{assignment}.ipynb` runs their self-check."
    )
    return 0
