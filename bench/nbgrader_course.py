"""The nbgrader side of the benchmark: a course directory with checks equivalent to the grader's.

``build_source_notebook`` turns ``reference/sheet3_master.ipynb`` into an nbgrader source
notebook: each of the 8 function cells becomes an *autograded answer* cell (``solution``;
the master's ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers are nbgrader's own), followed
by a locked *autograder tests* cell (``grade``, ``locked``, the rubric's points) with visible
asserts on one input and hidden asserts (``### BEGIN HIDDEN TESTS``) on more; the three written
answers become *manually graded answer* cells with their points. 76 + 24 = 100 points, as in
the rubric.

``student_notebook`` makes a student's nbgrader submission from the released notebook and the
student's grader notebook: the released cells with their nbgrader metadata, the student's
function cells put into the solution cells, the student's written answers into the answer
cells, and every other code cell of the student (imports, experiments, prints, the broken
first try) at the same place relative to the functions. Both graders therefore run the same
student code.
"""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
MASTER = REPO / "reference" / "sheet3_master.ipynb"

POINTS = {
    "1a.hessian": 10,
    "1a.hessian_gaussian": 10,
    "1b.condition_number": 12,
    "1b.derivation": 8,
    "1c.center": 4,
    "1c.centered_min_error": 5,
    "1c.explanation": 6,
    "2a.he_init": 15,
    "2a.preactivation_variances": 10,
    "2a.proof": 10,
    "2b.tanh_init": 10,
}
MANUAL = {"1b.derivation", "1c.explanation", "2a.proof"}

