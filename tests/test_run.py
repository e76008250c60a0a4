"""The run stage: the boundary between the grader and a student's code, and its wire format.

Every value that crosses the boundary is plain data (JSON, arrays as ``.npy`` without pickle);
a call that raises, exits, crashes or hangs costs only that call.
"""

from __future__ import annotations

import base64
import io
import json
import os
import textwrap
from pathlib import Path

import numpy as np
import pytest

from grader.model import Call, Cell, NotPlain, Rng, Submission
from grader.run import wire
from grader.run.boundary import OUTPUT_CAP, Limits, run_submission


def submission(source: str, name: str = "student.py") -> Submission:
    """A one-cell module submission, as the load stage would make it."""
    return Submission("student", Path(name), (Cell(1, textwrap.dedent(source)),))


def run(source: str, *calls: Call, limits: Limits | None = None):
    return run_submission(submission(source), list(calls), limits)


# --- values come back as plain data -------------------------------------------------------


def test_values_come_back_as_plain_numpy_arrays_and_python_numbers():
    log, outcomes = run(
        """
        import numpy as np
        def matrix():
            return np.arange(6.0).reshape(2, 3)
        def scalar():
            return np.float64(2.5)
        def single():
            return np.float32(1.5)
        def count():
            return np.int64(7)
        def several():
            return (np.ones(2), [1.0, 2.0], {"a": True})
        def flags():
            return np.array([True, False])
        """,
        Call("matrix"),
        Call("scalar"),
        Call("single"),
        Call("count"),
        Call("several"),
        Call("flags"),
    )
    assert [o.status for o in outcomes] == ["ok"] * 6
    matrix, scalar, single, count, several, flags = (o.value for o in outcomes)
    assert type(matrix) is np.ndarray and matrix.dtype == np.float64
    np.testing.assert_array_equal(matrix, np.arange(6.0).reshape(2, 3))
    assert type(scalar) is float and scalar == 2.5
    assert type(single) is float and single == 1.5
    assert type(count) is int and count == 7
    assert type(several) is list and type(several[0]) is np.ndarray
    assert several[1] == [1.0, 2.0] and several[2] == {"a": True}
    assert flags.dtype == np.bool_ and flags.tolist() == [True, False]
    assert log.cell_errors == () and log.load_error == ""


def test_arguments_arrive_as_arrays_and_rng_as_a_seeded_generator():
    x = np.arange(12.0).reshape(3, 4)
    _, [shape, draws] = run(
        """
        import numpy as np
        def shape(x, scale, items):
            assert isinstance(x, np.ndarray) and isinstance(items, list)
            return [x.shape[0], x.shape[1], scale * x.sum(), len(items)]
        def draw(rng):
            assert isinstance(rng, np.random.Generator)
            return rng.normal(size=4)
        """,
        Call("shape", (x, 0.5, [np.ones(2), np.zeros(3)])),
        Call("draw", (Rng(5),), repeat=3),
    )
    assert shape.value == [3, 4, 0.5 * x.sum(), 2]
    # a repeated call stacks its values, and the i-th call gets the generator seeded seed + i
    expected = np.stack([np.random.default_rng(5 + i).normal(size=4) for i in range(3)])
    np.testing.assert_array_equal(draws.value, expected)


def test_an_ndarray_subclass_with_a_lying_eq_comes_back_as_a_plain_array():
    _, [outcome] = run(
        """
        import numpy as np
        class Agreeable(np.ndarray):
            def __eq__(self, other):
                return True
            def __ne__(self, other):
                return False
        def hessian(X):
            return np.array([[1.0, 2.0], [3.0, 4.0]]).view(Agreeable)
        """,
        Call("hessian", (np.ones((3, 2)),)),
    )
    assert outcome.status == "ok"
    assert type(outcome.value) is np.ndarray
    assert not (outcome.value == np.zeros((2, 2))).any()
    np.testing.assert_array_equal(outcome.value, [[1.0, 2.0], [3.0, 4.0]])


def test_an_object_array_or_a_custom_object_is_not_plain_saying_what_came_back():
    """Not plain data is a wrong answer (issue 9, item 13): it comes back as NotPlain, which no
    comparison ever sees; the contract's `error` is kept for a function that raised."""
    _, [objects, custom, numbers] = run(
        """
        import numpy as np
        class Weights:
            def __eq__(self, other):
                return True
        def objects():
            return np.array([Weights(), "x", None], dtype=object)
        def custom():
            return Weights()
        def numbers():
            return np.array([1.0, 2], dtype=object)  # numbers after all: read as floats
        """,
        Call("objects"),
        Call("custom"),
        Call("numbers"),
    )
    assert objects.status == "ok" and isinstance(objects.value, NotPlain)
    assert objects.value.reason.startswith("returned ") and "objects" in objects.value.reason
    assert custom.status == "ok" and isinstance(custom.value, NotPlain)
    assert custom.value.reason.startswith("returned ") and "Weights" in custom.value.reason
    assert numbers.status == "ok" and numbers.value.dtype == np.float64


