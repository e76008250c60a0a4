"""``grader review DIR``: the review workbench in the browser, for grading a graded folder's
written answers by question (see grader/review/)."""

from __future__ import annotations

from pathlib import Path

from grader.defaults import REVIEW_HOST, REVIEW_PORT
from grader.load.discover import UsageError
from grader.publish import graded_assignment


def main(
    *, out: Path, host: str = REVIEW_HOST, port: int = REVIEW_PORT, course: str | None = None
) -> int:
    """Serve ``out`` to reviewers until interrupted; 0 when it stopped."""
    spec = graded_assignment(out, course)
    if not (out / "gradebook.sqlite").exists():
        raise UsageError(f"{out}: no gradebook.sqlite; run grader grade --out {out} first")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port} is not a port; give 0 (any free port) to 65535")
    from grader.review.serve import serve

    try:
        serve(out, spec, host, port)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port} ({exc.strerror}); check --host, or try another --port"
        ) from exc
    except KeyboardInterrupt:
        pass
    return 0
