"""Layers of isolation around the child: how its command line and environment are built.

``process`` is always there: own process group, resource limits, scrubbed environment, private
working folder, capped output (the limits themselves are applied by the child before any
student code runs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

KEPT_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL")


@dataclass(frozen=True)
class Sandbox:
    """The plain-process layer: the child runs as a normal process of this user."""

    name: str = "process"

    def wrap(self, argv: list[str], *, workdir: Path, child_dir: Path, result_fd: int) -> list[str]:
        """The command line that starts ``argv`` inside this layer."""
        return argv

    def environment(self, workdir: Path) -> dict[str, str]:
        """A scrubbed environment: nothing of the grader's but what numpy needs to run."""
        env = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
        env.update(
            PATH="/usr/local/bin:/usr/bin:/bin",
            HOME=str(workdir),
            TMPDIR=str(workdir),
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONHASHSEED="0",
            OPENBLAS_NUM_THREADS="1",
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
            MPLBACKEND="Agg",
        )
        return env


def choose_sandbox(name: str = "auto") -> Sandbox:
    """The sandbox layer called ``name``; ``auto`` is the strongest one available."""
    if name in ("auto", "process"):
        return Sandbox()
    raise ValueError(f"unknown sandbox {name!r}: choose auto or process")
