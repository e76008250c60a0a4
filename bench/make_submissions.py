"""Generate N sheet3 notebook submissions for the benchmark, deterministically from a seed.

The example notebooks in ``submissions/`` are the templates:

- ``alice.ipynb``: everything right (about 60% of the class);
- ``bob.ipynb``, ``carol.ipynb`` and the notebook inside ``frank.zip``: the typical mistakes
  (the ½ kept, the noise left out, the ratio inverted, one overall mean, LeCun's 1/n, the
  activations' variance, a sum instead of a mean, the ½ left out, std as variance), shared
  equally among the rest;
- ``dave.ipynb``: a broken notebook (a cell with a syntax error, a stub that raises, functions
  missing), one in 50.

Every generated notebook is a variation of its template, so that no two have the same bytes
and a grader cannot get away with grading one representative per template:

- a correct student's function cells are, each with some probability, replaced by another
  correct implementation taken from the other templates or the master solution;
- a student with mistakes keeps each of the template's wrong functions with probability 0.7
  (at least one) and has the others replaced by a correct implementation;
- local variables of the function cells are renamed (tokenize-based, so strings, comments,
  attributes and keyword arguments are left alone);
- a comment line is added to one function body, and a harmless cell (a comment, a print, a
  small numpy sanity check) naming the student is inserted after the imports.

Student ``i`` of a run is a function of (seed, i) only; which template student ``i`` gets is a
function of (seed, N), with exact quotas (60% correct, 1 in 50 broken, the rest split evenly).

The templates' own exploration cells stay in by default (alice's 200,000-sample Hessian check,
her 20-layer networks, frank's Monte Carlo check, bob's ``!pip install numpy``). With
``--light`` the same students are generated (same seed, same random draws, same function
cells, same mistakes) and then every code cell is dropped except

- the function cells (tagged ``metadata.grader.check``) and any other cell that defines a
  graded function by name (dave's cell with a syntax error, ``def hessian(X)`` without colon);
- the import cells (only ``import`` statements, comments and ``%``/``!`` lines, with at least
  one import: alice's ``import numpy as np`` + ``%matplotlib inline`` is kept as it is);
- the generated cell naming the student (so that no two notebooks have the same code);

markdown cells (the written answers among them) all stay. The kept cells are byte-identical to
those of the full variant: a light notebook is the full one minus its exploration cells.

Usage::

    python bench/make_submissions.py OUTDIR --n 100 --seed 0 [--manifest FILE] [--light]

writes ``OUTDIR/student0001.ipynb`` ... and, with ``--manifest``, a JSON list saying for each
student which template it came from, which wrong functions it kept and the automatic score
(out of 76) a correct grader gives it.
"""

from __future__ import annotations

import argparse
import ast
import copy
import io
import json
import random
import re
import sys
import tokenize
import zipfile
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "submissions"
MASTER = REPO / "reference" / "sheet3_master.ipynb"

# Points of the automatically checked items (rubrics/sheet3.yaml).
POINTS = {
    "1a.hessian": 10,
    "1a.hessian_gaussian": 10,
    "1b.condition_number": 12,
    "1c.center": 4,
    "1c.centered_min_error": 5,
    "2a.he_init": 15,
    "2a.preactivation_variances": 10,
    "2b.tanh_init": 10,
}
AUTO_TOTAL = sum(POINTS.values())  # 76
# The graded functions' names: "1a.hessian" -> "hessian", ...
GRADED_NAMES = {check.split(".", 1)[1] for check in POINTS}

# What is wrong in each template (as `grader grade submissions/` finds it).
WRONG = {
    "alice": set(),
    "bob": {"1a.hessian", "1c.centered_min_error"},
    "carol": {
        "1b.condition_number",
        "1c.center",
        "2a.he_init",
        "2a.preactivation_variances",
    },
    "frank": {"1a.hessian", "1c.centered_min_error", "2a.he_init"},
    # dave: a syntax error cell, a stub, a ZeroDivisionError, two functions missing,
    # Glorot's variance and a transposed shape: only hessian and the variances are right.
    "dave": set(POINTS) - {"1a.hessian", "2a.preactivation_variances"},
}
MISTAKE_TEMPLATES = ("bob", "carol", "frank")

CORRECT_SHARE = 0.6
BROKEN_EVERY = 50
P_SWAP_CORRECT = 0.4  # a correct student's function comes from another template
P_KEEP_MISTAKE = 0.7  # a mistake of the template is kept
P_RENAME = 0.5  # each local variable of a function cell is renamed

SUFFIXES = ("_", "2", "_val", "_tmp", "_arr", "_new")
PREFIXES = ("my_", "the_", "tmp_")
BODY_COMMENTS = (
    "# checked against the lecture notes",
    "# vectorised, no python loops",
    "# TODO: double-check the shapes",
    "# see the exercise sheet for the formula",
    "# works for any d",
    "# (rewrote this after the tutorial)",
)