# --- failures of one call -------------------------------------------------------------------


def test_an_exception_is_an_error_with_its_type_message_cell_and_line():
    _, [outcome] = run(
        """
        import numpy as np

        def hessian(X):
            n = X.shape[0]
            raise ValueError(f"cannot handle {n} rows")
        """,
        Call("hessian", (np.ones((4, 2)),)),
    )
    assert outcome.status == "error"
    assert "ValueError: cannot handle 4 rows" in outcome.error
    assert "cell 1, line 6" in outcome.error


def test_a_missing_function_is_missing_and_the_others_still_run():
    _, outcomes = run("def center(X):\n    return X\n", Call("hessian"), Call("center", (1.0,)))
    assert [o.status for o in outcomes] == ["missing", "ok"]


def test_a_name_that_is_not_a_function_is_an_error():
    _, [outcome] = run("hessian = 3\n", Call("hessian"))
    assert outcome.status == "error"
    assert "hessian" in outcome.error and "not a function" in outcome.error


def test_sys_exit_inside_a_call_is_an_error_not_a_dead_grader():
    _, outcomes = run(
        """
        import sys
        def leave():
            sys.exit("bye")
        def stay():
            return 1.0
        """,
        Call("leave"),
        Call("stay"),
    )
    assert outcomes[0].status == "error" and "SystemExit" in outcomes[0].error
    assert outcomes[1].status == "ok" and outcomes[1].value == 1.0


def test_a_call_that_kills_its_process_crashes_alone_and_a_fresh_child_answers_the_rest():
    _, outcomes = run(
        """
        import os
        def pid():
            return os.getpid()
        def die():
            os._exit(3)
        """,
        Call("pid"),
        Call("die"),
        Call("pid"),
        Call("pid"),
    )
    assert [o.status for o in outcomes] == ["ok", "crashed", "ok", "ok"]
    assert "code 3" in outcomes[1].error
    assert outcomes[0].value != outcomes[2].value  # a fresh child ...
    assert outcomes[2].value == outcomes[3].value  # ... that answers every call left


def test_an_infinite_loop_in_one_call_times_out_and_the_others_are_answered():
    _, outcomes = run(
        """
        def spin():
            while True:
                pass
        def answer():
            return 42
        """,
        Call("answer"),
        Call("spin", timeout=1),
        Call("answer"),
    )
    assert [o.status for o in outcomes] == ["ok", "timeout", "ok"]
    assert "spin" in outcomes[1].error and "did not finish" in outcomes[1].error
    assert outcomes[2].value == 42


def test_an_infinite_loop_at_import_times_out_every_call_with_the_load_error():
    log, outcomes = run(
        """
        def hessian(X):
            return X
        while True:
            pass
        """,
        Call("hessian", (1.0,)),
        Call("center", (1.0,)),
        limits=Limits(load_timeout=2),
    )
    assert [o.status for o in outcomes] == ["timeout", "timeout"]
    assert "2 s" in log.load_error  # it says which limit was hit
    assert all(o.error == log.load_error for o in outcomes)


def test_a_cell_that_raises_is_recorded_and_the_functions_before_it_still_work():
    log, [outcome] = run(
        """
        def answer():
            return 1.5
        import not_a_real_module
        """,
        Call("answer"),
    )
    assert outcome.status == "ok" and outcome.value == 1.5
    [(cell, error)] = log.cell_errors
    assert cell == 1 and error.startswith("ModuleNotFoundError")


# --- isolation ------------------------------------------------------------------------------


def test_printed_output_is_captured():
    log, _ = run(
        """
        print("loading")
        def hello():
            print("hello from the call")
            return 0
        """,
        Call("hello"),
    )
    assert "loading" in log.output and "hello from the call" in log.output


def test_printed_output_is_capped():
    log, _ = run(
        """
        for i in range(200):
            print(f"{i:05d}" + "x" * 995)
        def hello():
            return 0
        """,
        Call("hello"),
    )
    assert log.output.startswith("00000xxx")
    assert OUTPUT_CAP // 2 < len(log.output) <= OUTPUT_CAP  # 200 kB printed, 20 kB kept


def test_output_printed_before_a_hang_or_a_crash_is_kept():
    """What a student printed just before the child was killed is what helps them most."""
    log, outcomes = run(
        """
        import os
        def spin():
            print("starting the loop")
            while True:
                pass
        def die():
            print("about to exit")
            os._exit(3)
        """,
        Call("spin", timeout=1),
        Call("die"),
    )
    assert [o.status for o in outcomes] == ["timeout", "crashed"]
    assert "starting the loop" in log.output and "about to exit" in log.output


def test_the_child_does_not_see_the_graders_environment(monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "x")
    _, [secret, keys] = run(
        """
        import os
        def secret():
            return os.environ.get("GRADER_SECRET")
        def keys():
            return sorted(os.environ)
        """,
        Call("secret"),
        Call("keys"),
    )
    assert secret.status == "ok" and secret.value is None
    assert "GRADER_SECRET" not in keys.value


