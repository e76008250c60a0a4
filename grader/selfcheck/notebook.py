"""``Notebook``: the public checks of an assignment, run in Jupyter on the kernel's functions.

    from grader import Notebook
    nb = Notebook()              # the bundle beside the notebook, or Notebook("x.public.json")
    nb.check("1a.hessian")       # that check's public cases, on the functions defined here
    nb.check_all()               # every public check

The judging is the batch's own (:mod:`grader.check.engine`: the same comparisons, statistical
tests and named mistakes); only the public bundle is involved, so a result shows no more than
``grader check`` does. A bundle that cannot be found or read is reported once, here, and each
check then answers "not checked" in one line.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from grader.assignment import RubricError
from grader.check.cases import describe_call
from grader.check.engine import judge_check, pending_check
from grader.grading import Plan
from grader.model import CheckResult, RunLog
from grader.selfcheck.calls import call_here
from grader.selfcheck.locate import BundleNotFound, find_bundle
from grader.selfcheck.results import Checked

MANUAL = "Graded by hand by an instructor after you submit; no self-check can see it."


class Notebook:
    """The self-checks of one assignment, for the notebook running in this kernel."""

    def __init__(
        self,
        bundle: str | os.PathLike[str] | None = None,
        *,
        assignment: str | None = None,
    ) -> None:
        """Load the public bundle: ``bundle`` (a file or a folder), else the one beside the
        notebook; with several there, ``assignment`` names it."""
        self.path: Path | None = None
        self.problem = ""
        self._plan: Plan | None = None
        # scipy (for the statistics) loads meanwhile, so the first check does not wait for it
        threading.Thread(
            target=importlib.import_module, args=("grader.check.special",), daemon=True
        ).start()
        try:
            self.path = find_bundle(bundle, assignment, _caller_namespace())
            self._plan = _read(self.path)
        except (BundleNotFound, RubricError) as exc:
            self.problem = str(exc)
            print(f"grader: {self.problem}", file=sys.stderr)

    @property
    def checks(self) -> list[str]:
        """The ids of the bundle's checks, in the rubric's order."""
        return [spec.id for spec in self._plan.checks] if self._plan else []

    def check(self, check_id: str, namespace: Mapping[str, Any] | None = None) -> Checked:
        """Run one check's public cases on the functions of ``namespace`` (by default, the
        caller's: the notebook's own variables)."""
        if self._plan is None:
            return Checked((), problem=self._not_loaded())
        if check_id not in self.checks:
            raise ValueError(
                f"no check {check_id!r} in {self.path}; its checks are: {', '.join(self.checks)}"
            )
        namespace = _caller_namespace() if namespace is None else namespace
        return self._run([check_id], namespace, whole=False)

    def check_all(self, namespace: Mapping[str, Any] | None = None) -> Checked:
        """Run every public check, as ``grader check`` does on the saved file."""
        if self._plan is None:
            return Checked((), problem=self._not_loaded(), whole=True)
        namespace = _caller_namespace() if namespace is None else namespace
        return self._run(self.checks, namespace, whole=True)

    def __repr__(self) -> str:
        where = self.path or "no bundle"
        return f"Notebook({str(where)!r}, {len(self.checks)} checks)"

    def _run(self, check_ids: list[str], namespace: Mapping[str, Any], whole: bool) -> Checked:
        assert self._plan is not None
        plan = self._plan
        results: list[CheckResult] = []
        calls: dict[tuple[str, int], str] = {}
        for spec in plan.checks:
            if spec.id not in check_ids:
                continue
            if spec.manual:
                results.append(CheckResult(spec.id, "manual", 0.0, spec.points, MANUAL, spec.title))
                continue
            cases = plan.cases_of(spec.id)
            if not cases:  # judged only with the reference: shown, with its points
                results.append(pending_check(spec))
                continue
            outcomes = [call_here(case.call, namespace) for case in cases]
            calls.update({(spec.id, c.index): describe_call(c.call) for c in cases})
            try:
                results.append(judge_check(spec, cases, outcomes, RunLog(), plan.lookup))
            except Exception as exc:  # a value no comparison foresaw: this check only
                text = (
                    f"The grader could not judge this answer ({type(exc).__name__}: {exc}); "
                    "this is the grader's fault: tell your instructor."
                )
                results.append(CheckResult(spec.id, "error", 0.0, spec.points, text, spec.title))
        return Checked(tuple(results), calls, plan.title, whole=whole)

    def _not_loaded(self) -> str:
        return f"the public bundle could not be loaded ({self.problem})"


def _read(path: Path) -> Plan:
    from grader.bundle import read_bundle  # the bundle reader pulls in the rubric's types

    return read_bundle(path)


def _caller_namespace() -> Mapping[str, Any]:
    """The globals of the first frame outside this module: in Jupyter, the notebook's."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back  # type: ignore[assignment]
    return frame.f_globals if frame is not None else {}
