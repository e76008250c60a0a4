"""The load stage: finding submissions and reading notebooks, modules, folders and zips.

Nothing found is ever dropped: what cannot be read becomes a submission with a ``problem``
that names the file and says what to do.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import by_id, only, write_module, write_notebook

from grader.grading import grade_submission
from grader.load.discover import UsageError, discover, read_submission
from grader.load.notebook import read_notebook
from grader.selfcheck.cells import init_source, is_selfcheck_source

HESSIAN = """
import numpy as np

def hessian(X):
    return X.T @ X / X.shape[0]
"""
CENTER = """
def center(X):
    return X - X.mean(axis=0)
"""


def notebook_bytes(cells: list[nbformat.NotebookNode]) -> bytes:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = cells
    return nbformat.writes(notebook).encode()


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return path


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


# --- notebooks ------------------------------------------------------------------------------


def test_notebook_code_cells_are_read_in_order_and_markdown_is_not_code(tmp_path):
    notebook = notebook_bytes(
        [
            nbformat.v4.new_code_cell("a = 1"),
            nbformat.v4.new_markdown_cell("# Exercise 1\nsome *text*"),
            nbformat.v4.new_code_cell("b = a + 1"),
            nbformat.v4.new_raw_cell("raw text"),
            nbformat.v4.new_code_cell("c = b + 1"),
        ]
    )
    cells, answers = read_notebook(notebook, "student.ipynb")
    assert [cell.source for cell in cells] == ["a = 1", "b = a + 1", "c = b + 1"]
    assert [cell.index for cell in cells] == sorted(cell.index for cell in cells)
    assert answers == {}


def test_a_cell_that_raises_is_recorded_and_later_cells_still_run(tmp_path, plan):
    path = write_notebook(
        tmp_path,
        [
            HESSIAN,
            "raise ValueError('this cell is broken')",
            CENTER,
        ],
    )
    result = grade_submission(read_submission(path), only(plan, "1a.hessian", "1c.center"))
    checks = by_id(result)
    assert checks["1a.hessian"].status == "passed"
    assert checks["1c.center"].status == "passed"  # defined after the broken cell
    [(cell, error)] = result.log.cell_errors
    assert cell == 2 and error.startswith("ValueError: this cell is broken")


def test_a_missing_function_points_to_the_cell_that_raised(tmp_path, plan):
    path = write_notebook(
        tmp_path,
        [
            "import numpy as np\nH = np.eye(3)[5]\ndef hessian(X):\n    return X.T @ X / len(X)\n",
        ],
    )
    result = grade_submission(read_submission(path), only(plan, "1a.hessian"))
    check = by_id(result)["1a.hessian"]
    assert check.status == "missing" and check.score == 0
    assert re.search(r"[Cc]ell\D{0,12}1\b", check.feedback)  # it points to the broken cell


def test_ipython_magics_and_shell_lines_never_break_a_run(tmp_path, plan):
    path = write_notebook(
        tmp_path,
        [
            "%matplotlib inline\nimport numpy as np",
            "%%time\n" + HESSIAN,
            "%%bash\necho 'this is not Python'\nls -la",
            "!pip install some-package\nfiles = !ls\n%load_ext autoreload\n%autoreload 2",
            "x = !ls\n" + CENTER,
            "%%capture\nprint('quiet')",
            "for i in range(2):\n    %time y = i\n",
        ],
    )
    result = grade_submission(read_submission(path), only(plan, "1a.hessian", "1c.center"))
    assert result.log.cell_errors == ()
    assert {c.id: c.status for c in result.checks} == {
        "1a.hessian": "passed",
        "1c.center": "passed",
    }


def test_python_that_looks_like_a_magic_is_left_alone():
    """Black puts binary operators first on a continuation line: that is Python, not shell."""
    notebook = notebook_bytes(
        [
            nbformat.v4.new_code_cell(
                "def differs(a, b):\n    return (\n        a\n        != b\n    )\n"
                "def remainder(a, b):\n    return (\n        a\n        % b\n    )\n"
            )
        ]
    )
    [cell], _ = read_notebook(notebook, "student.ipynb")
    namespace: dict = {}
    exec(compile(cell.source, "<cell>", "exec"), namespace)
    assert namespace["differs"](1, 2) is True and namespace["remainder"](7, 4) == 3


def test_python_that_looks_like_a_magic_is_left_alone_next_to_a_real_magic():
    notebook = notebook_bytes(
        [
            nbformat.v4.new_code_cell(
                "%matplotlib inline\n"
                "def differs(a, b):\n    return (\n        a\n        != b\n    )\n"
            )
        ]
    )
    [cell], _ = read_notebook(notebook, "student.ipynb")
    namespace: dict = {}
    exec(compile(cell.source, "<cell>", "exec"), namespace)
    assert namespace["differs"](1, 2) is True


def test_a_cell_shared_by_many_notebooks_reads_the_same_and_deep_code_is_refused_each_time(
    tmp_path,
):
    """Each distinct cell is compiled once for the whole class; code too deep to compile is
    that notebook's problem every time it is met, never remembered as readable."""
    shared = "%matplotlib inline\nimport numpy as np\nx = np.ones(3)"
    deep = "x = " + "-" * 3000 + "1"  # short enough to be remembered, too deep to compile
    for number in range(3):
        data = notebook_bytes([nbformat.v4.new_code_cell(shared)])
        [cell], _ = read_notebook(data, "student.ipynb")
        assert cell.source == "pass\nimport numpy as np\nx = np.ones(3)"
        path = write_notebook(tmp_path, [deep], name=f"deep{number}.ipynb")
        problem = read_submission(path).problem or ""
        assert "nested too deeply" in problem, number


