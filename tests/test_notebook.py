"""``from grader import Notebook``: the public checks inside Jupyter, run here in-process on a
namespace, as a kernel would hold the student's functions (contract §5)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader import Notebook
from grader.bundle import write_bundle

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def bundle(sheet3, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_bundle(sheet3, tmp_path_factory.mktemp("bundle") / "sheet3.public.json")


@pytest.fixture(scope="session")
def nb(bundle: Path) -> Notebook:
    return Notebook(bundle)


@pytest.fixture
def correct(sheet3) -> dict:
    """The reference's functions, as if the student had defined them in the kernel."""
    reference = sheet3.reference
    names = {spec.function for spec in sheet3.checks if not spec.manual}
    return {name: getattr(reference, name) for name in names}


def test_correct_functions_pass_every_public_check(nb: Notebook, correct: dict) -> None:
    result = nb.check_all(correct)
    assert result.passed
    assert result.score == result.max_score == 76
    assert "8 of 8 checks pass on the public cases (76/76 points)" in str(result)
    assert "✓ passed" in result._repr_html_()


def test_a_known_mistake_is_named_per_case_in_html_and_text(nb: Notebook, correct, sheet3) -> None:
    namespace = {**correct, "hessian": sheet3.reference.hessian_half}
    result = nb.check("1a.hessian", namespace)
    assert not result.passed and result.score == 0
    html = result._repr_html_()
    assert html.count("known mistake: the ½ factor kept") == 2  # each public case, named
    assert "✗ failed" in html and "hessian(array 45×3)" in html
    text = str(result)
    assert "✗ 1a.hessian: failed, 0/10 points" in text
    assert "This looks like a known mistake, the ½ factor kept" in text
    assert repr(result) == text
    # only this check ran: the others are not in the result
    assert [c.id for c in result.checks] == ["1a.hessian"]


def test_random_initializers_get_the_batch_statistical_test(nb: Notebook, sheet3) -> None:
    """LeCun's 1/n for He is rejected by the engine's variance test and named; He passes."""

    def lecun(n_in, n_out, rng=None):
        return rng.normal(0.0, np.sqrt(1.0 / n_in), size=(n_out, n_in))

    wrong = nb.check("2a.he_init", {"he_init": lecun})
    assert not wrong.passed and wrong["2a.he_init"].cases[0].mistake == "LeCun's 1/n"
    assert "variance test rejects" in str(wrong)
    right = nb.check("2a.he_init", {"he_init": sheet3.reference.he_init})
    assert right.passed and right.score == 15
    assert "consistent with i.i.d. N(0" in right._repr_html_()


def test_a_missing_function_says_to_run_its_cell(nb: Notebook) -> None:
    result = nb.check("1c.center", {})
    assert result["1c.center"].status == "missing"
    assert "run the cell that defines it" in str(result)
    assert "? missing" in result._repr_html_()


def test_student_text_never_becomes_html(nb: Notebook) -> None:
    def tanh_init(n_in, n_out, rng=None):
        raise ValueError("<script>alert(1)</script>")

    result = nb.check("2b.tanh_init", {"tanh_init": tanh_init})
    html = result._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "raised ValueError" in str(result) and "in tanh_init, line" in str(result)


def test_a_function_that_changes_its_input_cannot_change_the_cases(nb: Notebook) -> None:
    def center(X):
        X -= X.mean(axis=0)
        return X

    first = nb.check("1c.center", {"center": center})
    assert first["1c.center"].cases[0].mistake == "centering in place"
    again = nb.check("1c.center", {"center": center})  # the same inputs, untouched
    assert str(again) == str(first)


def test_answers_come_back_as_plain_data_as_at_the_batch_boundary(nb: Notebook, correct) -> None:
    class Lying(np.ndarray):
        def __eq__(self, other):  # a subclass's methods are dropped on the way
            return True

    def hessian(X):
        return np.zeros((X.shape[1], X.shape[1])).view(Lying)

    result = nb.check("1a.hessian", {**correct, "hessian": hessian})
    assert not result.passed


