"""The hostile-submission suite: students who crash, hang, flood, lie, steal and vandalise.

One batch of tests/hostile/submissions (plus a correct one) is graded by the real command, in
a separate process (so a grader that failed could not take pytest down with it), under each
sandbox layer. Each hostile submission is bounded: at most 200 sleeping processes, 8 GiB asked
for once, 320 MB written, 30 MB printed. The assignment is tests/hostile/course, three checks.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.run import landlock
from grader.run.sandbox import bwrap_problem

HERE = Path(__file__).parent / "hostile"
LANDLOCK = landlock.abi_version()
IS_ROOT = os.geteuid() == 0


@dataclass
class Batch:
    layer: str
    results: dict[str, dict]
    returncode: int
    stderr: str
    root: Path
    token: str
    files_before: dict[str, str]
    files_after: dict[str, str]
    connections: list[bytes]
    leftovers: list[str]

    def checks(self, student: str) -> dict[str, dict]:
        return {c["id"]: c for c in self.results[student]["checks"]}

    def printed(self, student: str) -> str:
        return (self.root / "out" / "reports" / f"{student}.html").read_text()


def _fingerprints(*folders: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _child_processes(root: Path) -> list[str]:
    """Command lines of this batch's children (or their forks) still alive: the batch ran with
    TMPDIR inside ``root``, so each child's command line names its scratch folder there."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(root) in command and ("child.py" in command or "bwrap" in command):
            found.append(f"{entry.name}: {command}")
    return found


def _listen() -> tuple[int, list[bytes]]:
    """A loopback server that records whatever reaches it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(120)
    received: list[bytes] = []

    def accept() -> None:
        try:
            while True:
                conn, _ = server.accept()
                received.append(conn.recv(100))
                conn.close()
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    return server.getsockname()[1], received


def _grade(layer: str, root: Path) -> Batch:
    course = root / "course"
    shutil.copytree(HERE / "course", course)
    submissions, out = root / "submissions", root / "out"
    submissions.mkdir()
    token = uuid.uuid4().hex[:12]
    port, received = _listen()
    for template in sorted((HERE / "submissions").glob("*.py")):
        text = template.read_text()
        for key, value in {
            "{COURSE}": course,
            "{OUT}": out,
            "{SUBMISSIONS}": submissions,
            "{TOKEN}": token,
            "{PORT}": port,
        }.items():
            text = text.replace(key, str(value))
        (submissions / template.name).write_text(text)
    before = _fingerprints(course, submissions)
    command = [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(submissions),
        "--out",
        str(out),
        "--assignment",
        "hostile",
        "--course",
        str(course),
        "--sandbox",
        layer,
        "--seed",
        "5",
    ]
    (root / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(root / "tmp")}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False, env=env
    )
    results = json.loads((out / "results.json").read_text()) if done.returncode == 0 else []
    return Batch(
        layer,
        {r["student"]: r for r in results},
        done.returncode,
        done.stderr,
        root,
        token,
        before,
        _fingerprints(course, submissions),
        received,
        _child_processes(root),
    )


@pytest.fixture(scope="module", params=["process", "bwrap"])
def batch(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Batch:
    layer = request.param
    if layer == "bwrap" and bwrap_problem():
        if os.environ.get("GRADER_REQUIRE_BWRAP"):
            pytest.fail(f"bwrap is required here but not usable: {bwrap_problem()}")
        pytest.skip(f"bwrap not usable: {bwrap_problem()}")
    return _grade(layer, tmp_path_factory.mktemp(f"hostile-{layer}"))


def _confined(batch: Batch) -> bool:
    """Whether this layer stops reading, writing and connecting outside the child's folder."""
    return batch.layer == "bwrap" or LANDLOCK >= 4


def test_the_batch_survives_and_grades_everyone(batch: Batch) -> None:
    assert batch.returncode == 0, batch.stderr[-3000:]
    students = {p.stem for p in (HERE / "submissions").glob("*.py")}
    assert set(batch.results) == students
    for entry in batch.results.values():
        assert [c["id"] for c in entry["checks"]] == ["add", "scale", "noise"]
        assert entry["score"] == pytest.approx(sum(c["score"] for c in entry["checks"]))