def extra_cell(student: str, rnd: random.Random) -> str:
    """A harmless code cell that names the student (so every notebook's bytes differ)."""
    choices = (
        f"# {student}: scratch cell, notes to self\n# re-run all cells before submitting",
        f'print("{student}: all cells ran")',
        f"np.set_printoptions(precision=4, suppress=True)  # {student}",
        f"_check = np.arange(6.0).reshape(3, 2)  # {student}\nprint(_check.T @ _check)",
        f"# {student}\nprint(np.__version__)",
    )
    return rnd.choice(choices)


# ---------------------------------------------------------------------------- templates


def _read_templates() -> dict[str, nbformat.NotebookNode]:
    templates = {
        name: nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
        for name in ("alice", "bob", "carol", "dave")
    }
    with zipfile.ZipFile(EXAMPLES / "frank.zip") as archive:
        (member,) = [n for n in archive.namelist() if n.endswith(".ipynb") and "__MACOSX" not in n]
        templates["frank"] = nbformat.reads(archive.read(member).decode("utf-8"), as_version=4)
    return templates


def check_of(cell) -> str | None:
    """The check id a cell is tagged with (``metadata.grader.check``), if any."""
    return (cell.get("metadata", {}).get("grader") or {}).get("check")


def _strip_solution_markers(source: str) -> str:
    return "\n".join(
        line for line in source.splitlines() if not re.search(r"### (BEGIN|END) SOLUTION", line)
    )


def correct_pool(templates: dict[str, nbformat.NotebookNode]) -> dict[str, list[str]]:
    """Every correct implementation of each function among the templates and the master."""
    pool: dict[str, list[str]] = {check: [] for check in POINTS}
    master = nbformat.read(MASTER, as_version=4)
    for cell in master.cells:
        if cell.cell_type == "code" and check_of(cell) in POINTS:
            pool[check_of(cell)].append(_strip_solution_markers(cell.source))
    for name, nb in sorted(templates.items()):
        for cell in nb.cells:
            check = check_of(cell)
            if cell.cell_type == "code" and check in POINTS and check not in WRONG[name]:
                if cell.source not in pool[check]:
                    pool[check].append(cell.source)
    return pool


# ---------------------------------------------------------------------------- variations