# The tests: np.allclose with the rubric's tolerances on a couple of inputs per function (the
# expected values are computed in the test cell from the formula), shapes first; center must
# leave its input unchanged; the initializers: shape, sample mean and sample variance (within
# 5%, more than 8 standard errors for 60,000 samples), with fan-in != fan-out so that the
# transposed shape and fan-out are caught, once with an rng and once without.
_TOL = "rtol=1e-7, atol=1e-10"
TESTS = {
    "1a.hessian": f"""
        _rng = np.random.default_rng(301)
        _X = _rng.normal([1.0, -2.0, 0.5], 0.8, size=(40, 3))
        _H = hessian(_X.copy())
        assert np.shape(_H) == (3, 3), "hessian(X) must have shape (d, d)"
        assert np.allclose(_H, _X.T @ _X / _X.shape[0], {_TOL})
        ### BEGIN HIDDEN TESTS
        _X = _rng.normal(2.0, 1.5, size=(25, 5))
        _H = hessian(_X.copy())
        assert np.shape(_H) == (5, 5)
        assert np.allclose(_H, _X.T @ _X / 25, {_TOL})
        _X = _rng.normal(-1.0, 0.3, size=(300, 2))
        assert np.allclose(hessian(_X.copy()), _X.T @ _X / 300, {_TOL})
        ### END HIDDEN TESTS
        """,
    "1a.hessian_gaussian": f"""
        _mu, _sigma = np.array([1.0, -2.0, 0.5]), 0.7
        _H = hessian_gaussian(_mu.copy(), _sigma)
        assert np.shape(_H) == (3, 3)
        assert np.allclose(_H, _sigma**2 * np.eye(3) + np.outer(_mu, _mu), {_TOL})
        ### BEGIN HIDDEN TESTS
        _rng = np.random.default_rng(302)
        for _d in (2, 5):
            _mu, _sigma = _rng.normal(0.0, 2.0, size=_d), float(_rng.uniform(0.3, 2.0))
            _H = hessian_gaussian(_mu.copy(), _sigma)
            assert np.shape(_H) == (_d, _d)
            assert np.allclose(_H, _sigma**2 * np.eye(_d) + np.outer(_mu, _mu), {_TOL})
        ### END HIDDEN TESTS
        """,
    "1b.condition_number": f"""
        _mu, _sigma = np.array([3.0, 0.0, 4.0]), 2.0
        _k = condition_number(_mu.copy(), _sigma)
        assert np.ndim(_k) == 0, "condition_number must return a number"
        assert np.allclose(float(_k), 1.0 + 25.0 / 4.0, {_TOL})
        ### BEGIN HIDDEN TESTS
        _rng = np.random.default_rng(303)
        for _d in (2, 6):
            _mu, _sigma = _rng.normal(0.0, 2.0, size=_d), float(_rng.uniform(0.3, 2.0))
            _k = condition_number(_mu.copy(), _sigma)
            assert np.ndim(_k) == 0
            assert np.allclose(float(_k), 1.0 + _mu @ _mu / _sigma**2, {_TOL})
        ### END HIDDEN TESTS
        """,
    "1c.center": f"""
        _rng = np.random.default_rng(304)
        _X = _rng.normal([1.0, 5.0, -2.0], 1.0, size=(30, 3))
        _X0 = _X.copy()
        _C = center(_X)
        assert np.array_equal(_X, _X0), "center must not change its input"
        assert np.shape(_C) == (30, 3)
        assert np.allclose(_C, _X0 - _X0.mean(axis=0), {_TOL})
        ### BEGIN HIDDEN TESTS
        _X = _rng.normal(3.0, 2.0, size=(12, 6))
        _X0 = _X.copy()
        _C = center(_X)
        assert np.array_equal(_X, _X0)
        assert np.allclose(_C, _X0 - _X0.mean(axis=0), {_TOL})
        ### END HIDDEN TESTS
        """,
    "1c.centered_min_error": f"""
        _mu, _v = np.array([1.0, 2.0, -1.0]), np.array([0.5, -1.0, 2.0])
        _e = centered_min_error(_mu.copy(), 0.5, _v.copy(), 0.1)
        assert np.ndim(_e) == 0
        assert np.allclose(float(_e), 0.5 * ((_v @ _mu) ** 2 + 0.1), {_TOL})
        ### BEGIN HIDDEN TESTS
        _rng = np.random.default_rng(305)
        for _d in (2, 5):
            _mu, _v = _rng.normal(0.0, 2.0, size=_d), _rng.normal(0.0, 1.0, size=_d)
            _nv = float(_rng.uniform(0.01, 1.0))
            _e = centered_min_error(_mu.copy(), 1.3, _v.copy(), _nv)
            assert np.allclose(float(_e), 0.5 * ((_v @ _mu) ** 2 + _nv), {_TOL})
        ### END HIDDEN TESTS
        """,
    "2a.he_init": """
        _W = np.asarray(he_init(300, 200, np.random.default_rng(306)))
        assert _W.shape == (200, 300), "he_init(n_in, n_out) must have shape (n_out, n_in)"
        assert abs(_W.mean()) < 5 * np.sqrt(2 / 300 / _W.size)
        assert abs(_W.var() / (2 / 300) - 1) < 0.05, "the variance must be 2 / n_in"
        ### BEGIN HIDDEN TESTS
        _W = np.asarray(he_init(150, 400))
        assert _W.shape == (400, 150)
        assert abs(_W.mean()) < 5 * np.sqrt(2 / 150 / _W.size)
        assert abs(_W.var() / (2 / 150) - 1) < 0.05
        ### END HIDDEN TESTS
        """,
    "2a.preactivation_variances": """
        def _reference_variances(x, weights, activation):
            act = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh}[activation]
            a, out = x, []
            for W in weights:
                z = a @ W.T
                out.append(np.var(z))
                a = act(z)
            return np.array(out)

        _rng = np.random.default_rng(307)
        _x = _rng.standard_normal((64, 20))
        _Ws = [_rng.normal(0.0, np.sqrt(2 / 20), (20, 20)) for _ in range(4)]
        _got = np.asarray(preactivation_variances(_x.copy(), [W.copy() for W in _Ws], "relu"))
        assert _got.shape == (4,)
        assert np.allclose(_got, _reference_variances(_x, _Ws, "relu"), rtol=1e-7, atol=1e-12)
        ### BEGIN HIDDEN TESTS
        _x = _rng.standard_normal((32, 10))
        _Ws = [_rng.normal(0.0, np.sqrt(1 / 10), (15, 10)), _rng.normal(0.0, 0.3, (8, 15)),
               _rng.normal(0.0, 0.4, (8, 8))]
        for _act in ("tanh", "relu"):
            _got = np.asarray(preactivation_variances(_x.copy(), [W.copy() for W in _Ws], _act))
            assert _got.shape == (3,)
            assert np.allclose(_got, _reference_variances(_x, _Ws, _act), rtol=1e-7, atol=1e-12)
        ### END HIDDEN TESTS
        """,
    "2b.tanh_init": """
        _W = np.asarray(tanh_init(300, 200, np.random.default_rng(308)))
        assert _W.shape == (200, 300), "tanh_init(n_in, n_out) must have shape (n_out, n_in)"
        assert abs(_W.mean()) < 5 * np.sqrt(1 / 300 / _W.size)
        assert abs(_W.var() / (1 / 300) - 1) < 0.05, "the variance must be 1 / n_in"
        ### BEGIN HIDDEN TESTS
        _W = np.asarray(tanh_init(150, 400))
        assert _W.shape == (400, 150)
        assert abs(_W.mean()) < 5 * np.sqrt(1 / 150 / _W.size)
        assert abs(_W.var() / (1 / 150) - 1) < 0.05
        ### END HIDDEN TESTS
        """,
}


