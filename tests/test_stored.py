"""Stored results carry a schema version with an upgrade path: a gradebook written by an
earlier grader reads under this one as it is, and one from a newer grader is refused in a line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from grader.gradebook import Gradebook, GradebookError
from grader.model import CheckResult, SubmissionResult
from grader.stored import (
    RESULT_SCHEMA,
    UPGRADES,
    StoredResultError,
    result_from_dict,
    result_to_dict,
)

SCHEMA_1 = Path(__file__).parent / "data" / "result-schema1.json"  # written by the grader of
# main at ecd4b87 (schema 1): bob.ipynb graded on sheet3, an override on 1a.hessian


def test_every_step_up_to_the_current_schema_has_its_upgrade() -> None:
    assert sorted(UPGRADES) == list(range(1, RESULT_SCHEMA))


def test_a_schema_1_result_reads_under_the_new_code() -> None:
    data = json.loads(SCHEMA_1.read_text(encoding="utf-8"))
    assert "schema" not in data
    result = result_from_dict(data)
    assert result.student == "bob" and result.assignment == "sheet3"
    assert [c.status for c in result.checks][:3] == ["failed", "passed", "passed"]
    hessian = result.checks[0]
    assert hessian.override is not None and hessian.override.reason == "regraded by hand"
    assert hessian.cases and hessian.cases[0].visibility in ("public", "hidden")
    assert result.score == pytest.approx(sum(c["score"] for c in data["checks"]))
    again = result_to_dict(result)
    assert again["schema"] == RESULT_SCHEMA and result_from_dict(again) == result


def test_a_schema_1_result_missing_later_keys_reads() -> None:
    """The earliest rows: no log, no title, no override, no answer, cases without plots."""
    data = {
        "student": "s1",
        "submission": "s1.py",
        "checks": [
            {
                "id": "1a",
                "status": "failed",
                "score": 0.0,
                "max_score": 2.0,
                "feedback": "wrong",
                "cases": [{"index": 0, "visibility": "public", "status": "failed", "message": "m"}],
            }
        ],
    }
    result = result_from_dict(data)
    assert result.checks[0].cases[0].plot is None and result.log.sandbox == ""
    assert result.max_score == 2.0


def _book_with_a_row(tmp_path: Path) -> Gradebook:
    book = Gradebook(tmp_path / "gradebook.sqlite")
    run = book.start_run("sheet3", "key", 1, "process")
    check = CheckResult("1a", "passed", 2.0, 2.0, "ok", "One")
    book.record(run, "key", "hash", SubmissionResult("bob", "bob.ipynb", (check,), "sheet3"))
    return book


def test_a_gradebook_holding_a_schema_1_row_reads(tmp_path: Path) -> None:
    book = _book_with_a_row(tmp_path)
    with sqlite3.connect(book.path) as db:
        db.execute("UPDATE submissions SET result = ?", (SCHEMA_1.read_text(encoding="utf-8"),))
    stored = book.result("sheet3", "bob")
    assert stored is not None and len(stored.checks) == 11
    assert [r.student for r in book.results("sheet3")] == ["bob"]
    book.close()


def test_a_result_from_a_newer_grader_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(StoredResultError, match="upgrade the grader"):
        result_from_dict({"schema": RESULT_SCHEMA + 1, "student": "x"})
    book = _book_with_a_row(tmp_path)
    newer = json.dumps({**result_to_dict(book.result("sheet3", "bob")), "schema": 99})
    with sqlite3.connect(book.path) as db:
        db.execute("UPDATE submissions SET result = ?", (newer,))
    with pytest.raises(GradebookError) as caught:
        book.result("sheet3", "bob")
    message = str(caught.value)
    assert str(book.path) in message and "bob" in message and "\n" not in message
    book.close()


def test_the_stored_text_is_what_json_makes_of_result_to_dict() -> None:
    """result_json encodes in one pass what json.dumps(result_to_dict(...)) did: the same
    text, byte for byte, for every kind of value a result holds."""
    from grader.model import CaseResult, Override, Plot, RunLog
    from grader.stored import result_json

    plot = Plot("loss", "step", "value", {"yours": [1.0, 0.5, float("nan")], "ok": []}, True)
    cases = (
        CaseResult(0, "public", "failed", "got 2, expected 1 ⚠", "half", plot),
        CaseResult(1, "hidden", "passed", "", None, None),
    )
    result = SubmissionResult(
        "ann",
        "/x/ann.ipynb",
        (
            CheckResult("1a", "failed", 0.0, 2.0, "wrong", "Hessian", cases),
            CheckResult("1b", "manual", 1.5, 3.0, "ok", "Proof", (), "$x^2$", None),
            CheckResult("1c", "passed", 1.0, 1.0, "", "", (), None, Override(0.5, "why", "T")),
        ),
        "sheet3",
        RunLog(((2, "ValueError: no"),), "printed\n", "", "bwrap"),
        None,
    )
    text = result_json(result)
    assert text == json.dumps(result_to_dict(result))
    assert result_from_dict(json.loads(text)).checks[1:] == result.checks[1:]
    with pytest.raises(TypeError):
        result_json(SubmissionResult("bob", "b.py", (), "sheet3", RunLog(output=object())))  # type: ignore[arg-type]
