"""The command line's import cost (issue #12: ``grader check`` under 1 s): building the parser
and answering ``--help`` load no heavy library and no command but the chosen one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "scipy", "jinja2", "rich", "starlette", "grader.run", "grader.check")
PROBE = """
import json, sys
from grader.cli import build_parser, main
build_parser()
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def _loaded(*argv: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_the_parser_and_help_import_nothing_heavy() -> None:
    for argv in (["--help"], ["check", "--help"], ["grade", "--help"], ["review", "--help"]):
        loaded = _loaded(*argv)
        assert "grader.cli" in loaded  # the probe really ran the grader's command line
        assert not _heavy(loaded), (argv, _heavy(loaded))
        assert not any(m.startswith("grader.commands.") for m in loaded), argv


def test_a_command_imports_only_its_own_module() -> None:
    loaded = _loaded("export", str(ROOT / "no-such-folder"), "--format", "csv")
    commands = {m for m in loaded if m.startswith("grader.commands.")}
    assert commands == {"grader.commands.export"}
