"""The base of every error the grader tells a person about.

Each says in one line what went wrong, in which file, and what to do. The command line catches
this class once (``grader/cli.py``), prints the line and exits 2: never a traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake a person can fix: a path, a course file, a gradebook, an interruption."""


class CourseError(UserError):
    """A course file (rubric, reference module, template) that cannot be used as it is."""