def test_by_default_the_callers_own_functions_are_checked(nb: Notebook, correct) -> None:
    """In Jupyter the caller's globals are the notebook's variables."""
    namespace = {**correct, "nb": nb}
    exec("result = nb.check('1b.condition_number')", namespace)
    assert namespace["result"].passed
    exec("def condition_number(mu, sigma):\n    return 0.0\nresult = nb.check_all()", namespace)
    assert not namespace["result"].passed
    assert namespace["result"]["1b.condition_number"].status == "failed"


def test_manual_items_are_listed_without_a_check(nb: Notebook, correct) -> None:
    result = nb.check("2a.proof", correct)
    assert result["2a.proof"].status == "manual" and not result.passed
    assert "–/10" in str(result)
    assert "1b.derivation" in nb.checks and len(nb.checks) == 11


def test_an_unknown_check_id_lists_the_checks(nb: Notebook) -> None:
    with pytest.raises(ValueError, match=r"no check '1a.hesian'.*1a\.hessian"):
        nb.check("1a.hesian", {})


def test_the_bundle_beside_the_notebook_is_found(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, correct
) -> None:
    """Jupyter starts a kernel in the notebook's folder; Jupyter Server also names the
    notebook in JPY_SESSION_NAME, and VS Code in ``__vsc_ipynb_file__``."""
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "sheet3.public.json").write_bytes(bundle.read_bytes())
    monkeypatch.chdir(folder)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert Notebook().path == folder / "sheet3.public.json"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("JPY_SESSION_NAME", str(folder / "sheet3.ipynb"))
    assert Notebook().path == folder / "sheet3.public.json"
    monkeypatch.delenv("JPY_SESSION_NAME")
    namespace = {"Notebook": Notebook, "__vsc_ipynb_file__": str(folder / "sheet3.ipynb")}
    exec("found = Notebook().path", namespace)
    assert namespace["found"] == folder / "sheet3.public.json"
    # several bundles: the assignment (or the notebook's name) says which
    (folder / "sheet4.public.json").write_bytes(bundle.read_bytes())
    monkeypatch.chdir(folder)
    assert Notebook(assignment="sheet4").path == folder / "sheet4.public.json"
    assert "several public bundles" in Notebook().problem


def test_no_bundle_is_said_once_and_each_check_answers_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    nb = Notebook()
    err = capsys.readouterr().err
    assert err.count("no public bundle") == 1 and str(tmp_path) in err
    first, second = nb.check("1a.hessian", {}), nb.check_all({})
    assert capsys.readouterr().err == ""  # not printed again per check
    assert not first.passed and not second.passed and first.score == 0
    assert str(first).startswith("Not checked: the public bundle could not be loaded")
    assert len(str(first).splitlines()) == 1
    assert "Not checked" in first._repr_html_()


def test_a_broken_bundle_is_refused_with_its_name(tmp_path: Path) -> None:
    broken = tmp_path / "sheet3.public.json"
    broken.write_text("{ not json")
    nb = Notebook(broken)
    assert str(broken) in nb.problem and "not a readable public bundle" in nb.problem


def test_import_grader_stays_cheap() -> None:
    code = (
        "import sys, grader; "
        "print(sorted(m for m in ('numpy', 'nbformat', 'grader.selfcheck.notebook') "
        "if m in sys.modules)); "
        "from grader import Notebook; print('grader.selfcheck.notebook' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.split("\n")[:2] == ["[]", "True"]


@pytest.mark.parametrize("in_kernel, expected", [(False, "1"), (True, "None")])
def test_single_threaded_blas_is_set_for_the_grader_not_for_a_students_kernel(
    in_kernel: bool, expected: str
) -> None:
    code = (
        "import os, sys, types\n"
        "os.environ.pop('OPENBLAS_NUM_THREADS', None)\n"
        f"if {in_kernel}: sys.modules['ipykernel'] = types.ModuleType('ipykernel')\n"
        "import grader\n"
        "print(os.environ.get('OPENBLAS_NUM_THREADS'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == expected
