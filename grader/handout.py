"""What ``grader release`` hands students besides the notebook and the bundle: a wheel of the
grader (built from this checkout, engine only: no rubric, no reference) and a short README."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from grader.errors import UserError

if TYPE_CHECKING:
    from grader.grading import Plan

CHECKOUT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE")


class HandoutError(UserError):
    """The wheel could not be built, or would hold more than the engine."""


def build_wheel(out: Path, checkout: Path = CHECKOUT) -> Path:
    """Build the grader's wheel from ``checkout`` into ``out`` and return its path. Only the
    ``grader`` package and the project's metadata are copied to the build, so no rubric,
    reference or submission can end up inside; the wheel is checked for that afterwards."""
    if not (checkout / "pyproject.toml").is_file() or not (checkout / "grader").is_dir():
        raise HandoutError(
            f"{checkout}: not a checkout of the grader (no pyproject.toml beside grader/), so "
            "no wheel can be built; run `grader release` from a clone, or pass --no-wheel"
        )
    with tempfile.TemporaryDirectory(prefix="grader-wheel-") as tmp:
        source = Path(tmp) / "source"
        source.mkdir()
        for name in PROJECT_FILES:
            if (checkout / name).is_file():
                shutil.copy2(checkout / name, source / name)
        shutil.copytree(
            checkout / "grader",
            source / "grader",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
        )
        dist = Path(tmp) / "dist"
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist)]
        if _can_build_here():
            command.append("--no-build-isolation")  # seconds, not a download of setuptools
        done = subprocess.run([*command, str(source)], capture_output=True, text=True, check=False)
        wheels = sorted(dist.glob("*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise HandoutError(f"building the grader's wheel failed: {' '.join(tail)}")
        check_wheel(wheels[0])
        out.mkdir(parents=True, exist_ok=True)
        target = out / wheels[0].name
        shutil.copy2(wheels[0], target)
    return target


def check_wheel(wheel: Path) -> None:
    """Refuse a wheel holding anything but the ``grader`` package and its metadata."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    strays = [
        n for n in names if not (n.startswith("grader/") or n.split("/")[0].endswith(".dist-info"))
    ]
    if strays:
        raise HandoutError(f"{wheel.name} would hand out more than the grader: {strays[:3]}")


def _can_build_here() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("setuptools", "wheel"))


def install_line(wheel: Path | str) -> str:
    """The one command a student types to install the grader."""
    return f"pip install {Path(wheel).name}"


def student_readme(plan: Plan, wheel: str, notebook: str | None, bundle: str) -> str:
    """The handout's README.md: install, check in Jupyter and from a terminal, what the checks
    see and do not see, and what is graded after submission."""
    automatic = [c for c in plan.checks if not c.manual]
    manual = [c for c in plan.checks if c.manual]
    auto_points = sum(c.points for c in automatic)
    manual_points = sum(c.points for c in manual)
    target = notebook or "your notebook"
    lines = [
        f"# {plan.title}",
        "",
        "Install the grader once (Python 3.10 or newer), in the Python that runs your Jupyter:",
        "",
        "```sh",
        install_line(wheel) if wheel else "pip install <the grader's wheel>",
        "```",
        "",
        "It installs the `grader` command and the `grader` Python package (with numpy, scipy, "
        "nbformat, jinja2, pyyaml and rich). Run it in this folder, where the wheel is; or, in "
        f"a notebook cell, `%pip install {Path(wheel).name if wheel else '<wheel>'}` installs "
        "it into the kernel's own Python (then restart the kernel).",
        "",
        "## Check in Jupyter",
        "",
        f"Open `{target}` and run its first cell (`nb = Notebook(...)`): it loads the public "
        f"checks from `{bundle}`, beside the notebook. After each exercise comes a check cell, "
        'such as `nb.check("' + (automatic[0].id if automatic else "ID") + '")`: run it once '
        "you have run the cell with your function. It calls the function as it is defined in "
        "your running kernel and shows, for each public case, whether it passed and what came "
        "back; a known mistake is named. `nb.check_all()` runs every check.",
        "",
        "## Check from a terminal",
        "",
        "```sh",
        f"grader check {notebook or 'my_notebook.ipynb'}",
        "```",
        "",
        "runs the saved file from top to bottom in a fresh process, as the grader will after you "
        "submit, and prints each check's status, points and feedback (exit code 0 when every "
        "public check passes). Run it on the file you are about to submit.",
        "",
        "## What the checks can and cannot see",
        "",
        "- They run your functions on the **public cases** only, the ones in "
        f"`{bundle}`. It holds their inputs and expected answers, and no solution.",
        "- In Jupyter they check your functions as the kernel holds them now: after changing a "
        "cell, run it again; a function whose cell you deleted stays until you restart the "
        "kernel. `grader check` sees only the saved file: save first.",
        *_statistics(plan),
        *_pending(plan),
        "- They cannot see the hidden cases or your written answers, and passing every public "
        "check does not promise full points.",
        "",
        "## What is graded after you submit",
        "",
        f"- {auto_points:g} points checked automatically, on the public cases and on **hidden "
        "cases** (other inputs); the feedback describes a failed hidden case without its "
        "inputs.",
    ]
    if manual:
        items = ", ".join(f"`{c.id}` ({c.points:g})" for c in manual)
        lines.append(
            f"- {manual_points:g} points graded by hand by an instructor: the written answers "
            f"{items}. Write them in the notebook's answer cells (the placeholder text does not "
            "count as an answer)."
        )
    lines += [
        "- Your code runs in a locked-down process with time and memory limits: keep the cells "
        "quick, and do not read or write files the exercise does not ask for.",
        "",
    ]
    return "\n".join(lines)


def _pending(plan: Plan) -> list[str]:
    """The line on automatic checks no self-check can run (no case in the bundle)."""
    later = [c for c in plan.checks if not c.manual and not plan.cases_of(c.id)]
    if not later:
        return []
    items = ", ".join(f"`{c.id}` ({c.points:g})" for c in later)
    return [
        f"- Some checks run only after you submit, with the instructor's own comparison: {items}. "
        "The self-check lists them as pending, apart from the points that passed."
    ]


def _statistics(plan: Plan) -> list[str]:
    """The line on statistical checks, with the rubric's own false-failure rate."""
    rates = sorted(  # the engine splits each check's rate across its statistical cases
        {
            spec.compare.false_failure_rate
            for spec in plan.checks
            if any(case.statistical for case in plan.cases_of(spec.id))
        }
    )
    if not rates:
        return []
    return [
        "- Functions that draw random numbers are tested statistically, exactly as after "
        f"submission: a correct one fails a check with probability at most {rates[-1]:g}, so "
        "a failure means the distribution is really off."
    ]