def grade_id(check: str, test: bool = False) -> str:
    """nbgrader grade ids allow only [a-zA-Z0-9_-]."""
    base = check.replace(".", "_")
    return f"test_{base}" if test else f"answer_{base}"


def _meta(grade_id_: str, *, grade: bool, solution: bool, locked: bool, points=None) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id_,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def check_of(cell) -> str | None:
    return (cell.get("metadata", {}).get("grader") or {}).get("check")


def build_source_notebook(master: Path = MASTER) -> nbformat.NotebookNode:
    """The nbgrader source notebook (solutions in, tests with hidden parts)."""
    nb = nbformat.read(master, as_version=4)
    cells = []
    for cell in nb.cells:
        cell = copy.deepcopy(cell)
        check = check_of(cell)
        cell.metadata.pop("grader", None)
        cell.metadata.pop("tags", None)
        cell.pop("id", None)
        if check in TESTS and cell.cell_type == "code":
            cell.metadata.update(_meta(grade_id(check), grade=False, solution=True, locked=False))
            cells.append(cell)
            test = nbformat.v4.new_code_cell(textwrap.dedent(TESTS[check]).strip("\n"))
            test.metadata.update(
                _meta(
                    grade_id(check, test=True),
                    grade=True,
                    solution=False,
                    locked=True,
                    points=POINTS[check],
                )
            )
            cells.append(test)
        elif check in MANUAL and cell.cell_type == "markdown":
            cell.metadata.update(
                _meta(
                    grade_id(check), grade=True, solution=True, locked=False, points=POINTS[check]
                )
            )
            cells.append(cell)
        else:
            cells.append(cell)
    for cell in cells:
        cell.pop("id", None)
    nb.cells = cells
    nb.nbformat, nb.nbformat_minor = 4, 4  # no cell ids: nbgrader 0.9 copes with either
    return nb


def _nbgrader_id(cell) -> str | None:
    return (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")


def student_notebook(
    released: nbformat.NotebookNode, student: nbformat.NotebookNode
) -> nbformat.NotebookNode:
    """The released notebook with this student's code and answers in it (see the module doc)."""
    answers: dict[str, str] = {}
    extra: dict[str | None, list] = {}
    anchor: str | None = None
    for cell in student.cells:
        check = check_of(cell)
        if check is not None and check in POINTS:
            answers.setdefault(check, cell.source)
            anchor = check
        elif cell.cell_type == "code":
            extra.setdefault(anchor, []).append(cell.source)
    by_grade_id = {grade_id(check): check for check in POINTS}
    out = []
    preamble_done = False
    for cell in released.cells:
        gid = _nbgrader_id(cell)
        if cell.cell_type == "code" and gid is None:
            # The released notebook's free cell (the imports): the student's own first cells.
            if not preamble_done:
                out.extend(nbformat.v4.new_code_cell(s) for s in extra.get(None, []))
                preamble_done = True
            continue
        cell = copy.deepcopy(cell)
        check = by_grade_id.get(gid)
        if check is not None:
            if check in answers:
                cell.source = answers[check]
            out.append(cell)
            out.extend(nbformat.v4.new_code_cell(s) for s in extra.get(check, []))
            continue
        out.append(cell)
    if not preamble_done:
        out[0:0] = [nbformat.v4.new_code_cell(s) for s in extra.get(None, [])]
    nb = copy.deepcopy(released)
    for cell in out:
        cell.pop("id", None)
    nb.cells = out
    nb.nbformat, nb.nbformat_minor = 4, 4
    return nb


NBGRADER_CONFIG = """\
c = get_config()
c.CourseDirectory.course_id = "grader-bench"
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = "sqlite:///" + {db!r}
# Defaults kept on purpose: Execute.timeout = 30 s per cell, allow_errors = True, the
# default autograde preprocessors (ClearOutput ... OverwriteCells, Execute, SaveAutoGrades).
"""


def write_course(course: Path, assignment: str) -> Path:
    """Lay out ``course`` (source/, nbgrader_config.py) and return the source notebook path."""
    (course / "source" / assignment).mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(
        NBGRADER_CONFIG.format(root=str(course), db=str(course / "gradebook.db")),
        encoding="utf-8",
    )
    source = course / "source" / assignment / f"{assignment}.ipynb"
    nbformat.write(build_source_notebook(), source)
    return source
