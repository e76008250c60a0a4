"""``grader export DIR --format FORMAT``: a graded folder's grades in a form an LMS imports."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from grader.export.common import ExportOptions
from grader.export.formats import FORMATS, VARIANTS, warnings
from grader.export.graded import load_graded
from grader.load.discover import UsageError
from grader.load.roster import read_roster


def main(
    *,
    folder: Path,
    format: str,
    output: Path | None = None,
    assignment_id: str = "",
    title: str = "",
    pending: str = "blank",
    variant: str = "",
    roster: Path | None = None,
    console: Console | None = None,
) -> int:
    """Write the export to ``output`` (or standard output); 0 when written."""
    console = console or Console(stderr=True)
    if format not in FORMATS:
        raise UsageError(f"unknown format {format!r}: choose {', '.join(FORMATS)}")
    if variant and variant not in VARIANTS.get(format, ()):
        known = VARIANTS.get(format)
        raise UsageError(
            f"--variant {variant} does not apply to {format}"
            + (f" (choose {', '.join(known)})" if known else " (only moodle has variants)")
        )
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder (give the --out folder of `grader grade`)")
    if output is not None and output.is_dir():
        raise UsageError(
            f"{output}: -o names a folder; give a file's path, e.g. {output / f'grades.{format}'}"
        )
    graded = load_graded(folder, read_roster(roster) if roster else None)
    options = ExportOptions(assignment_id, title, pending, variant)
    text = FORMATS[format](graded, options)
    for line in warnings(format, graded, options):
        console.print(f"[yellow]Note:[/yellow] {line}", highlight=False)
    if output is None:
        sys.stdout.write(text)
    else:
        _write_atomic(text, output)
        count = sum(e.result is not None for e in graded.entries)
        console.print(
            f"Wrote {output}: {format} export of {count} graded submission(s)"
            + (
                f" and {len(graded.entries) - count} roster student(s) without one"
                if len(graded.entries) > count
                else ""
            ),
            highlight=False,
        )
    return 0


def _write_atomic(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", delete=False, encoding="utf-8", newline=""
    ) as handle:
        handle.write(text)
    try:
        os.replace(handle.name, path)
    except OSError as exc:
        os.unlink(handle.name)  # no temporary file is left beside the target
        raise UsageError(f"{path}: cannot be written ({exc.strerror}); give another -o") from None
