"""The defaults the command line shows in its help and the commands use, written once.

Import-light on purpose (the standard library only): the CLI builds its parser from these
without importing a command, the sandbox or any heavy library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

# the isolation layer (grader/run/sandbox.py): auto is bwrap where it works, else process
SandboxChoice = Literal["auto", "bwrap", "process"]
SANDBOX_CHOICES: tuple[str, ...] = get_args(SandboxChoice)
DEFAULT_SANDBOX: SandboxChoice = "auto"

# grader review: loopback only, any free port
REVIEW_HOST = "127.0.0.1"
REVIEW_PORT = 0

# grader export: the formats (grader/export/formats.py names their writers) and the grade of a
# student whose manual items are still open
EXPORT_FORMATS = ("canvas", "moodle", "blackboard", "gradescope", "lti", "csv")
PendingChoice = Literal["blank", "partial"]
PENDING_CHOICES: tuple[str, ...] = get_args(PendingChoice)
DEFAULT_PENDING: PendingChoice = "blank"

# grader gradescope: where Gradescope puts the submission and reads the results
GRADESCOPE_SUBMISSION = Path("/autograder/submission")
GRADESCOPE_RESULTS = Path("/autograder/results/results.json")
GRADESCOPE_SEED = 20261127  # the same hidden cases for every student; set your own with --seed
