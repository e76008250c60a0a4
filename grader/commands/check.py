"""``grader check SUBMISSION``: a student's self-check on the public cases.

A self-check should feel instant, so the sandboxed Python that will run the student's code
starts first, and loads numpy while this process imports the checks and reads the bundle and
the notebook (:mod:`grader.selfcheck.terminal`).
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from grader.run.launch import ForkServer
from grader.run.sandbox import DEFAULT_SANDBOX, choose_sandbox, fallback_warning

if TYPE_CHECKING:
    from rich.console import Console


def main(
    *,
    submission: Path,
    assignment: str | None = None,
    bundle: Path | None = None,
    course: str | None = None,
    sandbox: str = DEFAULT_SANDBOX,
    console: Console | None = None,
) -> int:
    """Run the public checks; 0 when every one passes, 1 otherwise."""
    if not submission.exists():
        from grader.load.discover import UsageError

        raise UsageError(f"{submission}: no such file or folder")
    server = ForkServer(choose_sandbox(sandbox))
    server.boot()
    try:
        from rich.console import Console  # these imports overlap the boot

        from grader.selfcheck.terminal import self_check

        # scipy (for the statistics) loads while this process waits for the child
        threading.Thread(
            target=importlib.import_module, args=("grader.check.special",), daemon=True
        ).start()
        warning = fallback_warning(sandbox, server.sandbox)
        if warning:
            Console(stderr=True).print(f"[yellow]{warning}[/yellow]", highlight=False)
        return self_check(submission, assignment, bundle, course, server, console or Console())
    finally:
        server.close()
