"""The hostile suite, parent side (issue 9): submissions that attack the grader's own process.

A batch of tests/hostile/submissions/p_*.py, the correct good.py, notebooks the grader cannot
compile, and files named with rich markup and ANSI escapes, is graded by the real command in a
separate process under each sandbox layer, with two workers. While it runs, a stand-in for the
OOM killer SIGKILLs the worker grading p_worker_victim, each time. A Canvas bulk zip holding a
correct notebook, one that cannot be compiled and an oversized one is graded the same way.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from test_hostile import HERE, _child_processes

from grader.report.render import safe_filename
from grader.run.sandbox import bwrap_problem

MARKUP_NAME = "p_[bold]markup"  # a file name cannot hold the "[/]" of a closing tag
ANSI_NAME = "p_\x1b[31mansi"
DEEP_SUM = "x = " + " + ".join(["1"] * 100_000)
UNARY_CHAIN = "x = " + "-" * 100_000 + "1"


@dataclass
class Batch:
    layer: str
    root: Path
    returncode: int
    stderr: str
    results: dict[str, dict]
    kills: int
    peak_rss_mb: float
    seconds: float
    leftovers: list[str]

    def checks(self, student: str) -> dict[str, dict]:
        return {c["id"]: c for c in self.results[student]["checks"]}

    def report(self, student: str, suffix: str = ".md") -> str:
        name = safe_filename(student)
        return (self.root / "out" / "reports" / f"{name}{suffix}").read_text()


def _notebook(path: Path, source: str) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(notebook, path)


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/status").read_text().split("PPid:")[1].split()[0])


def _is_worker(pid: int, grader: int) -> bool:
    """A grader worker: forked from the grader (a child with its command line), spawned by
    multiprocessing, or forked from its forkserver (whose command line it keeps; the
    forkserver itself, a child of the grader, is not one)."""
    command = Path(f"/proc/{pid}/cmdline").read_bytes()
    parent = _parent(pid)
    if parent == grader:
        return command == Path(f"/proc/{grader}/cmdline").read_bytes()
    if b"spawn_main" in command:
        return True
    forked = b"multiprocessing.forkserver"
    return forked in command and forked in Path(f"/proc/{parent}/cmdline").read_bytes()


def _oom_killer(stop: threading.Event, kills: list[int], grader: list[int]) -> None:
    """SIGKILL the grader's worker process (as the OOM killer would) whenever a child of it
    runs p_worker_victim's `add`, which names its process p-oom-victim. Only this batch's
    (the grader process in ``grader``, once started): other test runs on the machine may be
    grading the same victim at the same time."""
    while not stop.is_set():
        for entry in Path("/proc").iterdir():
            try:
                if not grader or (entry / "comm").read_text().strip() != "p-oom-victim":
                    continue
                pid, worker = int(entry.name), None
                while pid > 1 and pid != grader[0]:
                    if worker is None and _is_worker(pid, grader[0]):
                        worker = pid
                    pid = _parent(pid)
                if worker is not None and pid == grader[0]:
                    os.kill(worker, signal.SIGKILL)
                    kills.append(worker)
            except (OSError, ValueError, IndexError):
                continue
        stop.wait(0.05)


def _run(
    layer: str, root: Path, source: Path, name: str, workers: int = 2, pid: list[int] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(source),
        "--out",
        str(root / name),
        "--assignment",
        "hostile",
        "--course",
        str(root / "course"),
        "--sandbox",
        layer,
        "--seed",
        "5",
        "--workers",
        str(workers),
    ]
    env = {**os.environ, "TMPDIR": str(root / "tmp"), "COLUMNS": "200"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as process:
        if pid is not None:
            pid.append(process.pid)
        try:
            stdout, stderr = process.communicate(timeout=900)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _grade(layer: str, root: Path) -> Batch:
    shutil.copytree(HERE / "course", root / "course")
    submissions = root / "submissions"
    submissions.mkdir()
    (root / "tmp").mkdir()
    for path in [HERE / "submissions" / "good.py", *(HERE / "submissions").glob("p_*.py")]:
        shutil.copy(path, submissions / path.name)
    for name in (MARKUP_NAME, ANSI_NAME):
        shutil.copy(HERE / "submissions" / "good.py", submissions / f"{name}.py")
    _notebook(submissions / "p_deep_sum.ipynb", DEEP_SUM)
    _notebook(submissions / "p_unary_chain.ipynb", UNARY_CHAIN)
    markup_cell = nbformat.v4.new_notebook()
    markup_cell.cells = [{"cell_type": "[/]", "source": "", "metadata": {}}]
    (submissions / "p_markup_cell.ipynb").write_text(json.dumps(markup_cell))
    stop, kills, grader = threading.Event(), [], []
    killer = threading.Thread(target=_oom_killer, args=(stop, kills, grader), daemon=True)
    killer.start()
    started = time.monotonic()
    done = _run(layer, root, submissions, "out", pid=grader)
    seconds = time.monotonic() - started
    stop.set()
    killer.join()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out = root / "out" / "results.json"
    results = json.loads(out.read_text()) if out.exists() else []
    return Batch(
        layer,
        root,
        done.returncode,
        done.stderr,
        {r["student"]: r for r in results},
        len(kills),
        peak,
        seconds,
        _child_processes(root),
    )


@pytest.fixture(scope="module", params=["process", "bwrap"])
def batch(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Batch:
    layer = request.param
    if layer == "bwrap" and bwrap_problem():
        if os.environ.get("GRADER_REQUIRE_BWRAP"):
            pytest.fail(f"bwrap is required here but not usable: {bwrap_problem()}")
        pytest.skip(f"bwrap not usable: {bwrap_problem()}")
    found = _grade(layer, tmp_path_factory.mktemp(f"hostile-parent-{layer}"))
    print(
        f"\n[{layer}] {len(found.results)} submissions in {found.seconds:.1f} s, "
        f"peak RSS of a grader process {found.peak_rss_mb:.0f} MB, {found.kills} worker kill(s)"
    )
    return found


def _alone(batch: Batch, student: str, tmp_path: Path) -> dict:
    """The submission graded alone, by itself, in the same layer."""
    folder = tmp_path / f"alone-{student}"
    folder.mkdir()
    shutil.copy(batch.root / "submissions" / f"{student}.py", folder)
    done = _run(batch.layer, batch.root, folder, f"alone-{student}", workers=1)
    assert done.returncode == 0, done.stderr[-2000:]
    [single] = json.loads((batch.root / f"alone-{student}" / "results.json").read_text())
    return single


def test_the_batch_survives_and_leaves_nothing(batch: Batch) -> None:
    assert batch.returncode == 0, batch.stderr[-3000:]
    expected = {p.stem for p in (batch.root / "submissions").iterdir()}
    assert set(batch.results) == expected
    assert batch.leftovers == []
    assert list((batch.root / "tmp").iterdir()) == []  # no scratch left, a killed worker's too


def test_1_code_the_grader_cannot_compile_is_that_submissions_error(batch: Batch) -> None:
    for student in ("p_deep_sum", "p_unary_chain"):
        checks = batch.checks(student)
        assert {c["status"] for c in checks.values()} == {"error"}
        assert all("nested too deeply" in c["feedback"] for c in checks.values())
    assert batch.results["good"]["score"] == 30.0


def test_2_forged_result_messages_cost_only_their_sender(batch: Batch) -> None:
    frames = batch.checks("p_forged_frames")
    assert frames["add"]["status"] == "error" and frames["add"]["score"] == 0
    assert "referred to twice" in frames["add"]["feedback"]
    assert frames["scale"]["status"] == frames["noise"]["status"] == "passed"
    for student, why in (
        ("p_forged_cell_errors", "more cell errors than the submission has cells"),
        ("p_endless_line", "broke the grader's result protocol: a result line longer than"),
        ("p_garbage_lines", "sent more result messages than it was asked for"),
    ):
        checks = batch.checks(student)
        assert {c["status"] for c in checks.values()} == {"error"}, student
        assert all(why in c["feedback"] for c in checks.values()), student
    assert len(batch.report("p_forged_cell_errors")) < 50_000
    # 80 references to one 8 MB frame, three times, were 1.9 GB decoded: now one frame at most
    assert batch.peak_rss_mb < 700


def test_3_a_worker_killed_mid_batch_costs_only_what_it_was_grading(
    batch: Batch, tmp_path: Path
) -> None:
    assert batch.kills == 2  # in flight with others, then alone
    checks = batch.checks("p_worker_victim")
    assert {c["status"] for c in checks.values()} == {"error"}
    assert all("worker process died twice" in c["feedback"] for c in checks.values())
    assert "worker process died twice" in batch.stderr
    # everyone in flight with it when it was first killed was graded again, as alone
    assert batch.checks("good") == {c["id"]: c for c in _alone(batch, "good", tmp_path)["checks"]}
    assert batch.checks("p_longdouble") == {
        c["id"]: c for c in _alone(batch, "p_longdouble", tmp_path)["checks"]
    }


def test_4_student_text_is_escaped_for_each_sink(batch: Batch) -> None:
    assert "\x1b" not in batch.stderr  # the ANSI file name reached the terminal escaped
    assert "\\x1b[31mansi" in batch.stderr
    assert MARKUP_NAME in batch.stderr  # printed as it is, not read as markup
    assert {c["status"] for c in batch.checks("p_markup_cell").values()} == {"error"}
    assert "[/]" in batch.stderr  # its problem names the cell type "[/]": printed, not parsed
    assert batch.results[MARKUP_NAME]["score"] == batch.results[ANSI_NAME]["score"] == 30.0
    md = batch.report("p_html_error")
    assert "<img" not in md and "&lt;img" in md and "\\[link=https://evil\\]" in md
    assert md.startswith("# Hostile-submission suite: feedback for `p_html_error`")
    html = batch.report("p_html_error", ".html")
    assert "<img" not in html and "&lt;img" in html
    title = batch.report(MARKUP_NAME).splitlines()[0]
    assert title.endswith(f"`{MARKUP_NAME}`")


def test_13_numpy_scalars_are_numbers_and_a_lying_float_is_a_wrong_answer(batch: Batch) -> None:
    assert {c["status"] for c in batch.checks("p_longdouble").values()} == {"passed"}
    add = batch.checks("p_lying_float")["add"]
    assert add["status"] == "failed" and add["score"] == 0
    assert "a value of type Liar, not a number" in add["feedback"]


def test_16_no_report_shows_the_instructors_paths(batch: Batch) -> None:
    reports = list((batch.root / "out" / "reports").glob("p_*"))
    assert len(reports) > 10
    for path in reports:
        assert str(batch.root) not in path.read_text(), path.name
    assert "p_deep_sum.ipynb: its code is nested too deeply" in batch.report("p_deep_sum", ".html")


# --- a Canvas bulk download ----------------------------------------------------------------


def _canvas_zip(path: Path) -> None:
    """Canvas names: sortablename_userid_attachmentid_original (grader/load/lms.py)."""
    good = nbformat.v4.new_notebook()
    good.cells = [nbformat.v4.new_code_cell((HERE / "submissions" / "good.py").read_text())]
    deep = nbformat.v4.new_notebook()
    deep.cells = [nbformat.v4.new_code_cell(DEEP_SUM)]
    huge = nbformat.v4.new_notebook()
    huge.cells = [nbformat.v4.new_code_cell("# " + "x" * (21 * 1024**2))]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("lovelaceada_101_9001_sheet.ipynb", nbformat.writes(good))
        archive.writestr("turingalan_102_9002_sheet.ipynb", nbformat.writes(deep))
        archive.writestr("hoppergrace_103_9003_sheet.ipynb", nbformat.writes(huge))


@pytest.mark.parametrize("layer", ["process", "bwrap"])
def test_12_a_bulk_zip_with_an_oversized_member_and_uncompilable_code(
    layer: str, tmp_path: Path
) -> None:
    if layer == "bwrap" and bwrap_problem():
        if os.environ.get("GRADER_REQUIRE_BWRAP"):
            pytest.fail(f"bwrap is required here but not usable: {bwrap_problem()}")
        pytest.skip(f"bwrap not usable: {bwrap_problem()}")
    shutil.copytree(HERE / "course", tmp_path / "course")
    (tmp_path / "tmp").mkdir()
    _canvas_zip(tmp_path / "bulk.zip")
    done = _run(layer, tmp_path, tmp_path / "bulk.zip", "out", workers=1)
    assert done.returncode == 0, done.stderr[-3000:]
    results = {r["student"]: r for r in json.loads((tmp_path / "out/results.json").read_text())}
    assert set(results) == {"101", "102", "103"}
    assert results["101"]["score"] == 30.0
    deep = {c["status"] for c in results["102"]["checks"]} | {
        results["102"]["checks"][0]["feedback"]
    }
    assert "error" in deep and any("nested too deeply" in d for d in deep)
    huge = results["103"]["checks"][0]
    assert huge["status"] == "error" and "more than the 20 MB" in huge["feedback"]


def test_12_a_bulk_zip_is_read_lazily(tmp_path: Path) -> None:
    """Discovery names the students and reads no member; each is read when materialized."""
    from grader.load.discover import discover

    _canvas_zip(tmp_path / "bulk.zip")
    shells = list(discover([tmp_path / "bulk.zip"], lazy=True))
    assert [s.student for s in shells] == ["101", "102", "103"]
    assert all(s.cells == () and s.loader is not None and not s.problem for s in shells)
    good, deep, huge = (s.materialize() for s in shells)
    assert good.cells and not good.problem and good.display_name == "lovelaceada"
    assert "nested too deeply" in deep.problem
    assert "hoppergrace_103_9003_sheet.ipynb unpacks to 21 MB, more than the 20 MB" in huge.problem
