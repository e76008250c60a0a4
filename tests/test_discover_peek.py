"""Discovery's two reads in a batch: ``peek`` hashes the bytes (to decide what to grade) and
``materialize`` parses the code (to grade it). Both give the same content hash, the one the
gradebook stores, so a rerun (after an upgrade too) regrades only what changed."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, write_module, write_notebook

import grader.load.discover as discover_module
from grader.cli import main
from grader.gradebook import Gradebook
from grader.load.discover import discover, peek

HESSIAN = """
import numpy as np

def hessian(X):
    return X.T @ X / X.shape[0]
"""
UNCOMPILABLE = "x = " + " + ".join(["1"] * 100_000)  # too deep for the compiler


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def class_folder(root: Path) -> tuple[Path, dict[str, str]]:
    """A folder of every kind of entry, and the sha256 of the code file each student holds."""
    folder = root / "class"
    folder.mkdir()
    notebook = write_notebook(folder, [HESSIAN], name="alice.ipynb")
    module = write_module(folder, HESSIAN, name="bob.py")
    (folder / "carol").mkdir()
    in_folder = write_notebook(folder / "carol", [HESSIAN], name="work.ipynb")
    zipped = write_notebook(root, [HESSIAN, "y = 2"], name="dave.ipynb")
    with zipfile.ZipFile(folder / "dave.zip", "w") as archive:
        archive.write(zipped, "sheet3/dave.ipynb")
    broken = folder / "erin.ipynb"
    broken.write_text("{ not json")
    deep = write_notebook(folder, [UNCOMPILABLE], name="frank.ipynb")
    hashes = {
        "alice": sha256(notebook),
        "bob": sha256(module),
        "carol": sha256(in_folder),
        "dave": sha256(zipped),
        "erin": sha256(broken),
        "frank": sha256(deep),
    }
    return folder, hashes


def test_peek_hashes_the_bytes_and_materialize_gives_the_same_hash(tmp_path: Path) -> None:
    folder, hashes = class_folder(tmp_path)
    shells = list(discover([folder], lazy=True))
    peeked = {s.student: peek(s) for s in shells}
    read = {s.student: s.materialize() for s in shells}
    assert {name: s.content_hash for name, s in peeked.items()} == hashes
    assert {name: s.content_hash for name, s in read.items()} == hashes
    assert all(s.cells == () and s.loader is None for s in peeked.values())
    assert all(read[name].cells for name in ("alice", "bob", "carol", "dave"))
    assert read["dave"].kind == peeked["dave"].kind == "notebook"
    assert read["bob"].kind == peeked["bob"].kind == "module"
    # what only parsing finds is found when the code is read for grading, with the same hash
    assert peeked["erin"].problem is None and "erin.ipynb" in (read["erin"].problem or "")
    assert peeked["frank"].problem is None and "nested too deeply" in (read["frank"].problem or "")


def test_peek_never_parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, hashes = class_folder(tmp_path)
    shells = list(discover([folder], lazy=True))

    def no_parsing(*args: object) -> None:
        raise AssertionError("peek parsed a notebook")

    monkeypatch.setattr(discover_module, "read_notebook", no_parsing)
    monkeypatch.setattr(discover_module, "read_module", no_parsing)
    assert {s.student: peek(s).content_hash for s in shells} == hashes


def test_peek_keeps_a_read_problem_and_the_lms_metadata(tmp_path: Path) -> None:
    download = tmp_path / "canvas.zip"
    notebook = write_notebook(tmp_path, [HESSIAN], name="nb.ipynb")
    with zipfile.ZipFile(download, "w") as archive:
        archive.write(notebook, "lovelace_late_101_9001_sheet3.ipynb")
        archive.writestr("babbage_102_9002_sheet3.ipynb", b"x" * 10)
        archive.writestr("hopper_103_9003_sheet3.txt", b"not code")
    shells = {s.student: s for s in discover([download], lazy=True)}
    peeked = {name: peek(s) for name, s in shells.items()}
    assert peeked["101"].late and peeked["101"].scheme == "canvas"
    assert peeked["101"].content_hash == sha256(notebook)
    assert peeked["103"].problem and "not a submission" in peeked["103"].problem
    assert peeked["103"].problem == shells["103"].materialize().problem
    assert "102" in peeked and peeked["102"].problem is None  # damaged: found when parsed


def test_the_stored_hash_is_the_sha256_of_the_files_bytes(tmp_path: Path) -> None:
    """The definition every version stored: a gradebook of an older grader still matches."""
    folder = tmp_path / "class"
    folder.mkdir()
    paths = [write_module(folder, HESSIAN, name=f"{name}.py") for name in ("ada", "bea")]
    (folder / "bea.py").write_text(HESSIAN + "\n# mine\n")
    out = tmp_path / "out"
    assert (
        main(["grade", str(folder), "--out", str(out), "--seed", "1", "--course", str(ROOT)]) == 0
    )
    book = Gradebook(out / "gradebook.sqlite")
    stored = {student: s.content_hash for student, s in book.stored("sheet3").items()}
    book.close()
    assert stored == {p.stem: sha256(p) for p in paths}


def test_a_notebook_that_cannot_be_parsed_is_recorded_as_unreadable(tmp_path: Path) -> None:
    """Found only when its code is read for grading, the problem still reaches the sidecar
    (what exports read), on the first run and on a rerun that grades nothing."""
    folder = tmp_path / "class"
    folder.mkdir()
    write_module(folder, HESSIAN, name="ada.py")
    (folder / "bea.ipynb").write_text("{ not json")
    out = tmp_path / "out"
    argv = ["grade", str(folder), "--out", str(out), "--seed", "1", "--course", str(ROOT)]
    for _ in range(2):
        assert main(argv) == 0
        side = json.loads((out / "submissions.json").read_text())
        problems = {s["student"]: s["problem"] for s in side["submissions"]}
        assert problems["ada"] is None
        assert "bea.ipynb" in problems["bea"] and "not a readable" in problems["bea"]
