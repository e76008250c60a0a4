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

import jinja2

from grader.errors import UserError

if TYPE_CHECKING:
    from grader.grading import Plan

CHECKOUT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE")
TEMPLATES = Path(__file__).parent / "report" / "templates"


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
    """The handout's README.md (``report/templates/handout.md.j2``): install, check in
    Jupyter and from a terminal, what the checks see and do not see, and what is graded
    after submission."""
    automatic = [c for c in plan.checks if not c.manual]
    manual = [c for c in plan.checks if c.manual]
    context = {
        "title": plan.title,
        "install": install_line(wheel) if wheel else "pip install <the grader's wheel>",
        "wheel": Path(wheel).name if wheel else "",
        "notebook": notebook,
        "bundle": bundle,
        "first_check": automatic[0].id if automatic else "ID",
        "false_failure_rate": _false_failure_rate(plan),
        "pending": [c for c in automatic if not plan.cases_of(c.id)],
        "automatic_points": f"{sum(c.points for c in automatic):g}",
        "manual": manual,
        "manual_points": f"{sum(c.points for c in manual):g}",
    }
    return _template().render(context)


def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=False,  # Markdown, from the course's own rubric and file names
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["items"] = lambda checks: ", ".join(f"`{c.id}` ({c.points:g})" for c in checks)
    return env.get_template("handout.md.j2")


def _false_failure_rate(plan: Plan) -> str | None:
    """The largest false-failure rate of a check with statistical cases (as ``1e-06``), or
    None when no check is statistical. The engine splits each check's rate across its cases."""
    rates = [
        spec.compare.false_failure_rate
        for spec in plan.checks
        if any(case.statistical for case in plan.cases_of(spec.id))
    ]
    return f"{max(rates):g}" if rates else None
