"""The ``grader`` command line: it only parses arguments and calls each command's ``main``."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any, NoReturn, TypeAlias

from grader import __version__
from grader.defaults import (
    DEFAULT_PENDING,
    DEFAULT_SANDBOX,
    EXPORT_FORMATS,
    GRADESCOPE_RESULTS,
    GRADESCOPE_SUBMISSION,
    PENDING_CHOICES,
    REVIEW_HOST,
    REVIEW_PORT,
    SANDBOX_CHOICES,
)
from grader.errors import UserError

REVIEW_HELP = """\
Serve a graded folder to reviewers in a browser, to grade the written answers.

The first line printed is the link to open: Review: http://HOST:PORT/?token=TOKEN.
Every request needs that token (the page sets a cookie); it serves until Ctrl+C.

In the browser:
  - The start page lists the written items with their progress ("31 of 120 graded")
    and the students. Open an item to grade it by question: every student's answer in
    turn, identical answers grouped (grade the group at once), each rendered with its
    math as MathML, beside the student's automatic results for that part.
  - Keys: the score field has the focus; type the score and press Enter to save and go
    to the next ungraded answer. Ctrl+Enter saves from the comment. Esc leaves a field;
    then j or Right = next, k or Left = previous, n = next ungraded, 1-9 = toggle a
    rubric item, s = score, c = comment.
  - Rubric items ("-2 base case missing") are made once per item at the bottom of its
    page and kept in the gradebook; editing one regrades every answer carrying it.
  - A student's page (/student/ID) shows all their written answers with a form each,
    and their automatic checks, each with an override form (a score and a reason).

Every grade is stored as `grader manual` stores it: the gradebook, results.json, the
class summary and the student's report change at once. Two reviewers may work at once:
the last save of the same answer wins and the page says whose grade it replaced.

JSON API (token in an Authorization: Bearer or X-Review-Token header for POSTs):
  GET  /api/queue[?check=ID]   one object per written item of every student
  POST /api/grade              {"student", "check", "score", "comment"[, "items", "seen"]}
  POST /api/grade-group        {"students": [...], "check", "score", "comment"[, "items"]}
  GET  /api/rubric?check=ID    POST /api/rubric {"check", "points", "text"}
  POST /api/rubric/ITEM_ID     {"points", "text"}: edit, regrading the answers carrying it
  POST /api/override           {"student", "check", "score", "reason"}; "score": null clears
A bad score, student or check gets 400 with {"error": ...}; nothing is stored.
"""


GRADED_COURSE_HELP = "course folder holding rubrics/ (default: the one OUT/grading.json records)"


class _Parser(argparse.ArgumentParser):
    """Options left out are left out of the parsed arguments (``argparse.SUPPRESS``), so that
    the command's own keyword defaults apply: each default is written once, by the command."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("argument_default", argparse.SUPPRESS)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # one line, exit 2, as the contract says
        sys.stderr.write(f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(2)


Commands: TypeAlias = "argparse._SubParsersAction[_Parser]"


def build_parser() -> argparse.ArgumentParser:
    """The ``grader`` parser: one sub-parser per command, each added by its own function."""
    parser = _Parser(
        prog="grader",
        description="Auto-grader and self-checker for numeric machine-learning exercises.",
    )
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in (_check, _grade, _manual, _review, _export, _gradescope, _release):
        add(commands)
    return parser


def _check(commands: Commands) -> None:
    check = commands.add_parser("check", help="self-check a submission on the public cases")
    check.add_argument("submission", type=Path, help="notebook, module, folder or zip")
    check.add_argument("--bundle", type=Path, help="the assignment's .public.json file")
    sandbox_option(check)
    assignment_options(check)


def _grade(commands: Commands) -> None:
    grade = commands.add_parser("grade", help="grade submissions in a batch")
    grade.add_argument("paths", type=Path, nargs="+", help="submissions, folders or zips")
    grade.add_argument("--out", type=Path, required=True, help="output folder")
    grade.add_argument(
        "--seed",
        type=int,
        help="seed of the hidden cases (default: recorded "
        "in OUT/grading.json, or drawn at random and recorded there)",
    )
    sandbox_option(grade)
    _naming_options(grade)
    grade.add_argument(
        "--regrade",
        action="store_true",
        help="grade everything again (default: only what is new or changed)",
    )
    grade.add_argument("--workers", type=int, help="parallel workers (default: one per core)")
    grade.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on this Dask distributed scheduler, e.g. tcp://host:8786",
    )
    grade.add_argument(
        "--gradebook", type=Path, help="SQLite gradebook (default: OUT/gradebook.sqlite)"
    )
    assignment_options(grade)


