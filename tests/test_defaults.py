"""Defaults written once: the command line and each command's ``main`` agree, because both
take the sandbox's from grader/run/sandbox.py and none names an assignment."""

from __future__ import annotations

import inspect

import pytest

from grader.cli import build_parser
from grader.commands import check, grade, gradescope, release
from grader.run.sandbox import DEFAULT_SANDBOX, SANDBOX_CHOICES, SandboxError, choose_sandbox

ARGV = {
    "check": ["check", "x.ipynb"],
    "grade": ["grade", "x", "--out", "o"],
    "gradescope": ["gradescope"],
}


@pytest.mark.parametrize("command", sorted(ARGV))
def test_the_cli_and_the_command_share_their_defaults(command: str) -> None:
    args = build_parser().parse_args(ARGV[command])
    assert args.sandbox == DEFAULT_SANDBOX and args.assignment is None
    main = {"check": check.main, "grade": grade.main, "gradescope": gradescope.main}[command]
    parameters = inspect.signature(main).parameters
    assert parameters["sandbox"].default == DEFAULT_SANDBOX
    assert parameters["assignment"].default is None


def test_no_command_names_a_default_assignment() -> None:
    for main in (check.main, grade.main, gradescope.main, gradescope.build, release.main):
        assert inspect.signature(main).parameters["assignment"].default is None
    assert build_parser().parse_args(["release", "--out", "o"]).name is None


def test_the_sandbox_choices_are_the_literals() -> None:
    assert SANDBOX_CHOICES == ("auto", "bwrap", "process")
    with pytest.raises(SandboxError, match="choose auto, bwrap or process"):
        choose_sandbox("docker")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["check", "x.ipynb", "--sandbox", "docker"])
