"""What a self-check in Jupyter shows: HTML in a notebook, plain text anywhere else.

The words are those of ``grader check`` (:mod:`grader.selfcheck.words`), plus one row per
public case. Every piece of text is escaped: an error message is the student's text, never HTML.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from grader.model import CaseResult, CheckResult
from grader.selfcheck import words

COLORS = {"green": "#1a7f37", "red": "#cf222e", "yellow": "#9a6700", "cyan": "#0969da"}
HEADERS = ("case", "call", "status", "what came back")
KERNEL_HINT = {
    "missing": "In Jupyter: run the cell that defines it, then this check again.",
}


@dataclass(frozen=True)
class Checked:
    """The outcome of ``Notebook.check`` or ``Notebook.check_all``: one or more checks."""

    checks: tuple[CheckResult, ...]
    calls: dict[tuple[str, int], str] = field(default_factory=dict)  # (check, case) -> call
    title: str = ""
    problem: str = ""  # why nothing could be checked
    whole: bool = False  # every check of the bundle (check_all): ends with the summary line

    @property
    def passed(self) -> bool:
        """True when every automatic check here passed on its public cases."""
        return not self.problem and words.all_passed(self.checks)

    @property
    def score(self) -> float:
        """The points earned on the public cases (items graded by hand count 0 here)."""
        return round(sum(c.score for c in words.automatic(self.checks)), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in words.automatic(self.checks)), 6)

    def __getitem__(self, check_id: str) -> CheckResult:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(check_id)

    def _cases_shown(self, check: CheckResult) -> tuple[CaseResult, ...]:
        """Every case of a single check; of a whole self-check, those of checks not passed."""
        if self.whole and check.status == "passed":
            return ()
        return check.cases

    # --- plain text -------------------------------------------------------------------------

    def __str__(self) -> str:
        if self.problem:
            return f"Not checked: {self.problem}"
        lines = [self.title] if self.whole and self.title else []
        for check in self.checks:
            mark = words.MARKS[check.status]
            lines.append(
                f"{mark} {check.id}: {check.status}, {words.points(check)} points — {check.title}"
            )
            for case in self._cases_shown(check):
                call = self.calls.get((check.id, case.index), "")
                named = f" [known mistake: {case.mistake}]" if case.mistake else ""
                lines.append(
                    f"    case {case.index + 1}, {call}: {words.MARKS[case.status]} "
                    f"{case.status} — {case.message}{named}"
                )
            if check.status != "passed" or not self.whole:
                lines.append(f"    {check.feedback}")
            hint = KERNEL_HINT.get(check.status)
            if hint:
                lines.append(f"    {hint}")
        if self.whole:
            lines.append(words.summary(self.checks))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    # --- HTML -------------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        if self.problem:
            return _box(f"<p>{_status_span('error', 'Not checked')}: {_e(self.problem)}</p>")
        parts = [f"<p><strong>{_e(self.title)}</strong></p>"] if self.whole and self.title else []
        for check in self.checks:
            parts.append(self._check_html(check))
        if self.whole:
            parts.append(f"<p>{_e(words.summary(self.checks))}</p>")
        return _box("".join(parts))

    def _check_html(self, check: CheckResult) -> str:
        head = (
            f"<p><strong>{_e(check.id)}</strong> {_status_span(check.status)} "
            f"{_e(words.points(check))} points — {_e(check.title)}</p>"
        )
        rows = []
        for case in self._cases_shown(check):
            call = self.calls.get((check.id, case.index), "")
            named = f"<br><em>known mistake: {_e(case.mistake)}</em>" if case.mistake else ""
            rows.append(
                f"<tr><td>{case.index + 1}</td><td><code>{_e(call)}</code></td>"
                f'<td style="white-space:nowrap">{_status_span(case.status)}</td>'
                f'<td style="text-align:left">{_e(case.message)}{named}</td></tr>'
            )
        table = (
            "<table><thead><tr>"
            + "".join(f'<th style="text-align:left">{h}</th>' for h in HEADERS)
            + f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            if rows
            else ""
        )
        feedback = ""
        if check.status != "passed" or not self.whole:
            hint = KERNEL_HINT.get(check.status, "")
            feedback = f"<p>{_e(check.feedback)}{' ' + _e(hint) if hint else ''}</p>"
        return f'<div class="grader-check grader-{_e(check.status)}">{head}{table}{feedback}</div>'


def _status_span(status: str, text: str | None = None) -> str:
    color = COLORS[words.STYLES.get(status, "red")]
    label = text or f"{words.MARKS[status]} {status}"
    return f'<span style="color:{color};font-weight:bold">{_e(label)}</span>'


def _box(body: str) -> str:
    return f'<div class="grader-selfcheck">{body}</div>'


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)
