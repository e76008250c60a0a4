"""Find the public bundle of a notebook running in Jupyter: beside the notebook, or given."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SUFFIX = ".public.json"


class BundleNotFound(FileNotFoundError):
    """No public bundle where one was looked for; the message says where and what to do."""


def notebook_folders(namespace: Mapping[str, Any]) -> list[Path]:
    """Where the running notebook probably lives, best guess first: the file VS Code names,
    the session Jupyter Server names (``JPY_SESSION_NAME``), and the kernel's folder (Jupyter
    starts a notebook's kernel in the notebook's folder)."""
    folders = []
    for hint in (namespace.get("__vsc_ipynb_file__"), os.environ.get("JPY_SESSION_NAME")):
        if isinstance(hint, str) and hint.endswith(".ipynb"):
            folders.append(Path(hint).expanduser().parent)
    folders.append(Path.cwd())
    unique: list[Path] = []
    for folder in folders:
        if folder.is_dir() and folder.resolve() not in unique:
            unique.append(folder.resolve())
    return unique


def find_bundle(
    explicit: str | os.PathLike[str] | None,
    assignment: str | None,
    namespace: Mapping[str, Any],
) -> Path:
    """The bundle file: ``explicit`` (a file, or a folder to look in), else the one beside the
    notebook. With several bundles in a folder, ``assignment`` (or the notebook's name)
    chooses; without any, :class:`BundleNotFound`."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if path.is_file():
            return path
        if not path.is_dir():
            raise BundleNotFound(f"{path}: no such bundle file")
        folders = [path]
    else:
        folders = notebook_folders(namespace)
    stems = _notebook_stems(namespace)
    for folder in folders:
        found = _in_folder(folder, assignment, stems)
        if found:
            return found
    wanted = f"{assignment}{SUFFIX}" if assignment else f"a *{SUFFIX} file"
    looked = ", ".join(str(f) for f in folders)
    raise BundleNotFound(
        f"no public bundle ({wanted}) beside this notebook (looked in {looked}); put the "
        f"bundle your instructor handed out next to the notebook, or pass its path: "
        f"Notebook('path/to/{assignment or 'NAME'}{SUFFIX}')"
    )


def _in_folder(folder: Path, assignment: str | None, stems: list[str]) -> Path | None:
    if assignment:
        path = folder / f"{assignment}{SUFFIX}"
        return path if path.is_file() else None
    bundles = sorted(p for p in folder.glob(f"*{SUFFIX}") if p.is_file())
    if len(bundles) <= 1:
        return bundles[0] if bundles else None
    for stem in stems:
        for bundle in bundles:
            if bundle.name == f"{stem}{SUFFIX}":
                return bundle
    names = ", ".join(b.name for b in bundles)
    raise BundleNotFound(
        f"{folder} holds several public bundles ({names}); say which: "
        f"Notebook('{bundles[0].name}') or Notebook(assignment='{bundles[0].name[: -len(SUFFIX)]}')"
    )


def _notebook_stems(namespace: Mapping[str, Any]) -> list[str]:
    stems = []
    for hint in (namespace.get("__vsc_ipynb_file__"), os.environ.get("JPY_SESSION_NAME")):
        if isinstance(hint, str) and hint.endswith(".ipynb"):
            stems.append(Path(hint).stem)
    return stems
