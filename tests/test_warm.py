"""The workers' warm process: started only for a batch that will use it, and the command's
end without the interpreter's tear-down, complete all the same."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from grader.warm import at_most
from tests.conftest import ROOT

PROBE = """
import json, sys, threading
from multiprocessing import forkserver
from grader.cli import main
if sys.argv.pop(1) == "thread":  # a thread runs (as in a program that embeds the grader)
    threading.Thread(target=threading.Event().wait, daemon=True).start()
code = main(sys.argv[1:])
print(json.dumps([code, forkserver._forkserver._forkserver_pid is not None]))
"""


def _grade_in_a_fresh_process(folder: Path, out: Path, mode: str = "alone") -> tuple[int, bool]:
    """(exit code, whether a forkserver was started) of `grader grade folder`."""
    argv = ["grade", str(folder), "--out", str(out), "--seed", "3", "--sandbox", "process"]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode, *argv], capture_output=True, text=True, cwd=ROOT
    )
    code, started = json.loads(done.stdout.splitlines()[-1])
    return code, started


def test_at_most_counts_a_folders_entries_and_gives_up_on_a_zip(tmp_path: Path) -> None:
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "a.ipynb").write_text("{}")
    (tmp_path / "class" / "b.py").write_text("")
    (tmp_path / "class" / "c").mkdir()
    (tmp_path / "one.py").write_text("")
    with zipfile.ZipFile(tmp_path / "bulk.zip", "w") as bulk:
        bulk.writestr("x.py", "")
    assert at_most([tmp_path / "class"]) == 3
    assert at_most([tmp_path / "class", tmp_path / "one.py"]) == 4
    assert at_most([tmp_path / "class", tmp_path / "bulk.zip"]) is None
    assert at_most([tmp_path / "missing"]) == 1  # not a folder: the command says it is missing


def test_the_warm_process_starts_only_for_workers_this_process_cannot_fork(
    tmp_path: Path,
) -> None:
    """A small batch is graded in this process; a large one's workers are forked from it on
    Linux, and from the warm process when another thread runs (or on other platforms)."""
    small, large = tmp_path / "small", tmp_path / "large"
    small.mkdir()
    large.mkdir()
    examples = sorted((ROOT / "submissions").glob("*.ipynb"))
    for example in examples:
        shutil.copy(example, small / example.name)
        for n in range(2):
            shutil.copy(example, large / f"{example.stem}{n}.ipynb")
    assert _grade_in_a_fresh_process(small, tmp_path / "out-small") == (0, False)
    forks_here = sys.platform == "linux"
    assert _grade_in_a_fresh_process(large, tmp_path / "out-large") == (0, not forks_here)
    assert _grade_in_a_fresh_process(large, tmp_path / "out-thread", "thread") == (0, True)
    results = [
        json.loads((tmp_path / out / "results.json").read_text())
        for out in ("out-large", "out-thread")
    ]
    assert results[0] == results[1]  # the same verdicts, however the workers came


def test_the_command_ends_with_its_code_its_output_and_its_exit_handlers(
    tmp_path: Path,
) -> None:
    """As the program (no argv given), the process ends without the interpreter's tear-down:
    the exit code is the command's, the output is flushed, the exit handlers ran."""
    probe = (
        "import atexit, sys; atexit.register(print, 'exit handler ran'); "
        "from grader.cli import main; sys.argv[1:] = sys.argv[2:]; print('before'); main()"
    )
    missing = tmp_path / "no-such-folder"
    done = subprocess.run(
        [sys.executable, "-c", probe, "grader", "export", str(missing), "--format", "csv"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout.splitlines() == ["before", "exit handler ran"]
    assert done.stderr.startswith("grader: error:")
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            str(ROOT / "submissions"),
            "--out",
            str(out),
            "--seed",
            "3",
            "--sandbox",
            "process",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "Wrote" in done.stderr  # the last line of the command, flushed
    assert len(json.loads((out / "results.json").read_text())) == 6


def test_a_course_mistake_stops_a_large_batch_on_one_line_with_no_worker_left(
    tmp_path: Path,
) -> None:
    """A case generator that fails ends a batch meant for workers with its one-line error (no
    traceback, also none from a worker should the workers ever start before the check), and
    no batch scratch is left behind."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "rubrics", course / "rubrics")
    (course / "reference").mkdir()
    reference = (ROOT / "reference" / "sheet3.py").read_text()
    broken = "\n\ndef data_cases(rng):\n    raise ValueError('a broken generator')\n"
    (course / "reference" / "sheet3.py").write_text(reference + broken)
    large = tmp_path / "large"
    large.mkdir()
    for n, example in enumerate(sorted((ROOT / "submissions").glob("*.ipynb")) * 2):
        shutil.copy(example, large / f"{example.stem}{n}.ipynb")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    argv = ["grade", str(large), "--out", str(tmp_path / "out"), "--seed", "3"]
    done = subprocess.run(
        [sys.executable, "-m", "grader", *argv, "--sandbox", "process", "--course", str(course)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    assert done.returncode != 0
    assert "a broken generator" in done.stderr and "Traceback" not in done.stderr
    assert "starting a worker" not in done.stderr
    assert not list(scratch.glob("grader-batch-*"))