def test_the_working_directory_is_a_private_temporary_folder():
    _, [where] = run(
        """
        import os
        def where():
            found = sorted(os.listdir("."))
            with open("scratch.txt", "w") as handle:
                handle.write("left behind?")
            return [os.getcwd(), len(found)]
        """,
        Call("where"),
    )
    folder, entries = where.value
    assert Path(folder).resolve() != Path.cwd().resolve()
    assert entries == 0  # nothing of the grader's or of another student's is in it
    assert not Path(folder).exists()  # and it is gone after the run


def _alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (killed but not yet reaped by init)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_no_process_is_left_behind_after_a_timeout():
    _, [started, spun] = run(
        """
        import os, time
        def start():
            helper = os.fork()
            if helper == 0:  # a grandchild that would outlive a careless kill
                time.sleep(120)
                os._exit(0)
            return [os.getpid(), os.getpgrp(), helper]
        def spin():
            while True:
                pass
        """,
        Call("start"),
        Call("spin", timeout=1),
    )
    assert started.status == "ok" and spun.status == "timeout"
    child, group, grandchild = started.value
    assert child == group  # the child leads its own process group ...
    assert not _alive(child) and not _alive(grandchild)  # ... which is killed as a whole
    assert _group_members(group) == []


# --- the wire format ------------------------------------------------------------------------


def through_the_wire(value):
    return wire.decode(wire.loads(wire.dumps({"value": wire.encode(value)}))["value"])


def test_wire_round_trip_keeps_values_and_dtypes():
    value = {
        "matrix": np.arange(6.0).reshape(2, 3),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "list": [np.int64(3), np.float32(0.5), 1, 2.5, True, None, "text"],
        "nested": [[1.0, 2.0], [3.0, 4.0]],
        "empty": np.zeros((0, 3)),
    }
    back = through_the_wire(value)
    np.testing.assert_array_equal(back["matrix"], value["matrix"])
    np.testing.assert_array_equal(back["fortran"], value["fortran"])
    assert back["list"] == [3, 0.5, 1, 2.5, True, None, "text"]
    assert back["nested"] == [[1.0, 2.0], [3.0, 4.0]]
    assert back["empty"].shape == (0, 3)


def test_wire_keeps_a_zero_dimensional_array_zero_dimensional():
    back = through_the_wire(np.array(1.25))
    assert back.shape == () and back == 1.25


@pytest.mark.parametrize(
    "dtype", [np.bool_, np.int8, np.int64, np.uint16, np.float16, np.float32, np.float64]
)
def test_wire_allows_bool_int_and_float_arrays(dtype):
    array = (np.arange(6) % 3).astype(dtype).reshape(3, 2)
    back = through_the_wire(array)
    assert type(back) is np.ndarray and back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize(
    "value",
    [
        np.array([object(), 1.0], dtype=object),
        np.array([1 + 2j, 3j]),
        np.array(["a", "b"]),
        np.zeros(2, dtype=[("x", "f8"), ("y", "f8")]),
        {1: "not a str key"},
        object(),
        1 + 2j,
    ],
    ids=["object", "complex", "str", "record", "dict-int-key", "custom", "python-complex"],
)
def test_wire_refuses_what_is_not_plain_numbers(value):
    with pytest.raises(wire.WireError):
        wire.encode(value)


def _npy_field(array: np.ndarray, allow_pickle: bool = False) -> dict[str, str]:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return {wire.ARRAY_KEY: base64.b64encode(buffer.getvalue()).decode("ascii")}


class _Planted:
    """Unpickling this makes a folder: proof that a pickle was (or was not) loaded."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_wire_never_unpickles_an_array_payload(tmp_path):
    planted = tmp_path / "unpickled"
    payload = _npy_field(np.array([_Planted(planted)], dtype=object), allow_pickle=True)
    assert b"mkdir" in base64.b64decode(payload[wire.ARRAY_KEY])  # a real pickle inside
    message = wire.dumps({"value": payload})
    with pytest.raises(wire.WireError):
        wire.decode(wire.loads(message)["value"])
    assert not planted.exists()


@pytest.mark.parametrize(
    "payload",
    [
        _npy_field(np.array([1 + 1j])),
        _npy_field(np.array(["text"])),
        {wire.ARRAY_KEY: "not base64 at all!"},
        {wire.ARRAY_KEY: base64.b64encode(b"\x93NUMPY garbage").decode()},
        {wire.ARRAY_KEY: 12},
    ],
    ids=["complex", "str", "not-base64", "bad-npy", "not-text"],
)
def test_wire_refuses_arrays_that_are_not_real_numbers_on_decode(payload):
    with pytest.raises(wire.WireError):
        wire.decode(payload)


def test_wire_messages_must_be_json_objects():
    assert wire.loads(b'{"event": "done"}\n') == {"event": "done"}
    with pytest.raises(wire.WireError):
        wire.loads(json.dumps([1, 2]).encode())
