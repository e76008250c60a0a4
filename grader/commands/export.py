"""``grader export DIR --format FORMAT``: a graded folder's grades in a form an LMS imports."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from rich.console import Console

from grader.atomic import write_text_atomic
from grader.defaults import DEFAULT_PENDING, PENDING_CHOICES
from grader.export.common import ExportOptions, delimited
from grader.export.formats import FORMATS, VARIANTS, check_assignment_id, left_out, warnings
from grader.export.graded import GradedEntry, load_graded
from grader.load.discover import UsageError
from grader.load.roster import read_roster


def main(
    *,
    folder: Path,
    format: str,
    output: Path | None = None,
    assignment_id: str = "",
    title: str = "",
    pending: str = DEFAULT_PENDING,
    variant: str = "",
    roster: Path | None = None,
    console: Console | None = None,
) -> int:
    """Write the export to ``output`` (or standard output); 0 when written."""
    console = console or Console(stderr=True)
    _check_options(folder, format, output, assignment_id, pending, variant)
    graded = load_graded(folder, read_roster(roster) if roster else None)
    options = ExportOptions(assignment_id, title, pending, variant)
    text = FORMATS[format](graded, options)
    for line in warnings(format, graded, options):
        console.print(f"[yellow]Note:[/yellow] {line}", highlight=False)
    dropped = left_out(format, graded, options)
    if dropped:
        side = folder / f"left-out-{format}.csv"
        _write_atomic(_left_out_table(dropped), side)
        console.print(f"[yellow]Note:[/yellow] {_left_out_line(dropped, side)}", highlight=False)
    if output is None:
        sys.stdout.write(text)
    else:
        _write_atomic(text, output)
        sent = len(graded.entries) - len(dropped)
        console.print(
            f"Wrote {output}: {format} export, {sent} student(s)"
            + (f", {len(dropped)} left out" if dropped else ""),
            highlight=False,
        )
    return 0


def _check_options(
    folder: Path, format: str, output: Path | None, assignment_id: str, pending: str, variant: str
) -> None:
    """Refuse options that do not go together, before anything is read or written."""
    if format not in FORMATS:
        raise UsageError(f"unknown format {format!r}: choose {', '.join(FORMATS)}")
    if variant and variant not in VARIANTS.get(format, ()):
        known = VARIANTS.get(format)
        raise UsageError(
            f"--variant {variant} does not apply to {format}"
            + (f" (choose {', '.join(known)})" if known else " (only moodle has variants)")
        )
    if pending not in PENDING_CHOICES:
        raise UsageError(f"unknown --pending {pending!r}: choose {', '.join(PENDING_CHOICES)}")
    check_assignment_id(format, assignment_id)
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder (give the --out folder of `grader grade`)")
    if output is not None and output.is_dir():
        raise UsageError(
            f"{output}: -o names a folder; give a file's path, e.g. {output / f'grades.{format}'}"
        )


def _left_out_line(dropped: list[tuple[GradedEntry, str]], side: Path) -> str:
    """One line: how many were left out, why, and where the list is."""
    reasons: dict[str, list[str]] = {}
    for entry, why in dropped:  # grouped by the reason's first clause ("manual item(s) still open")
        reasons.setdefault(re.split(r" \(|[:;]", why, maxsplit=1)[0], []).append(entry.student)
    parts = [
        f"{len(ids)} {why} ({', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''})"
        for why, ids in reasons.items()
    ]
    hint = ""
    if any("manual" in why for why, _ in reasons.items()):
        hint = "; --pending partial sends the points graded so far"
    if any("neither email" in why for why, _ in reasons.items()):
        hint += "; pass a --roster with Email address or ID number for the rest"
    return (
        f"{len(dropped)} student(s) left out of the file, so the LMS keeps whatever grade it "
        f"holds for them: {'; '.join(parts)}{hint}. The list is in {side}"
    )


def _left_out_table(dropped: list[tuple[GradedEntry, str]]) -> str:
    rows = [["student", "name", "email", "reason"]]
    for entry, why in dropped:
        rows.append([entry.student, entry.name, entry.person.email if entry.person else "", why])
    return delimited(rows)


def _write_atomic(text: str, path: Path) -> None:
    try:
        write_text_atomic(text, path, newline="")
    except OSError as exc:  # no temporary file is left beside the target
        raise UsageError(f"{path}: cannot be written ({exc.strerror}); give another -o") from None
