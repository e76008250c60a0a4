"""One way to write a file whole (grader/atomic.py): a reader sees the old file or the new one,
never half, and a failed write leaves nothing behind."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from grader.atomic import atomic_writer, write_json_atomic, write_text_atomic

GRADER = Path(__file__).resolve().parents[1] / "grader"


def test_a_write_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "results.json"
    write_json_atomic({"a": "ä"}, target)
    assert json.loads(target.read_text(encoding="utf-8")) == {"a": "ä"}
    assert target.read_text(encoding="utf-8").endswith("}\n")
    write_text_atomic("second\n", target)
    assert target.read_text(encoding="utf-8") == "second\n"
    assert [p.name for p in target.parent.iterdir()] == ["results.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write("half of the new")
        raise RuntimeError("the batch stopped here")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
    with pytest.raises(TypeError):
        write_json_atomic({"not json": object()}, target)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_mode_and_newline(tmp_path: Path) -> None:
    handout = write_text_atomic("a\r\nb\n", tmp_path / "x.csv", mode=0o644, newline="")
    assert stat.S_IMODE(handout.stat().st_mode) == 0o644
    assert handout.read_bytes() == b"a\r\nb\n"


def test_no_other_module_writes_through_its_own_temporary_file() -> None:
    writers = sorted(
        str(p.relative_to(GRADER))
        for p in GRADER.rglob("*.py")
        if "os.replace(" in p.read_text(encoding="utf-8")
    )
    assert writers == ["atomic.py"]
