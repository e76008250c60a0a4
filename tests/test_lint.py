"""The code is kept clean by the tools CI trusts: ruff (style, imports, likely bugs) and mypy
(types). They run here so that the README's one test command is the whole of CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=REPO, capture_output=True, text=True)


def test_ruff_finds_nothing() -> None:
    done = _run("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_nothing_in_the_grader() -> None:
    done = _run("mypy", "--no-incremental", "grader")
    assert done.returncode == 0, done.stdout + done.stderr
