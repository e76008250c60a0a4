#!/usr/bin/env bash
# Create bench/work/otter-venv with otter-grader 7.0.0 (and ipykernel, for `otter run`'s
# Jupyter kernel) and the numpy and scipy versions of the Python that runs the grader, with pip
# from PyPI. Usage: bench/otter_env.sh [PYTHON]   (default: python3)
set -euo pipefail
cd "$(dirname "$0")"
PY="${1:-python3}"
VENV="work/otter-venv"
NUMPY_VERSION="$("$PY" -c 'import numpy; print(numpy.__version__)')"
SCIPY_VERSION="$("$PY" -c 'import scipy; print(scipy.__version__)')"
mkdir -p work
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet \
    "otter-grader==7.0.0" ipykernel "numpy==$NUMPY_VERSION" "scipy==$SCIPY_VERSION"
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
print("otter-venv:", ", ".join(f"{p} {md.version(p)}" for p in
      ("otter-grader", "numpy", "scipy", "nbconvert", "ipykernel", "jupyter_client")))
PY
