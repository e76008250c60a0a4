#!/usr/bin/env bash
# Create bench/work/nbgrader-venv with nbgrader 0.9.6 and the same numpy/scipy versions as the
# Python that runs the grader (so both graders execute student code on the same libraries).
# Only pip from PyPI. Usage: bench/nbgrader_env.sh [PYTHON]   (default: python3)
set -euo pipefail
cd "$(dirname "$0")"
PY="${1:-python3}"
VENV="work/nbgrader-venv"
NUMPY_VERSION="$("$PY" -c 'import numpy; print(numpy.__version__)')"
SCIPY_VERSION="$("$PY" -c 'import scipy; print(scipy.__version__)')"
mkdir -p work
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet \
    "nbgrader==0.9.6" "numpy==$NUMPY_VERSION" "scipy==$SCIPY_VERSION"
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
print("nbgrader-venv:", ", ".join(f"{p} {md.version(p)}" for p in
      ("nbgrader", "numpy", "scipy", "nbconvert", "nbclient", "ipykernel", "jupyter_client")))
PY
