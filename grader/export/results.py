"""``results.json``: the contract's result format, written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from grader.model import SubmissionResult


def write_json_atomic(data: Any, path: Path) -> Path:
    """Write JSON through a temporary file and a rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False, encoding="utf-8"
    ) as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(handle.name, path)
    return path


def write_results(results: Iterable[SubmissionResult], path: Path) -> Path:
    """results.json, streamed one submission at a time (memory stays flat for a large class),
    through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False, encoding="utf-8"
    ) as handle:
        handle.write("[")
        for number, result in enumerate(results):
            handle.write(",\n" if number else "\n")
            handle.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        handle.write("\n]\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(handle.name, path)
    return path
