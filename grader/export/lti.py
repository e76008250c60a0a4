"""LTI 1.3 Assignment and Grade Services: one score object per student.

1EdTech AGS score publish service, as Canvas documents it (Score API, developerdocs.instructure
.com): ``userId``, ``scoreGiven``, ``scoreMaximum`` (present whenever ``scoreGiven`` is),
``comment``, ``timestamp`` (ISO 8601 with sub-second precision), ``activityProgress``
(Initialized, Started, InProgress, Submitted, Completed) and ``gradingProgress`` (NotReady,
Failed, Pending, PendingManual, FullyGraded; PendingManual asks a grader to intervene). A tool
POSTs each object to the line item's ``/scores`` endpoint; this export writes them as a JSON
array. ``userId`` is the roster's ``lti_id`` when there is one, else the student's LMS id (for
Canvas the user id is accepted).
"""

from __future__ import annotations

import json
from typing import Any

from grader.export.common import ExportOptions, comment, grade, iso_time, unsent
from grader.export.graded import Graded, GradedEntry


def score(entry: GradedEntry, graded: Graded, options: ExportOptions) -> dict[str, Any]:
    user = (entry.person.lti_id if entry.person else "") or entry.student
    out: dict[str, Any] = {"userId": user}
    out["scoreGiven"] = float(grade(entry, options))  # only students with a grade get a Score
    out["scoreMaximum"] = graded.max_score
    out["comment"] = comment(entry, graded.max_score, options)
    out["timestamp"] = iso_time(options.now)
    out["activityProgress"] = "Completed"
    out["gradingProgress"] = "PendingManual" if entry.open_manual else "FullyGraded"
    return out


def export(graded: Graded, options: ExportOptions) -> str:
    """One Score per student with a grade to send. No Score for the others: Canvas's
    ``scores_controller.rb`` sets the score to nil for a Score without ``scoreGiven`` or whose
    ``gradingProgress`` is not FullyGraded or PendingManual (``ignore_score?``), erasing a grade
    the LMS holds. With ``--pending partial`` an open student's Score is ``PendingManual`` with
    the points so far, which Canvas records and flags for a grader."""
    scores = [score(e, graded, options) for e in graded.entries if not unsent(e, options)]
    return json.dumps(scores, indent=2, ensure_ascii=False) + "\n"