def _naming_options(grade: argparse.ArgumentParser) -> None:
    """Who is who in a batch: the class list, and file names the LMS naming does not cover."""
    grade.add_argument(
        "--roster",
        type=Path,
        help="CSV of the class: id, name, email, sis_id, login_id, section (an LMS gradebook "
        "export works); unmatched and missing students are reported",
    )
    grade.add_argument(
        "--name-pattern",
        metavar="REGEX",
        help="name students by this regex over file names instead of the LMS naming found, "
        "e.g. '(?P<student>[a-z0-9]+)_sheet3'; groups: student (required), name, late, attempt",
    )


def _manual(commands: Commands) -> None:
    manual = commands.add_parser(
        "manual", help="enter an instructor's grade for a written item, or override a check"
    )
    manual.add_argument("out", type=Path, help="the --out folder of `grader grade`")
    manual.add_argument("--student", required=True)
    manual.add_argument("--check", required=True, help="a manual item, e.g. 2a.proof")
    manual.add_argument("--score", type=float)
    manual.add_argument("--comment", help="feedback the student will read")
    manual.add_argument(
        "--override",
        action="store_true",
        help="replace an automatic check's score (needs --reason); kept across regrades",
    )
    manual.add_argument("--reason", help="why the score was overridden")
    manual.add_argument(
        "--clear-override",
        dest="clear",
        action="store_true",
        help="give the check its own score back",
    )
    manual.add_argument("--grader", dest="grader_name", metavar="GRADER", help="who graded it")
    manual.add_argument("--course", help=GRADED_COURSE_HELP)


