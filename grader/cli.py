"""The ``grader`` command line: it only parses arguments and calls each command's ``main``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grader import __version__
from grader.assign import MasterError
from grader.assignment import RubricError
from grader.load.discover import UsageError
from grader.run.sandbox import SandboxError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as the contract says
        sys.stderr.write(f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="grader",
        description="Auto-grader and self-checker for numeric machine-learning exercises.",
    )
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--assignment", default="sheet3", help="assignment name (default sheet3)")
        sub.add_argument("--course", help="course folder holding rubrics/ and reference/")

    check = commands.add_parser("check", help="self-check a submission on the public cases")
    check.add_argument("submission", type=Path, help="notebook, module, folder or zip")
    check.add_argument("--bundle", type=Path, help="the assignment's .public.json file")
    check.add_argument(
        "--sandbox",
        default="auto",
        choices=("auto", "bwrap", "process"),
        help="isolation layer (default: bwrap where it works, else process)",
    )
    common(check)

    grade = commands.add_parser("grade", help="grade submissions in a batch")
    grade.add_argument("paths", type=Path, nargs="+", help="submissions, folders or zips")
    grade.add_argument("--out", type=Path, required=True, help="output folder")
    grade.add_argument(
        "--seed",
        type=int,
        help="seed of the hidden cases (default: recorded "
        "in OUT/grading.json, or drawn at random and recorded there)",
    )
    grade.add_argument(
        "--sandbox",
        default="auto",
        choices=("auto", "bwrap", "process"),
        help="isolation layer (default: bwrap where it works, else process)",
    )
    common(grade)

    release = commands.add_parser("release", help="write the student notebook and public bundle")
    release.add_argument("name", help="assignment name, e.g. sheet3")
    release.add_argument("--out", type=Path, required=True, help="output folder")
    release.add_argument("--course", help="course folder holding rubrics/ and reference/")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            from grader.commands import check

            return check.main(
                submission=args.submission,
                assignment=args.assignment,
                bundle=args.bundle,
                course=args.course,
                sandbox=args.sandbox,
            )
        if args.command == "grade":
            from grader.commands import grade

            return grade.main(
                paths=args.paths,
                out=args.out,
                assignment=args.assignment,
                course=args.course,
                seed=args.seed,
                sandbox=args.sandbox,
            )
        from grader.commands import release

        return release.main(assignment=args.name, out=args.out, course=args.course)
    except (UsageError, RubricError, MasterError, SandboxError) as exc:
        sys.stderr.write(f"grader: error: {exc}\n")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
