"""Peak grader memory and time under forged result floods (issue 9, item 2).

Grades tests/hostile/submissions/{good, p_forged_frames, p_forged_cell_errors, p_endless_line,
p_garbage_lines} with the checkout given by --tree (default: this one), under each layer,
through ``/usr/bin/time -v``, and prints one Markdown row per layer. Compare two checkouts with
``python3 bench/floods.py --tree /path/to/other/checkout``. Writes only under bench/work/.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOSTILE = ROOT / "tests" / "hostile"
FLOODS = ("good", "p_forged_frames", "p_forged_cell_errors", "p_endless_line", "p_garbage_lines")


def run(tree: Path, layer: str, work: Path) -> tuple[float, float, int]:
    """(peak RSS of the largest grader process in MB, wall seconds, exit code)."""
    shutil.rmtree(work, ignore_errors=True)
    (work / "submissions").mkdir(parents=True)
    (work / "tmp").mkdir()
    shutil.copytree(HOSTILE / "course", work / "course")
    for name in FLOODS:
        shutil.copy(HOSTILE / "submissions" / f"{name}.py", work / "submissions")
    command = [
        "/usr/bin/time",
        "-v",
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(work / "submissions"),
        "--out",
        str(work / "out"),
        "--assignment",
        "hostile",
        "--course",
        str(work / "course"),
        "--sandbox",
        layer,
        "--seed",
        "5",
        "--workers",
        "1",
    ]
    env = {**os.environ, "PYTHONPATH": str(tree), "TMPDIR": str(work / "tmp")}
    done = subprocess.run(command, capture_output=True, text=True, cwd=tree, env=env)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    wall = re.search(
        r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", done.stderr
    )
    seconds = (int(wall[1] or 0) * 3600 + int(wall[2]) * 60 + float(wall[3])) if wall else 0.0
    return (int(rss[1]) / 1024 if rss else 0.0), seconds, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout to measure")
    parser.add_argument("--layers", default="process,bwrap")
    args = parser.parse_args()
    print("| checkout | layer | peak RSS, largest process (MB) | wall s | exit |")
    print("|---|---|---:|---:|---:|")
    for layer in args.layers.split(","):
        rss, seconds, code = run(args.tree.resolve(), layer, HERE / "work" / f"floods-{layer}")
        print(f"| {args.tree} | {layer} | {rss:.0f} | {seconds:.1f} | {code} |")


if __name__ == "__main__":
    main()
