"""Defaults written once: the command line passes only the options given, so each command's
own keyword defaults apply (grader/defaults.py holds the ones the help text names), and no
command names a default assignment."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from typing import Any

import pytest

from grader import defaults
from grader.cli import build_parser
from grader.commands import check, export, grade, gradescope, manual, release, review
from grader.export.formats import FORMATS
from grader.run.sandbox import DEFAULT_SANDBOX, SANDBOX_CHOICES, SandboxError, choose_sandbox

MINIMAL = {  # each command with its required arguments only, and what it is called with
    "check": (["check", "x.ipynb"], check.main, {"submission"}),
    "grade": (["grade", "x", "--out", "o"], grade.main, {"paths", "out"}),
    "manual": (
        ["manual", "o", "--student", "s", "--check", "c"],
        manual.main,
        {"out", "student", "check"},
    ),
    "review": (["review", "o"], review.main, {"out"}),
    "export": (["export", "o", "--format", "csv"], export.main, {"folder", "format"}),
    "gradescope": (["gradescope"], gradescope.main, set()),
    "release": (["release", "--out", "o"], release.main, {"out"}),
}


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _keywords(function: Callable[..., Any]) -> set[str]:
    return set(inspect.signature(function).parameters)


@pytest.mark.parametrize("command", sorted(MINIMAL))
def test_the_parser_passes_only_what_was_given(command: str) -> None:
    argv, _, given = MINIMAL[command]
    options = vars(build_parser().parse_args(argv))
    assert options.pop("command") == command
    assert set(options) == given  # no default of the parser's own: the command's apply


@pytest.mark.parametrize("command", sorted(MINIMAL))
def test_every_option_is_a_keyword_of_the_command(command: str) -> None:
    _, main, _ = MINIMAL[command]
    dests = {a.dest for a in _subparsers()[command]._actions if a.dest != "help"}
    if command == "gradescope":  # --build calls build() with the options it shares
        dests.remove("build")
        assert {"assignment", "course", "seed"} <= _keywords(gradescope.build)
    assert dests <= _keywords(main), sorted(dests - _keywords(main))


def test_the_defaults_the_help_names_are_the_commands_own() -> None:
    def default(function: Callable[..., Any], name: str) -> Any:
        return inspect.signature(function).parameters[name].default

    for main in (check.main, grade.main, gradescope.main):
        assert default(main, "sandbox") == DEFAULT_SANDBOX == defaults.DEFAULT_SANDBOX
    assert default(review.main, "host") == defaults.REVIEW_HOST == "127.0.0.1"
    assert default(review.main, "port") == defaults.REVIEW_PORT == 0
    assert default(export.main, "pending") == defaults.DEFAULT_PENDING == "blank"
    assert default(gradescope.main, "submission") == defaults.GRADESCOPE_SUBMISSION
    assert default(gradescope.main, "results_path") == defaults.GRADESCOPE_RESULTS
    helps = {name: sub.format_help() for name, sub in _subparsers().items()}
    assert "default 127.0.0.1" in helps["review"] and "default 0" in helps["review"]
    assert "default /autograder/submission" in helps["gradescope"]


def test_no_command_names_a_default_assignment() -> None:
    for main in (check.main, grade.main, gradescope.main, gradescope.build, release.main):
        assert inspect.signature(main).parameters["assignment"].default is None
    assert "assignment" not in vars(build_parser().parse_args(["release", "--out", "o"]))
    assert build_parser().parse_args(["release", "sheet4", "--out", "o"]).assignment == "sheet4"


def test_the_choices_are_the_engines() -> None:
    assert defaults.EXPORT_FORMATS == tuple(FORMATS)
    assert SANDBOX_CHOICES == ("auto", "bwrap", "process")
    with pytest.raises(SandboxError, match="choose auto, bwrap or process"):
        choose_sandbox("docker")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["check", "x.ipynb", "--sandbox", "docker"])


def test_export_refuses_an_unknown_pending_choice(tmp_path: Any) -> None:
    from grader.load.discover import UsageError

    with pytest.raises(UsageError, match="choose blank, partial"):
        export.main(folder=tmp_path, format="csv", pending="half")
