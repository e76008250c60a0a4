"""``grader release`` as a student receives it: the notebook with its check cells, the bundle,
the grader's wheel and the README; the wheel installed in a fresh virtual environment (no
course checkout, no editable install to see), the notebook executed in a real kernel there.

The kernel is ipykernel driven by nbclient (https://github.com/jupyter/nbclient,
``nbclient/client.py``: ``NotebookClient(nb, km=...)`` runs the cells in the folder given as
``resources["metadata"]["path"]``), the kernel started from a kernelspec whose ``argv`` is the
venv's Python (jupyter_client, ``jupyter_client/kernelspec.py``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader.cli import main
from grader.handout import install_line
from grader.load.notebook import read_notebook
from grader.selfcheck.cells import TAG
from tests.conftest import ROOT

KERNEL = "grader-handout"
MASTER = ROOT / "reference" / "sheet3_master.ipynb"


@pytest.fixture(scope="session")
def handout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("handout")
    assert main(["release", "sheet3", "--out", str(out), "--course", str(ROOT)]) == 0
    return out


@pytest.fixture(scope="session")
def wheel(handout: Path) -> Path:
    (found,) = handout.glob("*.whl")
    return found


@pytest.fixture(scope="session")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment (not --system-site-packages) with only the handout's wheel
    and ipykernel installed, from the package index like a student's."""
    root = tmp_path_factory.mktemp("student") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
    done = subprocess.run(
        [str(root / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile"]
        + ["--disable-pip-version-check", str(wheel), "ipykernel"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return root


@pytest.fixture(scope="session")
def kernels(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kernelspec running the venv's Python in isolated mode (-I: no PYTHONPATH, so the
    kernel cannot reach this checkout)."""
    folder = tmp_path_factory.mktemp("kernels")
    (folder / KERNEL).mkdir()
    spec = {
        "argv": [str(venv / "bin" / "python"), "-I", "-m", "ipykernel_launcher"]
        + ["-f", "{connection_file}"],
        "display_name": "student venv",
        "language": "python",
    }
    (folder / KERNEL / "kernel.json").write_text(json.dumps(spec))
    return folder


def solved(handout: Path, wrong: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """The released notebook with each stub replaced by the master's solution (or by the
    source given in ``wrong`` for that function), and a last cell that reports the result."""
    master = nbformat.read(MASTER, as_version=4)
    solutions = {}
    for cell in master.cells:
        match = re.search(r"^def (\w+)\(", cell.source, re.MULTILINE)
        if cell.cell_type == "code" and match:
            solutions[match.group(1)] = cell.source
    notebook = nbformat.read(handout / "sheet3.ipynb", as_version=4)
    for cell in notebook.cells:
        match = re.search(r"^def (\w+)\(", cell.source, re.MULTILINE)
        if cell.cell_type == "code" and match and "NotImplementedError" in cell.source:
            cell.source = (wrong or {}).get(match.group(1), solutions[match.group(1)])
    notebook.cells.append(
        nbformat.v4.new_code_cell(
            "import grader\n"
            "result = nb.check_all()\n"
            "print('RESULT', result.passed, result.score, grader.__file__)\n"
            "result"
        )
    )
    return notebook


def execute(notebook: nbformat.NotebookNode, folder: Path, kernels: Path):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    manager = KernelManager(
        kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)])
    )
    client = NotebookClient(
        notebook, km=manager, timeout=120, resources={"metadata": {"path": str(folder)}}
    )
    client.execute()
    return notebook


def check_outputs(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """The HTML each check cell displayed, by check id."""
    shown = {}
    for cell in notebook.cells:
        match = re.fullmatch(r'nb\.check\("([\w.]+)"\)', cell.source.strip())
        if match:
            (output,) = [o for o in cell.outputs if o.output_type == "execute_result"]
            shown[match.group(1)] = output.data["text/html"]
    return shown


def last_print(notebook: nbformat.NotebookNode) -> list[str]:
    (stream,) = [o for o in notebook.cells[-1].outputs if o.output_type == "stream"]
    return stream.text.split()


def test_the_released_notebook_runs_its_checks_in_a_fresh_venv(
    handout: Path, venv: Path, kernels: Path
) -> None:
    notebook = execute(solved(handout), handout, kernels)
    shown = check_outputs(notebook)
    assert len(shown) == 8  # one check cell per automatic check
    for check_id, html in shown.items():
        assert f"<strong>{check_id}</strong>" in html and "✓ passed" in html, check_id
    _, passed, score, grader_file = last_print(notebook)
    assert (passed, score) == ("True", "76.0")
    assert grader_file.startswith(str(venv))  # the wheel's grader, not this checkout's
    html = notebook.cells[-1].outputs[-1].data["text/html"]
    assert "8 of 8 checks pass on the public cases (76/76 points)" in html


def test_a_known_mistake_is_shown_in_its_check_cell(
    handout: Path, venv: Path, kernels: Path
) -> None:
    half = "def hessian(X):\n    return X.T @ X / X.shape[0] / 2\n"
    notebook = execute(solved(handout, {"hessian": half}), handout, kernels)
    shown = check_outputs(notebook)
    assert "✗ failed" in shown["1a.hessian"]
    assert "known mistake: the ½ factor kept" in shown["1a.hessian"]
    assert "This looks like a known mistake, the ½ factor kept" in shown["1a.hessian"]
    assert all("✓ passed" in html for cid, html in shown.items() if cid != "1a.hessian")
    _, passed, score, _ = last_print(notebook)
    assert (passed, score) == ("False", "66.0")


def test_grader_check_from_the_venv_passes_the_solved_notebook(
    handout: Path, venv: Path, tmp_path: Path
) -> None:
    """The terminal self-check of the handout, with the wheel's own `grader` command."""
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "sheet3.public.json").write_bytes((handout / "sheet3.public.json").read_bytes())
    nbformat.write(solved(handout), folder / "mine.ipynb")
    done = subprocess.run(
        [str(venv / "bin" / "grader"), "check", "mine.ipynb"],
        cwd=folder,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 of 8 checks pass on the public cases" in done.stdout
    assert "Warning" not in done.stderr


def test_the_handout_holds_the_four_files(handout: Path, wheel: Path) -> None:
    names = sorted(p.name for p in handout.iterdir())
    assert names == ["README.md", wheel.name, "sheet3.ipynb", "sheet3.public.json"]
    assert wheel.name.startswith("numgrader-")  # `grader` on the public index is another project


def test_the_wheel_holds_the_engine_and_no_course_material(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        text = b"".join(archive.read(n) for n in names if n.endswith(".py")).decode()
    assert "grader/selfcheck/notebook.py" in names and "grader/cli.py" in names
    assert all(n.startswith("grader/") or ".dist-info/" in n for n in names)
    assert not any("rubrics" in n or "reference" in n or n.endswith(".ipynb") for n in names)
    assert "hessian_half" not in text and "def he_init" not in text  # no reference code


def test_the_notebook_has_a_first_cell_and_a_check_cell_after_each_exercise(
    handout: Path,
) -> None:
    notebook = nbformat.read(handout / "sheet3.ipynb", as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "code" and TAG in first.metadata["tags"]
    assert "from grader import Notebook" in first.source
    assert 'nb = Notebook(assignment="sheet3")' in first.source
    checks = [
        (i, c.source) for i, c in enumerate(notebook.cells) if c.source.startswith("nb.check(")
    ]
    assert [s for _, s in checks] == [
        f'nb.check("{cid}")'
        for cid in (
            "1a.hessian",
            "1a.hessian_gaussian",
            "1b.condition_number",
            "1c.center",
            "1c.centered_min_error",
            "2a.he_init",
            "2a.preactivation_variances",
            "2b.tanh_init",
        )
    ]
    for index, source in checks:  # right after the cell that defines the function
        function = {"2a.he_init": "he_init"}.get(source[10:-2], source[10:-2].split(".")[1])
        assert f"def {function}(" in notebook.cells[index - 1].source


def test_self_check_cells_are_not_run_when_graded(handout: Path) -> None:
    data = (handout / "sheet3.ipynb").read_bytes()
    cells, _ = read_notebook(data, "sheet3.ipynb")
    sources = [c.source for c in cells]
    assert not any("Notebook" in s or "nb.check" in s for s in sources)
    assert cells[0].index == 2  # numbered as in the notebook: the init cell is code cell 1
    # a student's own cell that merely looks alike is run
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("model.check(x)"),
        nbformat.v4.new_code_cell("nb = Notebook()\nnb.check('a')\nprint(1)"),
    ]
    cells, _ = read_notebook(nbformat.writes(notebook).encode(), "x.ipynb")
    assert [c.index for c in cells] == [1, 2]


def test_the_placeholder_of_an_answer_cell_is_no_answer(handout: Path) -> None:
    notebook = nbformat.read(handout / "sheet3.ipynb", as_version=4)
    _, answers = read_notebook(nbformat.writes(notebook).encode(), "sheet3.ipynb")
    assert answers == {}  # as released: every answer cell holds only the placeholder
    for cell in notebook.cells:
        if "answer:2a.proof" in cell.metadata.get("tags", []):
            cell.source += "\n\nBy induction on l: Var z = 2 E[a²] = Var z_prev."
    _, answers = read_notebook(nbformat.writes(notebook).encode(), "sheet3.ipynb")
    assert answers == {"2a.proof": "By induction on l: Var z = 2 E[a²] = Var z_prev."}


def test_grader_check_says_a_load_error_once(
    handout: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook = nbformat.read(handout / "sheet3.ipynb", as_version=4)
    notebook.cells.insert(1, nbformat.v4.new_code_cell("import os\nos._exit(3)"))
    path = tmp_path / "crash.ipynb"
    nbformat.write(notebook, path)
    bundle = str(handout / "sheet3.public.json")
    assert main(["check", str(path), "--bundle", bundle, "--sandbox", "process"]) == 1
    out = " ".join(capsys.readouterr().out.split())  # as one line, whatever the terminal width
    assert out.count("could not be loaded") == 1
    assert "exited (code 3)" in out or "killed by signal" in out


def test_nbformat_warnings_do_not_reach_the_student(
    handout: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A notebook saved without cell ids (nbformat 4.4 style in a 4.5 file) makes nbformat
    warn (MissingIDFieldWarning); the self-check keeps that to itself."""
    data = json.loads((handout / "sheet3.ipynb").read_text())
    for cell in data["cells"]:
        cell.pop("id", None)
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(data))
    bundle = str(handout / "sheet3.public.json")
    code = (
        "import sys; from grader.cli import main; "
        f"sys.exit(main(['check', {str(path)!r}, '--bundle', {bundle!r}]))"
    )
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 1  # stubs only
    assert "Warning" not in done.stderr, done.stderr


def test_the_readme_for_students_installs_the_handouts_wheel(handout: Path, wheel: Path) -> None:
    handout_readme = (handout / "README.md").read_text()
    line = install_line(wheel)
    assert line in handout_readme
    for words in ("grader check sheet3.ipynb", 'nb.check("1a.hessian")', "hidden", "at most 1e-06"):
        assert words in handout_readme
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## For students", 1)[1]
    first_code = section.split("```sh\n", 1)[1].split("\n", 1)[0]
    assert first_code == line  # the project README's student section starts with it


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "submissions").glob("*.ipynb")))
def test_a_notebook_read_as_plain_json_gives_what_nbformat_gives(name: str) -> None:
    """The fast path of the loader (no nbformat import, no schema validation) must read a
    well-formed notebook exactly as nbformat does."""
    from grader.load.notebook import _nbformat_cells, _plain_cells

    data = (ROOT / "submissions" / name).read_bytes()
    plain = _plain_cells(data)
    assert plain is not None
    slow = _nbformat_cells(data, name)
    assert [(c["cell_type"], c["source"], c["metadata"].get("tags")) for c in plain] == [
        (c.cell_type, c.source, c.metadata.get("tags")) for c in slow
    ]
