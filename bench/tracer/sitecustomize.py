"""A tracer for `grader grade`, from outside the grader: ``bench/profile_grader.py`` puts this
folder first on PYTHONPATH with ``GRADER_TRACE=DIR``; every Python process of the run that
sees PYTHONPATH (the parent and its spawned workers; not the sandboxed children, started with
``-E``) then imports this file at start-up and, only when ``GRADER_TRACE`` is set, wraps a few
grader functions so that each call appends ``[name, pid, thread, t0, t1, cpu0, cpu1, extra]``
(wall clock ``time.time()``, this thread's CPU time) as a JSON line to ``DIR/<pid>.jsonl``.

The sandboxed child cannot be wrapped this way, so its copy of ``child.py`` is instrumented
instead: the wrapped ``prepare_code`` rewrites the copy to put ``time.time()`` stamps (start
of the job, after dropping privileges, after Landlock, after the limits, after the cells, the
last call) into the messages it already sends; the boundary's reader records them. The child
runs the same code otherwise, in the same sandbox.
"""

from __future__ import annotations

import os

TRACE = os.environ.get("GRADER_TRACE")
if TRACE:
    import functools
    import json
    import threading
    import time

    _files: dict[int, object] = {}
    _lock = threading.Lock()

    def _emit(record: list) -> None:
        pid = os.getpid()
        with _lock:
            f = _files.get(pid)
            if f is None:
                f = open(os.path.join(TRACE, f"{pid}.jsonl"), "a", buffering=1)  # noqa: SIM115
                _files[pid] = f
            f.write(json.dumps(record) + "\n")

    def _wrap(owner: object, attr: str, name: str, extra=None) -> None:
        original = getattr(owner, attr)
        if getattr(original, "_traced", False):
            return

        @functools.wraps(original)
        def traced(*args, **kwargs):
            t0, c0 = time.time(), time.thread_time()
            result = original(*args, **kwargs)
            t1, c1 = time.time(), time.thread_time()
            info = extra(args, kwargs, result) if extra else None
            _emit([name, os.getpid(), threading.get_ident(), t0, t1, c0, c1, info])
            return result

        traced._traced = True  # type: ignore[attr-defined]
        setattr(owner, attr, traced)

    def _when_imported(module_name: str, then) -> None:
        """Call ``then(module)`` once ``module_name`` has been imported (now, if it has), so
        that tracing a module the grader imports late does not import it early."""
        import importlib.abc
        import importlib.machinery
        import sys

        if module_name in sys.modules:
            then(sys.modules[module_name])
            return

        class After(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name != module_name:
                    return None
                spec = importlib.machinery.PathFinder.find_spec(name, path)
                if spec is None or spec.loader is None:
                    return spec
                execute = spec.loader.exec_module

                def exec_module(module):
                    execute(module)
                    then(module)

                spec.loader.exec_module = exec_module
                return spec

        sys.meta_path.insert(0, After())

    def _wrap_generator(owner: object, attr: str, name: str) -> None:
        """Each item a generator yields: the time spent producing it (the consumer's excluded)."""
        original = getattr(owner, attr)

        @functools.wraps(original)
        def traced(*args, **kwargs):
            iterator = original(*args, **kwargs)
            while True:
                t0, c0 = time.time(), time.thread_time()
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                t1, c1 = time.time(), time.thread_time()
                _emit([name, os.getpid(), threading.get_ident(), t0, t1, c0, c1, None])
                yield item

        setattr(owner, attr, traced)

    CHILD_STAMPS = [
        # (text in child.py, text that replaces it); each must match exactly once
        (
            '    workdir = job.get("workdir")\n',
            '    _T = {"t_job": time.time()}\n    workdir = job.get("workdir")\n',
        ),
        (
            '        _become(int(job["uid"]), keep_read=bool(job.get("keep_read")))\n',
            '        _become(int(job["uid"]), keep_read=bool(job.get("keep_read")))\n'
            '    _T["t_become"] = time.time()\n',
        ),
        (
            '    _limit_resources(job.get("limits", {}))\n',
            '    _T["t_confine"] = time.time()\n'
            '    _limit_resources(job.get("limits", {}))\n'
            '    _T["t_limits"] = time.time()\n'
            '    _T["c_limits"] = time.process_time()\n',
        ),
        (
            '    send({"event": "loaded", "cell_errors": cell_errors, "landlock": confined})\n',
            '    _T["t_cells"] = time.time()\n'
            '    _T["c_cells"] = time.process_time()\n'
            '    send({"event": "loaded", "cell_errors": cell_errors, "landlock": confined,'
            " **_T})\n",
        ),
        (
            '    send({"event": "done"})\n',
            '    send({"event": "done", "t_calls": time.time()})\n',
        ),
        (
            "            pid = os.fork()\n",
            "            _t_fork = time.time()\n            pid = os.fork()\n"
            '            if pid == 0:\n                request["job"]["t_fork"] = _t_fork\n',
        ),
        (
            '    _T = {"t_job": time.time()}\n',
            '    _T = {"t_job": time.time(), "t_fork": job.get("t_fork")}\n',
        ),
    ]

    def _instrument_child(code_dir) -> None:
        path = os.path.join(str(code_dir), "child.py")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for old, new in CHILD_STAMPS:
            if text.count(old) != 1:
                _emit(["instrument-failed", os.getpid(), 0, 0, 0, 0, 0, old.strip()[:60]])
                return
            text = text.replace(old, new)
        mode = os.stat(path).st_mode
        os.chmod(path, 0o644)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, mode)

    def _install() -> None:
        import grader.batch as batch
        import grader.commands.grade as grade
        import grader.grading as grading
        import grader.run.boundary as boundary
        import grader.run.launch as launch
        from grader.gradebook import Gradebook

        original_prepare = launch.prepare_code

        @functools.wraps(original_prepare)
        def prepare_code(scratch, sandbox):
            code_dir = original_prepare(scratch, sandbox)
            _instrument_child(code_dir)
            return code_dir

        launch.prepare_code = prepare_code

        # the parent
        _wrap(grade, "main", "parent.main")
        _wrap(grade, "load_assignment", "parent.load_assignment")
        _wrap(grade, "discover", "parent.discover")
        if hasattr(grade, "peek"):
            _wrap(grade, "peek", "parent.peek")
        _wrap(grade, "write_sidecar", "parent.sidecar")
        # imported once the workers have started
        _when_imported(
            "grader.report.render", lambda m: _wrap(m.ReportWriter, "write", "parent.report")
        )
        _when_imported("grader.publish", lambda m: _wrap(m, "publish", "parent.publish"))
        _wrap(grade, "_summary_table", "parent.summary_table")
        _wrap(Gradebook, "record", "parent.gradebook_record")
        _wrap(Gradebook, "__init__", "parent.gradebook_open")
        _wrap_generator(grade, "_drain", "parent.read_submission")
        from grader.model import Submission

        _wrap(Submission, "materialize", "parent.materialize")
        # a worker (or the parent with one worker)
        _wrap(batch, "grade_one", "worker.grade_one")
        _wrap(batch, "_worker", "worker.get_plan_and_server")
        _wrap(batch, "grading_plan", "worker.grading_plan")
        _wrap(batch, "load_assignment", "worker.load_assignment")
        _wrap(batch, "ForkServer", "worker.fork_server_new")
        _wrap(launch.ForkServer, "_boot", "worker.server_boot")
        _wrap(launch.ForkServer, "start", "worker.start")
        _wrap(launch.ForkServer, "finish", "worker.finish")
        _wrap(grading, "run_submission", "worker.run_submission")
        _wrap(grading, "judge_check", "worker.judge_check")
        _wrap(grading, "manual_check", "worker.manual_check")

        def stamps(args, kwargs, result):
            event = args[1] if len(args) > 1 else kwargs.get("event")
            if not isinstance(result, dict):
                return {"event": event, "none": True}
            keep = {k: v for k, v in result.items() if k.startswith(("t_", "c_"))}
            keep["event"] = event
            if event == "outcome":
                keep["seconds"] = result.get("seconds")
                keep["blob_bytes"] = sum(len(b) for b in result.get("blobs") or [])
            return keep

        _wrap(boundary, "_read_until", "worker.read_until", stamps)

    def _process_start() -> float:
        """When this process was created (the kernel's start time), as time.time()."""
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
        ticks = int(stat[stat.rindex(b")") + 2 :].split()[19])
        ago = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
        return time.time() - ago

    import atexit

    with open("/proc/self/cmdline", "rb") as _f:
        _command = _f.read().replace(b"\0", b" ").decode(errors="replace")
    _emit(
        [
            "process.start",
            os.getpid(),
            0,
            _process_start(),
            time.time(),
            0,
            time.process_time(),
            _command[:200],
        ]
    )

    def _forked() -> None:
        """A worker forked from the grader's process or from the warm forkserver."""
        now = time.time()
        _files.clear()  # the parent's open trace file is not this process's
        _emit(["process.start", os.getpid(), 0, now, now, 0, 0, "forked worker"])

    os.register_at_fork(after_in_child=_forked)
    atexit.register(
        lambda: _emit(
            [
                "process.exit",
                os.getpid(),
                0,
                time.time(),
                time.time(),
                time.process_time(),
                time.process_time(),
                None,
            ]
        )
    )
    try:
        _install()
    except Exception as exc:  # never break the run being traced
        _emit(["install-failed", os.getpid(), 0, 0, 0, 0, 0, repr(exc)])