# what `add` of each hostile submission comes to; None: any status but a pass
EXPECTED_ADD = {
    "hang_import": "timeout",
    "sleep_forever": "timeout",
    "ignore_sigterm": "timeout",
    "memory_bomb": "error",
    "fork_bomb": None,
    "sys_exit": "error",
    "os_exit": "error",
    "kill_parent": None,
    "kill_group": "error",
    "monkeypatch_numpy": "failed",
    "lying_array": "failed",
    "reduce_bomb": "failed",  # not plain data: a wrong answer (issue 9, item 13)
    "fake_results": None,
    "steal": "failed",
    "network": "failed",
}


@pytest.mark.parametrize("student", sorted(EXPECTED_ADD))
def test_no_wrong_value_ever_passes(batch: Batch, student: str) -> None:
    add = batch.checks(student)["add"]
    assert add["status"] != "passed" and add["score"] == 0
    if EXPECTED_ADD[student]:
        assert add["status"] == EXPECTED_ADD[student], add["feedback"]


@pytest.mark.parametrize(
    "student",
    [
        "sleep_forever",
        "ignore_sigterm",
        "memory_bomb",
        "fork_bomb",
        "sys_exit",
        "os_exit",
        "kill_parent",
        "kill_group",
        "threads_left",
        "flood_output",
        "vandal",
    ],
)
def test_the_other_checks_of_a_hostile_submission_still_score(batch: Batch, student: str) -> None:
    checks = batch.checks(student)
    assert checks["scale"]["status"] == "passed", checks["scale"]["feedback"]
    assert checks["noise"]["status"] == "passed", checks["noise"]["feedback"]


def test_a_hang_at_import_times_out_every_check(batch: Batch) -> None:
    assert {c["status"] for c in batch.checks("hang_import").values()} == {"timeout"}


def test_the_correct_submission_scores_as_when_graded_alone(batch: Batch, tmp_path: Path) -> None:
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(batch.root / "submissions" / "good.py", alone / "good.py")
    command = [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(alone),
        "--out",
        str(tmp_path / "o"),
        "--assignment",
        "hostile",
        "--course",
        str(batch.root / "course"),
        "--sandbox",
        batch.layer,
        "--seed",
        "5",
    ]
    subprocess.run(command, capture_output=True, check=True, timeout=300)
    [single] = json.loads((tmp_path / "o" / "results.json").read_text())
    assert single["checks"] == batch.results["good"]["checks"]
    assert single["score"] == batch.results["good"]["score"] == 30.0


def test_no_process_outlives_the_batch(batch: Batch) -> None:
    assert batch.leftovers == []


def test_output_is_capped(batch: Batch) -> None:
    report = batch.printed("flood_output")
    assert len(report) < 200_000  # 30 MB were printed


def test_no_grader_file_is_changed_and_nothing_is_written_outside(batch: Batch) -> None:
    assert batch.files_after == batch.files_before  # reference, rubric, submissions untouched
    assert not list(Path("/tmp").glob(f"pwned-{batch.token}*"))  # not even /tmp, not unpickled
    out = batch.root / "out"
    produced = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    expected = {
        "results.json",
        "grading.json",
        "submissions.json",
        "gradebook.sqlite",
        "reports/summary.html",
    } | {f"reports/{s}.{ext}" for s in batch.results for ext in ("html", "md")}
    assert produced == expected
    assert batch.results["good"]["score"] == 30.0  # results.json is the grader's, not vandal's


def test_theft_finds_nothing(batch: Batch) -> None:
    printed = batch.printed("steal")
    assert "EXPECTED-KEYS []" in printed  # no expected value exists in the child to walk to
    if not _confined(batch):
        pytest.skip("the process layer without Landlock does not stop reading files (README)")
    assert "STOLEN" not in printed and "DENIED" in printed


def test_vandalism_is_refused(batch: Batch) -> None:
    printed = batch.printed("vandal")
    if not _confined(batch):
        pytest.skip("the process layer without Landlock relies on file permissions alone")
    assert "WROTE" not in printed


def test_the_network_is_unreachable(batch: Batch) -> None:
    if not _confined(batch):
        pytest.skip("the process layer without Landlock ABI 4 leaves the network open (README)")
    assert batch.connections == []
    assert "NO-NETWORK" in batch.printed("network")
