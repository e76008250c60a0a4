"""``grader release ASSIGNMENT --out DIR``: what students get — their notebook with check cells,
the public bundle, the grader's wheel and a README saying how to install and use them."""

from __future__ import annotations

from pathlib import Path

import nbformat
from rich.console import Console

from grader.assignment import Assignment, load_assignment
from grader.bundle import bundle_name, read_bundle, write_bundle
from grader.handout import build_wheel, student_readme
from grader.infer import infer_assignment
from grader.master import student_notebook
from grader.selfcheck.cells import add_check_cells


def main(
    *,
    assignment: str | None = None,
    out: Path,
    course: str | None = None,
    wheel: bool = True,
    console: Console | None = None,
) -> int:
    """Write the handout into ``out``: bundle, student notebook, wheel, README; 0 when done."""
    console = console or Console()
    spec = load_assignment(infer_assignment(assignment, course=course), course)
    out.mkdir(parents=True, exist_ok=True)
    bundle = write_bundle(spec, out / bundle_name(spec.name))
    notebook = _student_notebook(spec, out, console)
    wheel_path = build_wheel(out) if wheel else None
    readme = out / "README.md"
    readme.write_text(
        student_readme(
            read_bundle(bundle),
            wheel_path.name if wheel_path else "",
            notebook.name if notebook else None,
            bundle.name,
        ),
        encoding="utf-8",
    )
    for path in (bundle, notebook, wheel_path, readme):
        if path is not None:
            console.print(f"wrote {path}")
    console.print(
        f"Give students the folder {out}: its README.md says how to install the grader and "
        "run the self-checks."
    )
    return 0


def _student_notebook(spec: Assignment, out: Path, console: Console) -> Path | None:
    """The student notebook, made from the course's master notebook with a check cell after
    each exercise; None (and a warning) when the course has no master notebook."""
    master = spec.course / "reference" / f"{spec.name}_master.ipynb"
    if not master.exists():
        console.print(f"[yellow]No master notebook at {master}: no student notebook written.")
        return None
    checked = [c.id for c in spec.checks if not c.manual]
    notebook = add_check_cells(
        student_notebook(master), nbformat.read(master, as_version=4), spec.name, checked
    )
    path = out / f"{spec.name}.ipynb"
    nbformat.write(notebook, path)
    return path
