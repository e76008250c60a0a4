"""The child runs next to student code with only its own files copied in
(grader/run/launch.py CHILD_FILES): those import only the standard library and NumPy, so
nothing of the grader's dependencies is reachable from the student's process."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from grader.run.launch import CHILD_FILES

RUN = Path(__file__).resolve().parents[1] / "grader" / "run"
SIBLINGS = {Path(name).stem for name in CHILD_FILES}


def _type_checking_only(tree: ast.Module) -> set[ast.AST]:
    """The import statements under ``if TYPE_CHECKING:``, which never run (mypy's view of
    the siblings as grader.run modules): each may name only a sibling, as grader.run.NAME."""
    found: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom), ast.unparse(statement)
                assert statement.module == "grader.run", ast.unparse(statement)
                assert {alias.name for alias in statement.names} <= SIBLINGS
                found.add(statement)
    return found


def _imported(path: Path) -> set[str]:
    names = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names - {"__future__"}


def test_the_childs_files_name_only_the_standard_library_and_numpy() -> None:
    for name in CHILD_FILES:
        outside = _imported(RUN / name) - set(sys.stdlib_module_names) - SIBLINGS - {"numpy"}
        assert not outside, f"{name} imports {sorted(outside)}"


def test_importing_the_child_loads_nothing_else() -> None:
    """As the sandbox starts it (-E -s, its folder first on the path): every module that
    importing it loads is the standard library's, NumPy's or the child's own."""
    probe = (
        "import sys, json; before = set(sys.modules); sys.path.insert(0, sys.argv[1]); "
        "import child; "
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))"
    )
    out = subprocess.run(
        [sys.executable, "-E", "-s", "-c", probe, str(RUN)],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    ).stdout
    loaded = set(json.loads(out))
    assert "grader" not in loaded and SIBLINGS <= loaded
    others = loaded - set(sys.stdlib_module_names) - SIBLINGS - {"numpy", "cython_runtime"}
    assert not {m for m in others if not m.startswith("_")}, sorted(others)  # _ctypes, ...
