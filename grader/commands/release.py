"""``grader release ASSIGNMENT --out DIR``: what students get — their notebook with check cells,
the public bundle, the grader's wheel and a README saying how to install and use them."""

from __future__ import annotations

from pathlib import Path

import nbformat
from rich.console import Console

from grader.assignment import load_assignment
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
    console = console or Console()
    spec = load_assignment(infer_assignment(assignment, course=course), course)
    assignment = spec.name
    out.mkdir(parents=True, exist_ok=True)
    bundle = write_bundle(spec, out / bundle_name(assignment))
    written = [bundle]
    master = spec.course / "reference" / f"{assignment}_master.ipynb"
    notebook_name = None
    if master.exists():
        notebook_path = out / f"{assignment}.ipynb"
        checked = [c.id for c in spec.checks if not c.manual]
        notebook = add_check_cells(
            student_notebook(master), nbformat.read(master, as_version=4), assignment, checked
        )
        nbformat.write(notebook, notebook_path)
        written.append(notebook_path)
        notebook_name = notebook_path.name
    else:
        console.print(f"[yellow]No master notebook at {master}: no student notebook written.")
    wheel_name = ""
    if wheel:
        wheel_path = build_wheel(out)
        written.append(wheel_path)
        wheel_name = wheel_path.name
    readme = out / "README.md"
    readme.write_text(
        student_readme(read_bundle(bundle), wheel_name, notebook_name, bundle.name),
        encoding="utf-8",
    )
    written.append(readme)
    for path in written:
        console.print(f"wrote {path}")
    console.print(
        f"Give students the folder {out}: its README.md says how to install the grader and "
        "run the self-checks."
    )
    return 0
