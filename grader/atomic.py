"""Writing a file so that no reader ever sees half of it: a temporary file beside the target,
flushed to disk, then renamed over it. The one way the grader writes results.json, the
graded folder's records, exports and sidecars."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_writer(
    path: Path, *, mode: int | None = None, newline: str | None = None
) -> Iterator[IO[str]]:
    """A text file to write that becomes ``path`` whole when the block ends, or not at all:
    on an error the temporary file is removed and ``path`` is as it was. ``mode`` sets the
    permissions (a temporary file is private, 0600, otherwise)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, before the rename)
        "w",
        dir=path.parent,
        prefix=f".{path.name}.",
        suffix=".tmp",
        delete=False,
        encoding="utf-8",
        newline=newline,
    )
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(handle.name, mode)
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise


def write_text_atomic(
    text: str, path: Path, *, mode: int | None = None, newline: str | None = None
) -> Path:
    """``text`` written to ``path`` whole (:func:`atomic_writer`)."""
    with atomic_writer(path, mode=mode, newline=newline) as handle:
        handle.write(text)
    return path


def write_json_atomic(data: Any, path: Path, *, indent: int = 2) -> Path:
    """``data`` as JSON (UTF-8, a newline at the end) written to ``path`` whole."""
    return write_text_atomic(json.dumps(data, indent=indent, ensure_ascii=False) + "\n", path)