def test_written_answers_from_tagged_markdown_cells(tmp_path):
    answer = nbformat.v4.new_markdown_cell("The eigenvalues are σ² and σ² + ‖μ‖².")
    answer.metadata["tags"] = ["answer:1b.derivation"]
    other = nbformat.v4.new_markdown_cell("Centering helps the condition number.")
    other.metadata["tags"] = ["solution", "answer:1c.explanation"]
    cells, answers = read_notebook(
        notebook_bytes([nbformat.v4.new_code_cell("x = 1"), answer, other]), "s.ipynb"
    )
    assert answers == {
        "1b.derivation": "The eigenvalues are σ² and σ² + ‖μ‖².",
        "1c.explanation": "Centering helps the condition number.",
    }
    assert len(cells) == 1


def test_written_answers_from_the_marker_without_tags():
    answer = nbformat.v4.new_markdown_cell(
        "<!-- answer: 2a.proof -->\nBy induction: Var(z_{l+1}) = n · Var(w) · E[a_l²]."
    )
    _, answers = read_notebook(notebook_bytes([answer]), "s.ipynb")
    assert answers == {"2a.proof": "By induction: Var(z_{l+1}) = n · Var(w) · E[a_l²]."}


def test_written_answers_reach_the_manual_checks(tmp_path, plan):
    path = write_notebook(
        tmp_path, [HESSIAN], answers={"1b.derivation": "λ₁/λ_d = 1 + ‖μ‖²/σ² because ..."}
    )
    result = grade_submission(
        read_submission(path), only(plan, "1a.hessian", "1b.derivation", "2a.proof")
    )
    checks = by_id(result)
    assert checks["1b.derivation"].status == "manual"
    assert checks["1b.derivation"].answer == "λ₁/λ_d = 1 + ‖μ‖²/σ² because ..."
    assert checks["2a.proof"].status == "manual" and not checks["2a.proof"].answer
    assert "No written answer" in checks["2a.proof"].feedback


# --- modules, folders and zips ----------------------------------------------------------------


def test_a_module_is_one_cell_and_its_stem_is_the_student(tmp_path):
    path = write_module(tmp_path, HESSIAN, name="alice.py")
    [submission] = discover([path])
    assert submission.student == "alice" and submission.problem is None
    assert len(submission.cells) == 1 and "def hessian" in submission.cells[0].source


