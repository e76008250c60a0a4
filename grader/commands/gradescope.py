"""``grader gradescope``: grade the one submission of a Gradescope autograder run.

Gradescope runs ``run_autograder`` in ``/autograder`` with the student's files in
``/autograder/submission`` and reads ``/autograder/results/results.json`` (Gradescope's
"Autograder Specifications"). This command grades that submission with the course's rubric and
reference (the autograder zip holds the course: ``rubrics/``, ``reference/``) and writes the
results there, in Gradescope's format (``grader/export/gradescope.py``). ``build`` writes the
``autograder.zip`` that runs it (``grader gradescope --build autograder.zip``).
"""

from __future__ import annotations

import secrets
import zipfile
from pathlib import Path, PurePosixPath

from rich.console import Console

import grader
from grader.assignment import Assignment, RubricError, load_assignment
from grader.atomic import write_json_atomic
from grader.defaults import GRADESCOPE_RESULTS, GRADESCOPE_SEED, GRADESCOPE_SUBMISSION
from grader.export.graded import GradedEntry, Origin, check_infos
from grader.export.gradescope import results
from grader.grading import grade_submission, grading_plan
from grader.infer import infer_assignment
from grader.load.discover import UsageError, read_submission
from grader.model import Submission
from grader.run.sandbox import DEFAULT_SANDBOX, SandboxError, choose_sandbox


def main(
    *,
    submission: Path = GRADESCOPE_SUBMISSION,
    results_path: Path = GRADESCOPE_RESULTS,
    assignment: str | None = None,
    course: str | None = None,
    seed: int | None = None,
    sandbox: str = DEFAULT_SANDBOX,
    console: Console | None = None,
) -> int:
    """Grade and write ``results.json``; 0 when it was written, 1 when only an error was."""
    console = console or Console()
    try:
        spec = load_assignment(infer_assignment(assignment, course=course), course)
        layer = choose_sandbox(sandbox)
        plan = grading_plan(spec, GRADESCOPE_SEED if seed is None else seed)
    except (RubricError, SandboxError) as exc:
        _not_set_up(exc, results_path)
        console.print(f"grader: error: {exc}")
        return 1
    found = _submitted(submission)
    result = grade_submission(found, plan, sandbox=layer)
    entry = GradedEntry(found.student, result, origin=Origin(problem=found.problem))
    data = results(entry, check_infos(spec))
    write_json_atomic(data, results_path)
    console.print(
        f"{spec.title}: {submission} graded ({layer.describe()}); "
        f"wrote {results_path} (autograder score {data['score']:g})",
        highlight=False,
    )
    return 0


def _not_set_up(exc: Exception, results_path: Path) -> None:
    """The results Gradescope shows when the course cannot grade: 0 points and the reason."""
    output = (
        "The autograder is not set up right, so this submission was not graded; "
        f"please tell your instructor. ({exc})"
    )
    write_json_atomic({"score": 0.0, "output": output, "tests": []}, results_path)


def _submitted(submission: Path) -> Submission:
    """The student's files, or a submission that says nothing was submitted."""
    if submission.exists():
        return read_submission(submission)
    return Submission(
        submission.name,
        submission,
        problem=f"{submission}: no such file or folder; nothing was submitted to grade",
    )


# --- the autograder zip ----------------------------------------------------------------------

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-pip bubblewrap
cd /autograder/source
python3 -m pip install . || python3 -m pip install --break-system-packages .
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission. AUTOGRADER_ROOT (default /autograder) moves the
# whole layout, to try the zip on your own machine.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
cd "$ROOT/source"
mkdir -p "$ROOT/results"
exec python3 -m grader gradescope --course "$ROOT/source" --assignment {assignment} \\
    --seed {seed} --submission "$ROOT/submission" --results "$ROOT/results/results.json"
"""


def build(
    *,
    output: Path,
    assignment: str | None = None,
    course: str | None = None,
    seed: int | None = None,
    console: Console | None = None,
) -> int:
    """Write the ``autograder.zip`` Gradescope uploads: ``setup.sh`` and ``run_autograder`` at
    its root (Gradescope's "Autograder Specifications"), the grader's source to install, and
    the course's rubric and reference for this one assignment; nothing of tests, benchmarks or
    submissions. The hidden seed is fixed in ``run_autograder``: every student gets the same
    hidden cases."""
    console = console or Console(stderr=True)
    spec = load_assignment(infer_assignment(assignment, course=course), course)
    members = _members(spec)
    seed = secrets.randbelow(2**31) if seed is None else seed
    scripts = {
        "setup.sh": SETUP_SH,
        "run_autograder": RUN_AUTOGRADER.format(assignment=spec.name, seed=seed),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in scripts.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable, as Gradescope runs them
            archive.writestr(info, text)
        for name, path in members.items():
            archive.write(path, name)
    console.print(
        f"Wrote {output}: Gradescope autograder for {spec.title} ({len(members) + 2} files, "
        f"hidden seed {seed}); upload it under Configure Autograder → Zip file upload",
        highlight=False,
    )
    return 0


def _members(spec: Assignment) -> dict[str, Path]:
    """The zip's files by name: the project to install (pyproject.toml, README.md, the
    ``grader`` package without caches) and this assignment's rubric and reference."""
    package = Path(grader.__file__).resolve().parent
    project = package.parent / "pyproject.toml"
    if not project.exists():
        raise UsageError(
            f"{package}: not a source checkout of grader (no pyproject.toml beside it); "
            "build the autograder from a clone of the grader repository"
        )
    members: dict[str, Path] = {"pyproject.toml": project}
    readme = package.parent / "README.md"
    if readme.exists():
        members["README.md"] = readme  # pyproject.toml names it
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            members[str(PurePosixPath("grader") / path.relative_to(package).as_posix())] = path
    members[f"rubrics/{spec.rubric_path.name}"] = spec.rubric_path
    if spec.reference_path is not None and spec.reference_path.exists():
        members[f"reference/{spec.reference_path.name}"] = spec.reference_path
    return members
