"""Judging CPU per submission: the engine alone, on the outcomes of real submissions.

    python3 bench/judging.py record DIR [--inputs FILE]   # run DIR's notebooks once, keep outcomes
    python3 bench/judging.py time [--inputs FILE] [--repeats 10]

``record`` grades every notebook of DIR (``bench/make_submissions.py`` makes them) in its
sandbox, as ``grader grade`` does, and pickles what ``judge_check`` was given for each check
(spec, cases, outcomes, log): the same inputs can then be judged by two versions of the engine
(``PYTHONPATH=OTHER python3 bench/judging.py time``). ``time`` judges every submission's checks
``--repeats`` times and reports, per check and in all, the best CPU time (``time.process_time``,
one thread) per submission averaged over the submissions, the first judgement's cost (imports
on first use), the minor page faults per judgement of a submission (``--repeats 1``: each
submission judged once, as a worker meets it), and a digest of the verdicts (status, score,
feedback of every check) so that two versions can be shown to judge alike.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUTS = ROOT / "bench" / "work" / "judging-inputs.pkl"


def record(folder: Path, inputs: Path, hidden_seed: int) -> None:
    """Grade each notebook of ``folder`` once and keep what every ``judge_check`` was given."""
    import grader.grading as grading
    from grader.assignment import CheckSpec, load_assignment
    from grader.check.cases import Case
    from grader.check.engine import ReferenceLookup
    from grader.load.discover import read_submission
    from grader.model import CheckResult, Outcome, RunLog

    plan = grading.grading_plan(load_assignment("sheet3", ROOT), hidden_seed=hidden_seed)
    kept: list[list[tuple[Any, ...]]] = []
    judge = grading.judge_check

    def keeping(
        spec: CheckSpec,
        cases: list[Case],
        outcomes: list[Outcome],
        log: RunLog,
        lookup: ReferenceLookup | None = None,
    ) -> CheckResult:
        kept[-1].append((spec, cases, outcomes, log))
        return judge(spec, cases, outcomes, log, lookup)

    grading.judge_check = keeping
    for path in sorted(folder.glob("*.ipynb")):
        kept.append([])
        grading.grade_submission(read_submission(path), plan)
    inputs.parent.mkdir(parents=True, exist_ok=True)
    with inputs.open("wb") as handle:
        pickle.dump({"hidden_seed": hidden_seed, "submissions": kept}, handle)
    print(f"{len(kept)} submissions, {sum(map(len, kept))} checks judged -> {inputs}")


def time_judging(inputs: Path, repeats: int) -> None:
    """Best-of-``repeats`` CPU per submission, per check and in all, and a verdict digest."""
    start = time.process_time()
    import grader
    from grader.assignment import load_assignment
    from grader.check.engine import judge_check
    from grader.grading import grading_plan

    with inputs.open("rb") as handle:
        data = pickle.load(handle)
    plan = grading_plan(load_assignment("sheet3", ROOT), hidden_seed=data["hidden_seed"])
    print(f"engine: {Path(grader.__file__).parent}; set-up {time.process_time() - start:.2f} s")
    first = time.process_time()
    submissions = data["submissions"]
    for spec, cases, outcomes, log in submissions[0]:
        judge_check(spec, cases, outcomes, log, plan.lookup)
    cost = 1e3 * (time.process_time() - first)
    print(f"first submission judged (imports on first use): {cost:.1f} ms")

    best: dict[str, list[float]] = defaultdict(list)
    digest = hashlib.sha256()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for judged in submissions:
        for spec, cases, outcomes, log in judged:
            times = []
            for _ in range(repeats):
                tick = time.process_time()
                result = judge_check(spec, cases, outcomes, log, plan.lookup)
                times.append(time.process_time() - tick)
            best[spec.id].append(min(times))
            digest.update(repr((result.status, result.score, result.feedback)).encode())
            for case in result.cases:
                digest.update(repr((case.status, case.message, case.mistake)).encode())
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    count = len(submissions)
    print(f"{count} submissions, best of {repeats}: CPU ms per submission")
    for check_id, times in best.items():
        print(f"  {check_id:24s} {1e3 * sum(times) / count:7.2f}")
    total = sum(sum(times) for times in best.values())
    print(f"  {'all checks':24s} {1e3 * total / count:7.2f}")
    print(f"  page faults per judgement: {faults / (count * repeats):.0f}")
    print(f"verdicts digest {digest.hexdigest()[:16]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("folder", type=Path)
    rec.add_argument("--inputs", type=Path, default=DEFAULT_INPUTS)
    rec.add_argument("--hidden-seed", type=int, default=20261202)
    tim = sub.add_parser("time")
    tim.add_argument("--inputs", type=Path, default=DEFAULT_INPUTS)
    tim.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    if args.command == "record":
        record(args.folder, args.inputs, args.hidden_seed)
    else:
        time_judging(args.inputs, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