def test_a_folder_with_one_notebook_is_named_after_the_folder(tmp_path, plan):
    folder = tmp_path / "bob_smith"
    folder.mkdir()
    write_notebook(folder, [HESSIAN], name="Sheet3 (1).ipynb")
    (folder / "notes.txt").write_text("not code")
    (folder / ".ipynb_checkpoints").mkdir()
    write_notebook(folder / ".ipynb_checkpoints", ["x = 1"], name="Sheet3-checkpoint.ipynb")

    submission = read_submission(folder)
    assert submission.student == "bob_smith" and submission.problem is None
    assert "def hessian" in submission.cells[0].source
    [found] = discover([tmp_path])  # a folder of submission folders
    assert found.student == "bob_smith"
    assert by_id(grade_submission(found, only(plan, "1a.hessian")))["1a.hessian"].score == 10


def test_a_folder_with_two_notebooks_is_a_problem_naming_it(tmp_path):
    folder = tmp_path / "carol"
    folder.mkdir()
    write_notebook(folder, [HESSIAN], name="draft.ipynb")
    write_notebook(folder, [HESSIAN], name="final.ipynb")
    submission = read_submission(folder)
    assert submission.student == "carol"
    assert submission.problem is not None
    assert str(folder) in submission.problem
    assert "exactly one" in submission.problem
    assert "draft.ipynb" in submission.problem and "final.ipynb" in submission.problem


def test_a_zip_with_one_notebook_and_macos_junk(tmp_path):
    notebook = write_notebook(tmp_path, [HESSIAN]).read_bytes()
    path = make_zip(
        tmp_path / "dave.zip",
        {
            "sheet3/student.ipynb": notebook,
            "__MACOSX/sheet3/._student.ipynb": b"\x00\x05\x16\x07 resource fork",
            "sheet3/.DS_Store": b"\x00\x00\x00\x01Bud1",
        },
    )
    [submission] = discover([path])
    assert submission.student == "dave" and submission.problem is None
    assert "def hessian" in submission.cells[0].source


EVIL = {"../evil.py": b"import os\nos.system('touch /tmp/pwned')\n"}


@pytest.mark.parametrize("with_notebook", [False, True], ids=["alone", "with-a-notebook"])
def test_a_zip_member_pointing_outside_is_never_written_nor_run(tmp_path, with_notebook):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    members = dict(EVIL)
    if with_notebook:
        members["student.ipynb"] = write_notebook(tmp_path, [HESSIAN]).read_bytes()
    path = make_zip(inbox / "eve.zip", members)
    before = files_under(tmp_path)

    submissions = list(discover([path]))

    assert files_under(tmp_path) == before
    assert not (tmp_path / "evil.py").exists() and not (inbox / "evil.py").exists()
    assert submissions
    assert not any("pwned" in cell.source for s in submissions for cell in s.cells)


@pytest.mark.parametrize("with_notebook", [False, True], ids=["alone", "with-a-notebook"])
def test_a_zip_member_pointing_outside_is_refused_with_a_problem(tmp_path, with_notebook):
    members = dict(EVIL)
    if with_notebook:
        members["student.ipynb"] = write_notebook(tmp_path, [HESSIAN]).read_bytes()
    path = make_zip(tmp_path / "eve.zip", members)
    submissions = list(discover([path]))
    assert submissions and all(s.problem for s in submissions)
    assert all("../evil.py" in s.problem and "outside" in s.problem for s in submissions)


def test_a_zip_member_with_an_absolute_path_is_refused_with_a_problem(tmp_path):
    notebook = write_notebook(tmp_path, [HESSIAN]).read_bytes()
    path = make_zip(tmp_path / "eve.zip", {"/etc/evil.py": b"x = 1", "student.ipynb": notebook})
    before = files_under(tmp_path)
    submissions = list(discover([path]))
    assert files_under(tmp_path) == before
    assert submissions and all(s.problem and s.cells == () for s in submissions)
    assert any("/etc/evil.py" in s.problem and "outside" in s.problem for s in submissions)


