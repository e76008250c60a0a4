"""The defaults the command line shows in its help and the commands use, written once.

Import-light on purpose (the standard library only): the CLI builds its parser from these
without importing a command, the sandbox or any heavy library.
"""

from __future__ import annotations

from typing import Literal, get_args

# the isolation layer (grader/run/sandbox.py): auto is bwrap where it works, else process
SandboxChoice = Literal["auto", "bwrap", "process"]
SANDBOX_CHOICES: tuple[str, ...] = get_args(SandboxChoice)
DEFAULT_SANDBOX: SandboxChoice = "auto"
