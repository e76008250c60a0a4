"""``grader gradescope``: grade the one submission of a Gradescope autograder run.

Gradescope runs ``run_autograder`` in ``/autograder`` with the student's files in
``/autograder/submission`` and reads ``/autograder/results/results.json`` (Gradescope's
"Autograder Specifications"). This command grades that submission with the course's rubric and
reference (the autograder zip holds the course: ``rubrics/``, ``reference/``) and writes the
results there, in Gradescope's format (``grader/export/gradescope.py``).
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from grader.assignment import RubricError, load_assignment
from grader.export.graded import GradedEntry, Origin, check_infos
from grader.export.gradescope import results
from grader.export.results import write_json_atomic
from grader.grading import grade_submission, grading_plan
from grader.load.discover import read_submission
from grader.model import Submission
from grader.run.sandbox import SandboxError, choose_sandbox

SUBMISSION = Path("/autograder/submission")
RESULTS = Path("/autograder/results/results.json")
DEFAULT_SEED = 20261127  # the same hidden cases for every student; set your own with --seed


def main(
    *,
    submission: Path = SUBMISSION,
    results_path: Path = RESULTS,
    assignment: str = "sheet3",
    course: str | None = None,
    seed: int | None = None,
    sandbox: str = "auto",
    console: Console | None = None,
) -> int:
    """Grade and write ``results.json``; 0 when it was written, 1 when only an error was."""
    console = console or Console()
    try:
        spec = load_assignment(assignment, course)
        layer = choose_sandbox(sandbox)
        plan = grading_plan(spec, DEFAULT_SEED if seed is None else seed)
    except (RubricError, SandboxError) as exc:
        write_json_atomic(
            {
                "score": 0.0,
                "output": (
                    "The autograder is not set up right, so this submission was not graded; "
                    f"please tell your instructor. ({exc})"
                ),
                "tests": [],
            },
            results_path,
        )
        console.print(f"grader: error: {exc}")
        return 1
    if submission.exists():
        found = read_submission(submission)
    else:
        found = Submission(
            submission.name,
            submission,
            problem=f"{submission}: no such file or folder; nothing was submitted to grade",
        )
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