def _review(commands: Commands) -> None:
    review = commands.add_parser(
        "review",
        help="grade written answers in the browser (the review workbench)",
        description=REVIEW_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    review.add_argument("out", type=Path, help="the --out folder of `grader grade`")
    review.add_argument(
        "--host",
        help=f"address to listen on (default {REVIEW_HOST}: this machine only; anything else "
        "lets others on the network reach it, with the token)",
    )
    review.add_argument("--port", type=int, help=f"port (default {REVIEW_PORT}: any free port)")
    review.add_argument("--course", help=GRADED_COURSE_HELP)


def _export(commands: Commands) -> None:
    export = commands.add_parser("export", help="write a graded folder's grades for an LMS")
    export.add_argument("folder", type=Path, help="the --out folder of `grader grade`")
    export.add_argument(
        "--format",
        required=True,
        choices=EXPORT_FORMATS,
        help="the LMS (or csv for spreadsheets)",
    )
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.add_argument("--assignment-id", help="the LMS's id of the assignment (its column id)")
    export.add_argument("--title", help="the assignment's title in the LMS")
    export.add_argument(
        "--pending",
        choices=PENDING_CHOICES,
        help=f"grade of a student whose manual items are still open: {DEFAULT_PENDING} "
        "(default, shows as not graded) or partial (the points graded so far)",
    )
    export.add_argument("--variant", help="moodle: worksheet (default) or gradebook")
    export.add_argument("--roster", type=Path, help="roster CSV (default: the one graded with)")


def _gradescope(commands: Commands) -> None:
    gradescope = commands.add_parser(
        "gradescope", help="grade the submission of a Gradescope autograder run"
    )
    gradescope.add_argument(
        "--submission",
        type=Path,
        help=f"the student's files (default {GRADESCOPE_SUBMISSION})",
    )
    gradescope.add_argument(
        "--results",
        dest="results_path",
        metavar="RESULTS",
        type=Path,
        help=f"where Gradescope reads the results (default {GRADESCOPE_RESULTS})",
    )
    gradescope.add_argument("--seed", type=int, help="seed of the hidden cases (fix it per term)")
    gradescope.add_argument(
        "--build",
        type=Path,
        metavar="ZIP",
        help="write the autograder.zip to upload to Gradescope instead of grading",
    )
    sandbox_option(gradescope)
    assignment_options(gradescope)


def _release(commands: Commands) -> None:
    release = commands.add_parser("release", help="write the student notebook and public bundle")
    release.add_argument(
        "assignment",
        metavar="name",
        nargs="?",
        help="assignment name (default: the course's only rubric)",
    )
    release.add_argument("--out", type=Path, required=True, help="output folder")
    release.add_argument("--course", help="course folder holding rubrics/ and reference/")
    release.add_argument(
        "--no-wheel", dest="wheel", action="store_false", help="do not build the grader's wheel"
    )


def sandbox_option(sub: argparse.ArgumentParser) -> None:
    """``--sandbox``, its choices and default as grader/defaults.py defines them."""
    sub.add_argument(
        "--sandbox",
        choices=SANDBOX_CHOICES,
        help=f"isolation layer (default {DEFAULT_SANDBOX}: bwrap where it works, else process)",
    )


def assignment_options(sub: argparse.ArgumentParser) -> None:
    """``--assignment`` (inferred when left out) and ``--course``."""
    sub.add_argument(
        "--assignment",
        help="assignment name (default: the one the bundle beside the submission, the "
        "output folder's grading.json or the course's only rubric names)",
    )
    sub.add_argument("--course", help="course folder holding rubrics/ and reference/")


def main(argv: list[str] | None = None) -> int:
    """Run the command that ``argv`` names; its exit code. As the program itself (``argv`` from
    the command line), the process ends once the command is done, without the interpreter's
    tear-down."""
    options = vars(build_parser().parse_args(argv))
    try:
        code = run(options.pop("command"), options)
    except UserError as exc:  # every error for people, once: one line, exit 2
        sys.stderr.write(f"grader: error: {one_line(exc)}\n")
        code = 2
    except KeyboardInterrupt:
        sys.stderr.write("grader: interrupted; run the same command again to continue\n")
        code = 2
    if argv is None:
        _end(code)
    return code


def _end(code: int) -> NoReturn:
    """End the process now, as a normal exit would but for freeing every object and module
    one by one (a tenth of a second or more once numpy and scipy are loaded): the exit
    handlers run (the logs, the temporary folders, multiprocessing's finalizers), the
    standard streams are flushed; every file the command wrote was closed by the command."""
    import atexit
    import os

    threading = sys.modules.get("threading")
    shutdown = getattr(threading, "_shutdown", None)  # joins the threads, as an exit does first
    if shutdown is None:  # not CPython's threading: a normal exit then
        raise SystemExit(code)
    shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1  # a lost output (a closed pipe) is a failure, as at a normal exit
    os._exit(code)


def run(command: str, options: dict[str, Any]) -> int:
    """Call the command's ``main`` with the options given, importing only that command."""
    if command == "grade" and not options.get("scheduler"):
        from grader.warm import at_most, warm_up, workers_for

        bound = at_most(options["paths"])
        if bound is None or workers_for(bound, options.get("workers")) > 1:
            warm_up()  # the workers' warm parent imports the grader while this process does
    module = importlib.import_module(f"grader.commands.{command}")
    if command == "gradescope" and "build" in options:  # --build writes the autograder zip
        kept = {k: v for k, v in options.items() if k in ("assignment", "course", "seed")}
        return int(module.build(output=options["build"], **kept))
    return int(module.main(**options))


def one_line(exc: BaseException) -> str:
    """The error's message on one line, with no control character reaching the terminal."""
    from grader.report.escape import terminal  # only on an error: rich is not cheap to import

    return terminal(" ".join(str(exc).split()))


if __name__ == "__main__":
    raise SystemExit(main())
