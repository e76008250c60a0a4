"""The sandbox's second round of hostile submissions (issue 9, items 5-11 and 15).

The ``s_*`` submissions of tests/hostile/submissions, a correct one before them (``good``) and
one after them (``s_zz_after``), and two symbolic links out of their folders are graded by the
real command in one worker (so that every job after a hostile one runs in the same warm fork
server), under each sandbox layer. Each hostile submission is bounded: 200,000 files, 2.3 GB
held, 480 MB written, a few IPC objects of 64 MB. After the batch no process of the sandbox's
user, no IPC object, no scratch folder, mount or memory cgroup may be left.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.grading import grade_submission, grading_plan
from grader.load.discover import read_submission
from grader.run import cgroup, ipc, sandbox, scratch
from grader.run.launch import ForkServer
from grader.run.sandbox import SANDBOX_UIDS, Sandbox, bwrap_problem, choose_sandbox

HERE = Path(__file__).parent / "hostile"
ROOT = Path(__file__).resolve().parents[1]
IS_ROOT = os.geteuid() == 0
MEMORY_MB = 1024  # tests/hostile/course/rubrics: limits.memory_mb
REFERENCE_TEXT = "def noise_distribution"  # in tests/hostile/course/reference/hostile.py


@dataclass
class Batch:
    layer: str
    results: dict[str, dict]
    returncode: int
    stderr: str
    root: Path
    token: str
    grader_pid: int
    uids: set[int]
    unix_received: list[bytes]

    def checks(self, student: str) -> dict[str, dict]:
        return {c["id"]: c for c in self.results[student]["checks"]}

    def printed(self, student: str) -> str:
        return (self.root / "out" / "reports" / f"{student}.md").read_text()


def _unix_listener(path: Path) -> list[bytes]:
    """A pathname UNIX socket that records whatever reaches it (a host daemon's socket)."""
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    os.chmod(path, 0o777)  # reachable by any user, as a daemon's socket often is
    server.listen()
    server.settimeout(600)
    received: list[bytes] = []

    def accept() -> None:
        try:
            while True:
                conn, _ = server.accept()
                received.append(conn.recv(100) or b"(connected)")
                conn.close()
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    return received


def _grade(layer: str, root: Path) -> Batch:
    course, submissions, out = root / "course", root / "submissions", root / "out"
    shutil.copytree(HERE / "course", course)
    submissions.mkdir()
    token = uuid.uuid4().hex[:12]
    received = _unix_listener(root / "host.sock")
    for template in [HERE / "submissions" / "good.py", *sorted(HERE.glob("submissions/s_*.py"))]:
        text = template.read_text()
        for key, value in {"{TOKEN}": token, "{UNIX_SOCKET}": root / "host.sock"}.items():
            text = text.replace(key, str(value))
        (submissions / template.name).write_text(text)
    shutil.copy(submissions / "good.py", submissions / "s_zz_after.py")
    master = course / "reference" / "hostile.py"  # the instructor's answers: full marks
    (submissions / "s_link").mkdir()
    (submissions / "s_link" / "answer.py").symlink_to(master)
    (submissions / "s_toplink.py").symlink_to(master)
    (root / "tmp").mkdir()
    command = [
        *(sys.executable, "-m", "grader", "grade", str(submissions), "--out", str(out)),
        *("--assignment", "hostile", "--course", str(course), "--sandbox", layer),
        *("--seed", "5", "--workers", "1"),
    ]
    env = {**os.environ, "TMPDIR": str(root / "tmp"), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    _, stderr = process.communicate(timeout=900)
    results = []
    if process.returncode == 0:
        results = json.loads((out / "results.json").read_text())
    uids = {
        int(uid)
        for report in (out / "reports").glob("*.md")
        for uid in re.findall(r"as uid (\d+)", report.read_text())
    }
    return Batch(
        layer,
        {r["student"]: r for r in results},
        process.returncode,
        stderr,
        root,
        token,
        process.pid,
        uids,
        received,
    )


@pytest.fixture(scope="module", params=["process", "bwrap"])
def batch(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Batch:
    layer = request.param
    if layer == "bwrap" and bwrap_problem():
        if os.environ.get("GRADER_REQUIRE_BWRAP"):
            pytest.fail(f"bwrap is required here but not usable: {bwrap_problem()}")
        pytest.skip(f"bwrap not usable: {bwrap_problem()}")
    return _grade(layer, tmp_path_factory.mktemp(f"sandbox-{layer}"))


def _printed_number(batch: Batch, student: str, label: str) -> int:
    found = re.findall(rf"{label} (\d+)", batch.printed(student))
    assert found, f"{student} printed no {label}:\n{batch.printed(student)[-2000:]}"
    return max(map(int, found))


def _alive_as(uids: set[int]) -> list[str]:
    """Processes of these users that are not zombies; a killed process may take a moment to
    go (its memory freed), so this looks again for up to 3 s."""
    deadline = time.monotonic() + 3
    while True:
        found = []
        for pid in (p for uid in uids for p in sandbox._processes_of(uid)):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            if "\nState:\tZ" not in status:
                found.append(status.splitlines()[0] + f" pid {pid}")
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _mounted_under(path: Path) -> list[str]:
    with open("/proc/self/mountinfo") as handle:
        return [line for line in handle if str(path) in line]


def test_the_batch_survives_and_nothing_is_left(batch: Batch) -> None:
    """The hostile standard: exit 0, every submission graded, the one after all the hostile
    ones scores as the correct one before them, and no process of the sandbox's user, no
    scratch folder, mount or memory cgroup outlives the batch."""
    assert batch.returncode == 0, batch.stderr[-3000:]
    students = {p.stem for p in HERE.glob("submissions/s_*.py")} | {
        "good",
        "s_zz_after",
        "s_link",
        "s_toplink",
    }
    assert set(batch.results) == students
    good, after = batch.checks("good"), batch.checks("s_zz_after")
    assert {k: (c["status"], c["score"]) for k, c in after.items()} == {
        k: (c["status"], c["score"]) for k, c in good.items()
    }
    assert batch.results["s_zz_after"]["score"] == batch.results["good"]["score"] == 30.0
    if IS_ROOT:
        assert batch.uids, "the reports name no sandbox uid"
        assert _alive_as(batch.uids) == []
    assert list((batch.root / "tmp").iterdir()) == []  # every worker's scratch is gone
    assert _mounted_under(batch.root) == []
    groups = [base for _, base in cgroup._candidates() if base.exists()]
    assert not [g for base in groups for g in base.glob(f"grader-{batch.grader_pid}-*")]


def test_5_each_job_gets_a_fresh_bounded_scratch_area(batch: Batch) -> None:
    """s_inodes fills its folder's inodes inside mode-000 folders; the inode bound stops it,
    and the next jobs of the same worker still start and score (s_zz_after, above)."""
    made = _printed_number(batch, "s_inodes", "INODES-MADE")
    if IS_ROOT:
        assert made < scratch.JOB_INODES
        assert "INODES-FULL" in batch.printed("s_inodes")
    assert batch.results["s_inodes"]["score"] == 30.0  # its answers are right: no crash
    for student in ("s_disk", "s_ipc", "s_unix_socket", "s_zz_after"):  # all graded after it
        assert batch.checks(student)["scale"]["status"] == "passed", student


@pytest.mark.parametrize("layer", ["process", "bwrap"])
def test_5_a_job_the_grader_cannot_start_is_an_internal_error(layer: str, tmp_path: Path) -> None:
    """The grader's own state (its scratch holder full, its fork server broken) makes an
    `internal:` problem, which `grader grade` does not store (grader/commands/grade.py), so
    that the next run grades the submission again; never a zero as if graded."""
    if layer == "bwrap" and bwrap_problem():
        pytest.skip(bwrap_problem())
    spec = load_assignment("hostile", HERE / "course")
    plan = grading_plan(spec, 5)
    good = read_submission(HERE / "submissions" / "good.py")
    server = ForkServer(choose_sandbox(layer))
    try:
        assert grade_submission(good, plan, launcher=server).score == 30.0
        server.settle()  # the last job's folder is gone (its end overlaps what comes next)
        filler = []
        if server.areas.mounted:  # the holder of the job folders is full: no job can start
            try:
                for i in range(100_000):
                    (server.areas.root / f"filler-{i}").mkdir()
                    filler.append(server.areas.root / f"filler-{i}")
            except OSError:
                pass
            result = grade_submission(good, plan, launcher=server)
            assert result.problem.startswith("internal:"), result.problem
            assert "scratch" in result.problem
            assert all(c.status == "error" for c in result.checks)
            for path in filler:
                path.rmdir()
        server._kill()  # the fork server's code is broken: it dies before any job starts
        (server.code_dir / "child.py").write_text("raise SystemExit(3)\n")
        result = grade_submission(good, plan, launcher=server)
        assert result.problem.startswith("internal:"), result.problem
        assert "never started" in result.problem
        shutil.copy(ROOT / "grader" / "run" / "child.py", server.code_dir / "child.py")
        assert grade_submission(good, plan, launcher=server).score == 30.0  # it recovers
    finally:
        server.close()
    assert not server.scratch.exists()


def test_5_what_a_killed_worker_left_is_removed_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed without closing (a Dask worker at shutdown) leaves its scratch folder,
    its mounts and its memory cgroup; the next worker in the same temporary folder removes
    them."""
    script = (
        "import os, sys, tempfile\n"
        "tempfile.tempdir = sys.argv[1]\n"
        "from grader.run.launch import ForkServer\n"
        "from grader.run.sandbox import choose_sandbox\n"
        "server = ForkServer(choose_sandbox('process'))\n"
        "print(server.scratch, server.memory.path if server.memory else '', flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], env=env, capture_output=True, text=True
    )
    assert done.returncode == -9, done.stderr
    old_scratch, old_group = done.stdout.split(" ")
    assert Path(old_scratch).exists()
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    server = ForkServer(choose_sandbox("process"))
    try:
        assert not Path(old_scratch).exists()
        assert not [line for line in _mounted_under(tmp_path) if old_scratch in line]
        if old_group.strip():
            assert not Path(old_group.strip()).exists()
    finally:
        server.close()
    assert list(tmp_path.iterdir()) == [] and _mounted_under(tmp_path) == []


def test_6_no_ipc_object_outlives_the_batch(batch: Batch) -> None:
    """s_ipc made 64 MB shared memory segments, a message queue and a semaphore set, named by
    a key of its own and private; none is left (bwrap: the child's IPC namespace; process: its
    own namespace as root, and the sweep of its user's objects)."""
    made = re.findall(r"IPC-MADE (.*)", batch.printed("s_ipc"))
    assert made and "(-1" not in made[0] and ", -1" not in made[0], made  # it did make them
    key = int(batch.token[:7], 16)
    left = [o for o in ipc.objects() if o.key in (key, key + 1, key + 2) or o.uid in batch.uids]
    assert left == []
    assert _seen(batch.printed("s_ipc_peek")) == []  # graded after it, by the same worker


def _seen(output: str) -> list[str]:
    """What s_ipc_peek printed it found of s_ipc's objects."""
    found = re.findall(r"IPC-SEEN (.*)", output)
    assert found, output[-2000:]
    return list(json.loads(found[-1]))


@pytest.mark.parametrize("layer", ["process", "bwrap"])
def test_6_no_ipc_object_reaches_the_next_submission(layer: str, tmp_path: Path) -> None:
    """s_ipc leaves SysV shared memory, a queue and semaphores (and tries POSIX ones); the
    next submission the same worker grades (s_ipc_peek) finds none of them, by key, by
    listing every slot of its IPC namespace, or by name."""
    if layer == "bwrap" and bwrap_problem():
        if os.environ.get("GRADER_REQUIRE_BWRAP"):
            pytest.fail(f"bwrap is required here but not usable: {bwrap_problem()}")
        pytest.skip(bwrap_problem())
    token = uuid.uuid4().hex[:12]
    plan = grading_plan(load_assignment("hostile", HERE / "course"), 5)
    graded = []
    server = ForkServer(choose_sandbox(layer))
    try:
        for name in ("s_ipc", "s_ipc_peek", "s_ipc_peek"):
            text = (HERE / "submissions" / f"{name}.py").read_text()
            path = tmp_path / f"{name}.py"
            path.write_text(text.replace("{TOKEN}", token))
            graded.append(grade_submission(read_submission(path), plan, launcher=server))
    finally:
        server.close()
    made = re.findall(r"IPC-MADE (.*)", graded[0].log.output)
    assert made and "(-1" not in made[0] and ", -1" not in made[0], graded[0].log.output
    assert [_seen(result.log.output) for result in graded[1:]] == [[], []]
    assert all(result.score == 30.0 for result in graded)


EMPTYING = """
import ctypes, json, os, signal, sys, time
sys.path.insert(0, "/grader")
import ipc
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shm = libc.shmget(0x5A5A01, 1 << 20, 0o1666)
queue = libc.mq_open(b"/left", os.O_CREAT | os.O_RDWR, 0o666, None)
made = [shm, libc.msgget(0x5A5A02, 0o1666), libc.semget(0x5A5A03, 2, 0o1666), queue]
open("/dev/shm/left-shm", "w").close()  # what shm_open makes
holder = os.fork()
if holder == 0:  # keeps the segment attached until it is killed
    libc.shmat(shm, None, 0)
    time.sleep(60)
    os._exit(0)
time.sleep(0.2)
before = sorted({o.kind for o in ipc.objects()}) + [os.path.basename(q) for q in ipc.queues()]
os.kill(holder, signal.SIGKILL)  # dying, not dead yet: the segment waits for its detach
emptied = ipc.empty_namespace()
print(json.dumps([made, before, emptied, ipc.objects(), ipc.queues()]))
"""


def test_6_a_worker_namespace_is_emptied_of_everything() -> None:
    """Inside bwrap (its own IPC namespace, POSIX queues mounted), without Landlock: SysV
    objects, a POSIX message queue, a POSIX shared memory file and a segment a dying
    process still holds are all gone after ``ipc.empty_namespace``."""
    if bwrap_problem():
        if os.environ.get("GRADER_REQUIRE_BWRAP"):
            pytest.fail(f"bwrap is required here but not usable: {bwrap_problem()}")
        pytest.skip(bwrap_problem())
    code = Path(ipc.__file__).parent
    argv = sandbox._bwrap_argv(IS_ROOT) + ["--ro-bind", str(code), "/grader"]
    done = subprocess.run(
        [*argv, "--", sandbox.interpreter(), "-c", EMPTYING],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    made, before, emptied, objects, queues = json.loads(done.stdout)
    assert min(made) >= 0, made
    assert before == ["msg", "sem", "shm", "left", "left-shm"]
    assert emptied is True and objects == [] and queues == []


@pytest.mark.skipif(not IS_ROOT, reason="needs root to act as the sandbox's user")
def test_6_the_sweep_removes_every_ipc_object_of_the_sandbox_user() -> None:
    """Where the child had no IPC namespace of its own, the grader removes what its user owns
    (grader/run/ipc.py); objects of other users stay."""
    uid = sandbox.claim_uid()
    libc = ctypes.CDLL(None, use_errno=True)
    pid = os.fork()
    if pid == 0:  # as the sandbox's user: one segment, one queue, one semaphore set
        try:
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            ok = all(
                made >= 0
                for made in (
                    libc.shmget(0, 1 << 20, 0o1600),
                    libc.msgget(0, 0o1600),
                    libc.semget(0, 1, 0o1600),
                )
            )
        finally:
            os._exit(0 if ok else 1)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    mine = libc.shmget(0, 1 << 20, 0o1600)  # the grader's own
    try:
        assert {o.kind for o in ipc.objects() if o.uid == uid} == {"shm", "msg", "sem"}
        removed = ipc.remove_owned_by(uid)
        assert {o.kind for o in removed} == {"shm", "msg", "sem"}
        assert [o for o in ipc.objects() if o.uid == uid] == []
        assert mine in {o.ident for o in ipc.objects() if o.kind == "shm"}
    finally:
        libc.shmctl(mine, 0, None)


def test_7_memory_is_bounded_across_the_submissions_processes(batch: Batch) -> None:
    """s_memory holds 6 x 384 MB in forked children (each under the 1 GB per-process limit),
    half in memfds written and never mapped. With a memory cgroup all of it counts at once."""
    if sandbox.memory_bound() == "per process":
        pytest.skip(
            "no memory cgroup here: only memory x processes bounds a submission (README); "
            f"{cgroup.problem()}"
        )
    assert f"memory {sandbox.memory_bound()}" in batch.printed("s_memory")
    statuses = {c["status"] for c in batch.checks("s_memory").values()}
    assert statuses <= {"passed", "timeout", "error"}  # right answers; or killed while loading
    found = re.findall(r"PEAK-HELD-MB (\d+)", batch.printed("s_memory"))
    if found:  # its main process lived to say how much its children held at once
        # a killed child frees its memory before its pipe closes, so the count may still
        # include up to one 48 MB step per child that is already gone; unbounded: 2,304 MB
        slack = 6 * 48
        assert max(map(int, found)) <= MEMORY_MB + cgroup.SERVER_BYTES // 1024**2 + slack
    else:
        assert statuses != {"passed"}


@pytest.mark.parametrize("layer", ["process", "bwrap"])
def test_7_the_memory_cgroup_holds_all_of_the_submission(layer: str) -> None:
    """The worker's memory cgroup took s_memory's 2.3 GB of memfds in six children: the most
    its processes held at once came near the limit and stayed within it."""
    if sandbox.memory_bound() == "per process":
        pytest.skip(f"no memory cgroup here (README): {cgroup.problem()}")
    if layer == "bwrap" and bwrap_problem():
        pytest.skip(bwrap_problem())
    plan = grading_plan(load_assignment("hostile", HERE / "course"), 5)
    server = ForkServer(choose_sandbox(layer))
    try:
        assert server.memory is not None
        result = grade_submission(
            read_submission(HERE / "submissions" / "s_memory.py"), plan, launcher=server
        )
        peak = server.memory.peak()
        assert (
            grade_submission(
                read_submission(HERE / "submissions" / "good.py"), plan, launcher=server
            ).score
            == 30.0
        )
    finally:
        server.close()
    assert {c.status for c in result.checks} <= {"passed", "timeout", "error"}
    limit = MEMORY_MB * 1024**2 + cgroup.SERVER_BYTES
    assert peak is not None and MEMORY_MB * 1024**2 < peak <= limit, peak


def test_8_a_link_out_of_a_submission_folder_is_not_followed(batch: Batch) -> None:
    """A folder whose module is a symbolic link to the instructor's reference, and a link in
    the graded folder itself: not read (the grader is root here), no marks, no answers shown."""
    for student in ("s_link", "s_toplink"):
        entry = batch.results[student]
        assert entry["score"] == 0.0
        assert all(c["status"] == "error" for c in entry["checks"])
        assert "symbolic link to outside" in entry["checks"][0]["feedback"]
        assert REFERENCE_TEXT not in batch.printed(student)


@pytest.mark.skipif(not IS_ROOT, reason="the sandbox has a user of its own only under root")
def test_9_the_sandbox_uid_is_one_no_process_uses(tmp_path: Path) -> None:
    """The uid the next claim would take is taken by a running process (of no account): the
    sandbox picks another, two threads never share one, and a sandbox that did not
    claim a uid kills nothing of it."""
    start = os.getpid() % len(SANDBOX_UIDS)
    preferred = next(  # the uid the next claim would take
        uid
        for uid in (SANDBOX_UIDS[(start + i) % len(SANDBOX_UIDS)] for i in range(4000))
        if uid not in sandbox._CLAIMED and not sandbox._processes_of(uid)
    )
    squatter = subprocess.Popen(["sleep", "60"], user=preferred, group=preferred)
    try:
        first = choose_sandbox("process")
        assert choose_sandbox("process").uid == first.uid  # the command and its worker
        other: list[Sandbox] = []
        thread = threading.Thread(target=lambda: other.append(choose_sandbox("process")))
        thread.start()
        thread.join()
        second = other[0]  # a worker thread of its own
        assert preferred not in (first.uid, second.uid)
        assert first.uid != second.uid and first.owns_uid() and second.owns_uid()
        first.reap()
        Sandbox("process", preferred).reap()  # not claimed: must not kill by that uid
        time.sleep(0.2)
        assert squatter.poll() is None
        assert sandbox._processes_of(preferred) == [squatter.pid]
    finally:
        squatter.kill()
        squatter.wait()


def test_10_the_total_written_per_submission_is_bounded(batch: Batch) -> None:
    """s_disk writes 120 files of 4 MB (each under the per-file cap): its folder holds 64 MB
    at most, under both layers."""
    if batch.layer == "process" and not IS_ROOT:
        pytest.skip("the process layer without root bounds each file only (README)")
    assert _printed_number(batch, "s_disk", "DISK-WROTE-MB") <= scratch.JOB_BYTES // 1024**2
    assert "DISK-FULL" in batch.printed("s_disk")


def test_11_pathname_unix_sockets_are_closed(batch: Batch) -> None:
    """s_unix_socket connects to a host daemon's socket (outside its folder) and makes one of
    its own: socket(AF_UNIX) fails (seccomp), under both layers."""
    printed = batch.printed("s_unix_socket")
    assert batch.unix_received == []
    assert "UNIX-CONNECTED" not in printed and "UNIX-BOUND" not in printed
    assert printed.count("UNIX-DENIED") >= 2
    assert batch.checks("s_unix_socket")["add"]["status"] == "failed"


def test_15_a_relative_interpreter_path_still_finds_bwrap(tmp_path: Path) -> None:
    """`../venv/bin/python -m grader` (a venv reached by a relative path) passes the bwrap
    trial and grades in bwrap."""
    if bwrap_problem():
        pytest.skip(bwrap_problem())
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", "venv"],
        cwd=tmp_path,
        check=True,
    )
    (tmp_path / "work").mkdir()
    shutil.copy(HERE / "submissions" / "good.py", tmp_path / "work" / "good.py")
    command = [
        *("../venv/bin/python", "-m", "grader", "grade", "good.py", "--out", "out"),
        *("--assignment", "hostile", "--course", str(HERE / "course"), "--seed", "5"),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        command, cwd=tmp_path / "work", env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "warning" not in done.stdout + done.stderr
    [result] = json.loads((tmp_path / "work" / "out" / "results.json").read_text())
    assert result["score"] == 30.0
    assert "bwrap" in (tmp_path / "work" / "out" / "reports" / "good.md").read_text()


def test_15_auto_always_says_why_it_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """An interpreter bwrap cannot see (the trial's `test -x` prints nothing) still gives a
    reason in the warning."""
    if shutil.which("bwrap") is None or not sys.platform.startswith("linux"):
        pytest.skip("needs bwrap")
    monkeypatch.setattr(sandbox, "_BWRAP_PROBLEM", [])
    monkeypatch.setattr(sandbox, "interpreter", lambda: "/nonexistent/venv/bin/python")
    problem = bwrap_problem()
    assert "/nonexistent/venv/bin/python is not visible inside the sandbox" in problem
    warning = sandbox.fallback_warning("auto", choose_sandbox("auto"))
    assert problem in warning and "()" not in warning