def test_a_bulk_zip_gives_one_submission_per_notebook_named_by_stem(tmp_path):
    members = {
        f"{name}.ipynb": write_notebook(tmp_path, [HESSIAN], name=f"{name}.ipynb").read_bytes()
        for name in ("alice", "bob", "carol")
    }
    members["__MACOSX/._alice.ipynb"] = b"junk"
    members["dave.py"] = HESSIAN.encode()
    path = make_zip(tmp_path / "submissions.zip", members)
    submissions = sorted(discover([path]), key=lambda s: s.student)
    assert [s.student for s in submissions] == ["alice", "bob", "carol", "dave"]
    assert all(s.problem is None and "def hessian" in s.cells[0].source for s in submissions)
    assert all(str(path) in str(s.path) for s in submissions)


def test_a_corrupt_notebook_is_a_problem_saying_what_to_do(tmp_path, plan):
    path = tmp_path / "frank.ipynb"
    path.write_text('{"cells": [{"cell_type": "code", "source": "x = 1"', encoding="utf-8")
    [submission] = discover([path])
    assert submission.student == "frank"
    assert str(path) in submission.problem
    assert "notebook" in submission.problem and "save it again" in submission.problem
    result = grade_submission(submission, only(plan, "1a.hessian", "1b.derivation"))
    checks = by_id(result)
    assert checks["1a.hessian"].status == "error" and checks["1a.hessian"].score == 0
    assert str(path) in checks["1a.hessian"].feedback
    assert checks["1b.derivation"].status == "manual"


def test_a_word_document_is_a_problem_saying_what_to_submit(tmp_path):
    path = tmp_path / "grace.docx"
    path.write_bytes(b"PK\x03\x04 a word document")
    [submission] = discover([path])
    assert submission.student == "grace"
    assert str(path) in submission.problem
    assert ".docx" in submission.problem and ".ipynb" in submission.problem


def test_a_notebook_that_is_json_but_not_a_valid_notebook_is_a_problem(tmp_path):
    path = tmp_path / "heidi.ipynb"
    cell = {"id": "c1", "cell_type": "code", "source": 5, "metadata": {}, "outputs": []}
    cell["execution_count"] = None
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}
    path.write_text(json.dumps(notebook), encoding="utf-8")
    [submission] = discover([path])
    assert submission.problem and str(path) in submission.problem


def test_a_source_line_that_is_not_text_is_a_problem_too(tmp_path):
    """A source list holding a number is not read as plain JSON: nbformat explains it."""
    path = tmp_path / "ivan.ipynb"
    cell = {"id": "c1", "cell_type": "code", "source": ["x = 1\n", 2], "metadata": {}}
    cell.update(outputs=[], execution_count=None)
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}
    path.write_text(json.dumps(notebook), encoding="utf-8")
    [submission] = discover([path])
    assert submission.problem and str(path) in submission.problem


@pytest.mark.parametrize(
    ("source", "dropped"),
    [
        (init_source("sheet3"), True),
        ("# check it\n\nnb.check('1a')\n", True),
        ("nb.check('1a')\nprint('mine')", False),  # the student's own line after a check
        ("def f():\n    return 1\nnb.check('1a')", False),
        ("# only a comment\n", False),
        ("", False),
    ],
)
def test_only_a_cell_of_nothing_but_self_checks_is_left_out(source, dropped):
    assert is_selfcheck_source(source, {"nb"}) is dropped


def test_discover_refuses_a_missing_path(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        list(discover([tmp_path / "nowhere.ipynb"]))


def test_hidden_files_and_folders_are_ignored(tmp_path):
    write_notebook(tmp_path, [HESSIAN], name="alice.ipynb")
    write_notebook(tmp_path, [HESSIAN], name=".alice-backup.ipynb")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    write_notebook(tmp_path / ".ipynb_checkpoints", [HESSIAN], name="alice-checkpoint.ipynb")
    (tmp_path / "__MACOSX").mkdir()
    [submission] = discover([tmp_path])
    assert submission.student == "alice"


def test_discover_is_in_a_stable_order(tmp_path):
    for name in ("zoe", "adam", "mia"):
        write_module(tmp_path, HESSIAN, name=f"{name}.py")
    assert [s.student for s in discover([tmp_path])] == ["adam", "mia", "zoe"]