def rename_locals(source: str, rnd: random.Random, p: float = P_RENAME) -> str:
    """Rename some local variables of the functions defined in ``source``.

    Only names assigned inside a function body are renamed (never parameters, globals,
    attributes after a dot, or names also used as keyword arguments); every NAME token of
    that name in the cell is replaced, so uses stay consistent.
    """
    try:
        tree = ast.parse(source)
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (SyntaxError, tokenize.TokenError, IndentationError):
        return source
    params: set[str] = set()
    stored: set[str] = set()
    keywords: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.Lambda)):
            for arg in node.args.args + node.args.kwonlyargs + node.args.posonlyargs:
                params.add(arg.arg)
        if isinstance(node, ast.FunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
                    stored.add(inner.id)
        if isinstance(node, ast.keyword) and node.arg:
            keywords.add(node.arg)
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            params.update(node.names)
    taken = {t.string for t in tokens if t.type == tokenize.NAME}
    mapping: dict[str, str] = {}
    for name in sorted(stored - params - keywords):
        if rnd.random() >= p:
            continue
        candidates = [name + s for s in SUFFIXES] + [p_ + name for p_ in PREFIXES]
        rnd.shuffle(candidates)
        for new in candidates:
            if new not in taken and new.isidentifier():
                mapping[name] = new
                taken.add(new)
                break
    if not mapping:
        return source
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, int, str]] = []
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.NAME or tok.string not in mapping:
            continue
        if i > 0 and tokens[i - 1].type == tokenize.OP and tokens[i - 1].string == ".":
            continue
        edits.append((tok.start[0], tok.start[1], tok.end[1], mapping[tok.string]))
    for row, start, end, new in sorted(edits, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + new + line[end:]
    renamed = "".join(lines)
    try:
        ast.parse(renamed)
    except SyntaxError:  # should not happen; keep the original rather than break it
        return source
    return renamed


def add_body_comment(source: str, rnd: random.Random) -> str:
    """Insert a comment line before the first statement after a function's docstring."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    if not funcs:
        return source
    body = funcs[0].body
    first = body[0]
    if (
        len(body) > 1
        and isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        first = body[1]
    lines = source.splitlines(keepends=True)
    indent = " " * first.col_offset
    lines.insert(first.lineno - 1, f"{indent}{rnd.choice(BODY_COMMENTS)}\n")
    return "".join(lines)


# ---------------------------------------------------------------------------- --light


def _python_lines(source: str) -> str:
    """``source`` without IPython ``%magic`` and ``!shell`` lines."""
    return "\n".join(
        line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
    )


def defines_graded_function(source: str) -> bool:
    """Does the cell define one of the graded functions (also when it does not parse)?"""
    code = _python_lines(source)
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return any(m.group(1) in GRADED_NAMES for m in re.finditer(r"^\s*def\s+(\w+)", code, re.M))
    return any(
        isinstance(node, ast.FunctionDef) and node.name in GRADED_NAMES for node in tree.body
    )


def imports_only(source: str) -> bool:
    """Only import statements (plus comments and %/! lines), at least one of them."""
    try:
        tree = ast.parse(_python_lines(source))
    except SyntaxError:
        return False
    return bool(tree.body) and all(
        isinstance(node, (ast.Import, ast.ImportFrom)) for node in tree.body
    )


def keep_light(cell, keep: tuple = ()) -> bool:
    """Whether ``--light`` keeps the cell (see the module doc); ``keep``: cells kept anyway."""
    if cell.cell_type != "code" or any(cell is k for k in keep):
        return True
    if check_of(cell) in POINTS:
        return True
    return defines_graded_function(cell.source) or imports_only(cell.source)


# ---------------------------------------------------------------------------- generation


def assign_templates(n: int, seed: int) -> list[str]:
    """Exact quotas, shuffled by the seed: 60% correct, 1 in 50 broken, the rest mistakes."""
    broken = n // BROKEN_EVERY
    correct = round(CORRECT_SHARE * n)
    correct = min(correct, n - broken)
    rest = n - broken - correct
    kinds = ["dave"] * broken + ["alice"] * correct
    kinds += [MISTAKE_TEMPLATES[i % len(MISTAKE_TEMPLATES)] for i in range(rest)]
    random.Random(f"templates:{seed}:{n}").shuffle(kinds)
    return kinds


def make_student(
    index: int,
    student: str,
    template: str,
    templates: dict[str, nbformat.NotebookNode],
    pool: dict[str, list[str]],
    seed: int,
    light: bool = False,
) -> tuple[nbformat.NotebookNode, dict]:
    rnd = random.Random(f"student:{seed}:{index}")
    nb = copy.deepcopy(templates[template])
    wrong = sorted(WRONG[template])
    if template in MISTAKE_TEMPLATES:
        kept = [c for c in wrong if rnd.random() < P_KEEP_MISTAKE] or [rnd.choice(wrong)]
    else:
        kept = wrong
    fixed = set(wrong) - set(kept)
    func_cells = [c for c in nb.cells if c.cell_type == "code" and check_of(c) in POINTS]
    for cell in func_cells:
        check = check_of(cell)
        if template == "dave":
            pass  # broken as it is: only cosmetic changes below
        elif check in fixed or (
            check not in WRONG[template] and template == "alice" and rnd.random() < P_SWAP_CORRECT
        ):
            cell.source = rnd.choice(pool[check])
        cell.source = rename_locals(cell.source, rnd)
    if func_cells:
        target = rnd.choice(func_cells)
        target.source = add_body_comment(target.source, rnd)
    # A harmless cell that names the student, somewhere after the first code cell (imports).
    code_idx = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    first = code_idx[0] if code_idx else -1
    position = rnd.randint(first + 1, len(nb.cells))
    named = nbformat.v4.new_code_cell(extra_cell(student, rnd))
    nb.cells.insert(position, named)
    for cell in nb.cells:  # fresh ids (nbformat 4.5), unique per notebook
        if "id" in cell:
            cell["id"] = f"{rnd.getrandbits(64):016x}"
    dropped = 0
    if light:  # after every random draw: the same student, minus the exploration cells
        kept_cells = [c for c in nb.cells if keep_light(c, keep=(named,))]
        dropped = len(nb.cells) - len(kept_cells)
        nb.cells = kept_cells
    lost = sum(POINTS[c] for c in kept)
    info = {
        "student": student,
        "template": template,
        "wrong": kept,
        "expected_auto_score": AUTO_TOTAL - lost,
    }
    if light:
        info["dropped_cells"] = dropped
    return nb, info


def generate(out: Path, n: int, seed: int = 0, light: bool = False) -> list[dict]:
    """Write ``n`` notebooks into ``out`` (created; existing student*.ipynb are replaced).

    ``light``: drop the students' exploration cells (see the module doc).
    """
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("student*.ipynb"):
        old.unlink()
    templates = _read_templates()
    pool = correct_pool(templates)
    width = max(4, len(str(n)))
    manifest = []
    for index, template in enumerate(assign_templates(n, seed), start=1):
        student = f"student{index:0{width}d}"
        nb, info = make_student(index, student, template, templates, pool, seed, light)
        nbformat.write(nb, out / f"{student}.ipynb")
        manifest.append(info)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the notebooks into")
    parser.add_argument("--n", type=int, default=100, help="number of submissions (100)")
    parser.add_argument("--seed", type=int, default=0, help="seed (0)")
    parser.add_argument("--manifest", type=Path, help="write the per-student JSON here")
    parser.add_argument(
        "--light",
        action="store_true",
        help="keep only the function, import and markdown cells (no exploration cells)",
    )
    args = parser.parse_args(argv)
    manifest = generate(args.out, args.n, args.seed, args.light)
    if args.manifest:
        args.manifest.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    counts: dict[str, int] = {}
    for info in manifest:
        counts[info["template"]] = counts.get(info["template"], 0) + 1
    print(
        f"wrote {len(manifest)} {'light ' if args.light else ''}notebooks to {args.out}: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
