"""The plain values that flow forward through the pipeline: load → run → check → score → report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

# "pending": a self-check's automatic check whose cases cannot run from the public bundle
Status = Literal["passed", "failed", "error", "timeout", "missing", "manual", "pending"]
CaseStatus = Literal["passed", "failed", "error", "timeout", "missing"]  # of one case
Visibility = Literal["public", "hidden"]
STATUSES: tuple[str, ...] = (
    "passed",
    "failed",
    "error",
    "timeout",
    "missing",
    "manual",
    "pending",
)


# --- load -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One piece of student code, run in order (a notebook cell or a whole module)."""

    index: int
    source: str


@dataclass(frozen=True)
class Submission:
    """One student's work as found on disk, before anything of it has run."""

    student: str
    path: Path
    cells: tuple[Cell, ...] = ()
    answers: dict[str, str] = field(default_factory=dict)  # manual item id -> written answer
    problem: str | None = None  # why it could not be read; then it is graded 0 with this message
    content_hash: str = ""
    kind: str = "module"  # "notebook" runs as __main__, like Jupyter; "module" as a module
    # Where an LMS bulk download named it (grader/load/lms.py): how, and what else it held.
    scheme: str = ""  # canvas | moodle | blackboard | pattern | files; "" for a single path
    display_name: str = ""  # the name the LMS wrote beside the id, if any
    late: bool = False  # the LMS marked it late
    attempt: str = ""  # the graded attempt's sortable stamp (Blackboard's timestamp)
    other_attempts: tuple[str, ...] = ()  # the student's other files or attempts, not graded
    # set by a lazy discovery: reads the file; see materialize()
    loader: Callable[[], Submission] | None = field(default=None, compare=False, repr=False)

    def materialize(self) -> Submission:
        """This submission with its code read (a lazily discovered one is read now)."""
        if self.loader is None:
            return self
        return self.loader()


# --- run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rng:
    """An argument the child turns into ``numpy.random.default_rng(seed)``."""

    seed: int


@dataclass(frozen=True)
class Call:
    """One call of a student function, as sent to the child."""

    function: str
    args: tuple[Any, ...] = ()
    repeat: int = 1  # call it this many times (an Rng argument gets seed + i); values are stacked
    return_args: bool = False  # send back the positional arguments after the call
    timeout: float = 5.0


CallStatus = Literal["ok", "error", "timeout", "missing", "crashed"]


@dataclass(frozen=True)
class NotPlain:
    """A returned value that is not plain data (a float subclass, an object, complex numbers):
    a wrong answer, judged ``failed`` with this reason, never compared."""

    reason: str


@dataclass(frozen=True)
class Outcome:
    """What came back from one call: plain data only."""

    status: CallStatus
    value: Any = None
    args_after: tuple[Any, ...] | None = None
    error: str = ""  # "TypeError: ..." for a raised exception, or why the child died
    seconds: float = 0.0


@dataclass(frozen=True)
class RunLog:
    """What happened while the student's code was loaded in the child."""

    cell_errors: tuple[tuple[int, str], ...] = ()  # (cell index, "ValueError: ...")
    output: str = ""  # captured stdout/stderr, capped
    load_error: str = ""  # the whole load failed (crash, timeout): every call then shares it
    sandbox: str = ""


# --- check ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plot:
    """A small line chart a report can draw: named series over a shared x axis."""

    title: str
    x_label: str
    y_label: str
    series: dict[str, list[float]]
    log_y: bool = False


@dataclass(frozen=True)
class Verdict:
    """The comparison of one returned value with what was expected."""

    passed: bool
    message: str  # with values: shown for public cases
    mistake: str | None = None  # the name of a known mistake this answer matches
    plot: Plot | None = None
    summary: str = ""  # without inputs or expected values: shown for hidden cases


@dataclass(frozen=True)
class CaseResult:
    """One case of a check: the call's outcome judged against its expectation."""

    index: int
    visibility: Visibility
    status: CaseStatus
    message: str
    mistake: str | None = None
    plot: Plot | None = None


@dataclass(frozen=True)
class Override:
    """An instructor's score in place of an automatic check's, with the reason."""

    original_score: float  # what the check itself scored
    reason: str
    grader: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"original_score": self.original_score, "reason": self.reason, "by": self.grader}


@dataclass(frozen=True)
class CheckResult:
    """One rubric item for one submission, as it appears in ``results.json``."""

    id: str
    status: Status
    score: float
    max_score: float
    feedback: str
    title: str = ""
    cases: tuple[CaseResult, ...] = ()
    answer: str | None = None  # the student's written answer, for manual items
    override: Override | None = None  # an instructor replaced the score; status stays the check's

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "feedback": self.feedback,
        }
        if self.override is not None:
            data["override"] = self.override.to_json()
        return data


@dataclass(frozen=True)
class SubmissionResult:
    """A graded submission: the unit that is stored, reported and exported."""

    student: str
    submission: str
    checks: tuple[CheckResult, ...]
    assignment: str = ""
    log: RunLog = field(default_factory=RunLog)
    problem: str | None = None

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 6)

    def to_json(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "submission": self.submission,
            "score": self.score,
            "max_score": self.max_score,
            "checks": [c.to_json() for c in self.checks],
        }
