"""``results.json``: the contract's result format, written atomically."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from grader.atomic import atomic_writer
from grader.model import SubmissionResult


def write_results(results: Iterable[SubmissionResult], path: Path) -> Path:
    """results.json, streamed one submission at a time (memory stays flat for a large class),
    through a temporary file and a rename."""
    with atomic_writer(path) as handle:
        handle.write("[")
        for number, result in enumerate(results):
            handle.write(",\n" if number else "\n")
            handle.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        handle.write("\n]\n")
    return path
