"""Power study of the statistical checks, through the grader's own judging code.

For each initializer below (correct ones and wrong ones of the same shape and mean), many
trials: every trial draws a fresh hidden seed (a new plan every ``--per-plan`` trials) and a
fresh student generator, builds the values the student's function would return for every
case of the check (repeated calls stacked, as the child does), and judges them with
``grader.check.engine.judge_check``, exactly as ``grader grade`` does (``plan.lookup`` given),
and the public cases alone as ``grader check`` does (no reference, no hidden case). It prints
a Markdown table: the rejection rate of the whole check, of its hidden cases alone (what a
student who passed the self-check meets: the seeded public cases give the same verdict again,
so the hidden cases must carry the grading run's power), and of the self-check, and the judging
cost in CPU milliseconds (``time.process_time``: on a shared machine wall time measures the
neighbours).

    python3 bench/power.py                 # 1,000 trials a row (200 for the extra rows)
    python3 bench/power.py --trials 100    # quicker
    python3 bench/power.py --timing        # only the cost of judging one correct submission
    python3 bench/power.py --sizes         # only the arithmetic that sizes the network case
    python3 bench/power.py --record        # append the output to bench/RESULTS.md

It runs against whichever ``grader`` is first on the path, so ``PYTHONPATH=/path/to/old/tree``
measures an older engine on the same draws (the "before" of bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# isort: off
import grader  # first: it limits BLAS to one thread, as in a grading run
import numpy as np

# isort: on

from grader.assignment import Assignment, load_assignment
from grader.check.engine import judge_check
from grader.grading import Plan, grading_plan
from grader.model import Outcome, Rng, RunLog

BENCH = Path(__file__).resolve().parent
COURSE = Path(grader.__file__).resolve().parents[1]

Sampler = Callable[[int, int, np.random.Generator, int], np.ndarray]  # n_in, n_out, rng, trial


def normal(factor: float) -> Sampler:
    return lambda n_in, n_out, rng, trial: rng.normal(0, np.sqrt(factor / n_in), (n_out, n_in))


def scaled(draw: Callable[[np.random.Generator, tuple[int, int]], np.ndarray], factor: float):
    """A unit-variance draw, rescaled to variance factor / n_in."""
    return lambda n_in, n_out, rng, trial: draw(rng, (n_out, n_in)) * np.sqrt(factor / n_in)


def student_t(df: float):
    return lambda rng, shape: rng.standard_t(df, shape) * np.sqrt((df - 2) / df)


def truncated(bound: float):
    from scipy import stats

    spread = float(stats.truncnorm.std(-bound, bound))
    return lambda rng, shape: (
        stats.truncnorm.rvs(-bound, bound, size=shape, random_state=rng) / (spread)
    )


def mixture(low: float, high: float):
    """Each entry N(0, low) or N(0, high) with probability ½: variance (low + high)/2 = 1."""
    return lambda rng, shape: (
        rng.normal(size=shape) * np.sqrt(np.where(rng.random(shape) < 0.5, low, high))
    )


def fixed_seed(factor: float) -> Sampler:
    """``rng`` ignored: a generator seeded inside the function (a seed per student)."""
    return lambda n_in, n_out, rng, trial: np.random.default_rng(trial).normal(
        0, np.sqrt(factor / n_in), (n_out, n_in)
    )


def half_copied(factor: float) -> Sampler:
    def draw(n_in, n_out, rng, trial):
        weights = rng.normal(0, np.sqrt(factor / n_in), (n_out, n_in))
        half = n_out // 2
        weights[half : 2 * half] = weights[:half]
        return weights

    return draw


def rolled(factor: float, shift: int, axis: int) -> Sampler:
    def draw(n_in, n_out, rng, trial):
        a = rng.normal(0, np.sqrt(factor / n_in), (n_out, n_in))
        return (a + np.roll(a, shift, axis=axis)) / np.sqrt(2)

    return draw


def float32(factor: float) -> Sampler:
    return lambda n_in, n_out, rng, trial: (
        rng.standard_normal((n_out, n_in), dtype=np.float32) * np.float32(np.sqrt(factor / n_in))
    )


@dataclass(frozen=True)
class Row:
    check: str
    name: str
    sampler: Sampler
    correct: bool
    in_issue: bool = False  # a row of issue 10's table


def rows() -> list[Row]:
    he, th = "2a.he_init", "2b.tanh_init"
    uniform = scaled(lambda r, s: r.uniform(-np.sqrt(3), np.sqrt(3), s), 2)
    correct = [
        (he, "correct: `rng.normal(0, √(2/n_in))`", normal(2.0)),
        (he, "correct, drawn in float32", float32(2.0)),
        (th, "correct: `rng.normal(0, √(1/n_in))`", normal(1.0)),
    ]
    issue = [
        (he, "the same matrix on every call (fixed seed, `rng` ignored)", fixed_seed(2)),
        (he, "second half of the rows a copy of the first half", half_copied(2.0)),
        (he, "entries two apart correlated at 0.5 (`roll(A, 2, axis=1)`)", rolled(2, 2, 1)),
        (he, "Student-t(10), rescaled to variance 2/n_in", scaled(student_t(10), 2)),
        (he, "truncated normal at 2σ, variance corrected", scaled(truncated(2.0), 2)),
        (he, "variance 2.1/n_in (5% too large)", normal(2.1)),
        (he, "scale mixture ½N(0, 0.5σ²) + ½N(0, 1.5σ²)", scaled(mixture(0.5, 1.5), 2)),
        (th, "`tanh_init` with variance 1.05/n_in", normal(1.05)),
    ]
    extra = [
        (he, "variance 1.9/n_in (5% too small)", normal(1.9)),
        (he, "neighbouring rows correlated at 0.5 (`roll(A, 1, axis=0)`)", rolled(2, 1, 0)),
        (he, "Student-t(30), rescaled", scaled(student_t(30), 2)),
        (he, "truncated normal at 3σ, variance corrected", scaled(truncated(3.0), 2)),
        (he, "scale mixture ½N(0, 0.8σ²) + ½N(0, 1.2σ²)", scaled(mixture(0.8, 1.2), 2)),
        (he, "uniform with variance 2/n_in", uniform),
        (th, "`tanh_init` with variance 0.95/n_in", normal(0.95)),
        (th, "`tanh_init`, the same matrix on every call", fixed_seed(1.0)),
    ]
    return (
        [Row(c, n, s, True) for c, n, s in correct]
        + [Row(c, n, s, False, True) for c, n, s in issue]
        + [Row(c, n, s, False) for c, n, s in extra]
    )


def values(case: Any, sampler: Sampler, trial: int) -> Any:
    """What the student's function returns for this case: one array, or ``repeat`` stacked."""
    n_in, n_out = int(case.call.args[0]), int(case.call.args[1])
    seed = next(a.seed for a in case.call.args if isinstance(a, Rng))
    draws = [
        sampler(n_in, n_out, np.random.default_rng([trial, seed + i]), trial)
        for i in range(case.call.repeat)
    ]
    return draws[0] if case.call.repeat == 1 else np.stack(draws)


@dataclass
class Tally:
    rejected: int = 0
    hidden_rejected: int = 0  # by the hidden cases alone: what a self-checked student meets
    public_rejected: int = 0
    trials: int = 0
    seconds: float = 0.0
    public_seconds: float = 0.0


def run(
    assignment: Assignment,
    trials: int,
    extra_trials: int,
    per_plan: int,
    only: str = "",
    part: str = "all",
    skip: int = 0,
) -> list[str]:
    plans: dict[int, Plan] = {}
    lines = [
        "| check | initializer | rejected by the grading run | by its hidden cases alone "
        "| rejected by `grader check` | judging CPU ms (grading / self-check) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for number, row in enumerate(rows()):
        if number < skip:
            continue
        if only and only not in row.name:
            continue
        if part == "table" and not (row.correct or row.in_issue):
            continue
        if part == "extra" and (row.correct or row.in_issue):
            continue
        spec = assignment.check(row.check)
        tally = Tally()
        count = trials if row.correct or row.in_issue else extra_trials
        for trial in range(count):
            seed = 1_000_003 * (trial // per_plan) + 17
            if seed not in plans:
                plans[seed] = grading_plan(assignment, hidden_seed=seed)
            plan = plans[seed]
            cases = plan.cases_of(row.check)
            outcomes = [Outcome("ok", value=values(c, row.sampler, trial)) for c in cases]
            start = time.process_time()
            result = judge_check(spec, cases, outcomes, RunLog(), plan.lookup)
            tally.seconds += time.process_time() - start
            public = [(c, o) for c, o in zip(cases, outcomes) if c.visibility == "public"]
            public = [(c, o) for c, o in public if c.compare.kind != "reference"]
            start = time.process_time()
            mine = judge_check(spec, [c for c, _ in public], [o for _, o in public], RunLog())
            tally.public_seconds += time.process_time() - start
            tally.trials += 1
            tally.rejected += result.status != "passed"
            tally.hidden_rejected += any(
                r.status != "passed" for r in result.cases if r.visibility == "hidden"
            )
            tally.public_rejected += mine.status != "passed"
        lines.append(
            f"| `{row.check}` | {row.name}{' (issue 10)' if row.in_issue else ''} "
            f"| {_rate(tally.rejected, tally.trials, row.correct)} "
            f"| {_rate(tally.hidden_rejected, tally.trials, row.correct)} "
            f"| {_rate(tally.public_rejected, tally.trials, row.correct)} "
            f"| {1000 * tally.seconds / count:.1f} / {1000 * tally.public_seconds / count:.1f} |"
        )
        print(lines[-1], flush=True)
    return lines


def _rate(rejected: int, trials: int, correct: bool) -> str:
    if correct:
        return f"{rejected} of {trials} (false failures)"
    return f"**{rejected / trials:.3f}** ({rejected}/{trials})"


def timing(assignment: Assignment, repeats: int) -> list[str]:
    """Judging one correct submission: every automatic check, best of ``repeats``."""
    plan = grading_plan(assignment, hidden_seed=4242)
    reference = assignment.reference
    samplers = {"he_init": normal(2.0), "tanh_init": normal(1.0)}
    outcomes = {}
    for case in plan.cases:
        if case.call.function in samplers:
            outcomes[id(case)] = Outcome("ok", value=values(case, samplers[case.call.function], 1))
        else:
            outcomes[id(case)] = Outcome(
                "ok", value=getattr(reference, case.call.function)(*case.call.args)
            )
    per_check: dict[str, float] = {}
    for spec in plan.checks:
        if spec.manual:
            continue
        cases = plan.cases_of(spec.id)
        best = float("inf")
        for _ in range(repeats):
            start = time.process_time()
            judge_check(spec, cases, [outcomes[id(c)] for c in cases], RunLog(), plan.lookup)
            best = min(best, time.process_time() - start)
        per_check[spec.id] = best
    statistical = [c for c in plan.cases if c.call.function in samplers]
    weights = sum(np.asarray(outcomes[id(c)].value).size for c in statistical)
    lines = [
        f"| judging one correct submission (best of {repeats}) | ms |",
        "|---|---:|",
        *[f"| `{name}` | {1000 * s:.1f} |" for name, s in per_check.items()],
        f"| **all automatic checks** | **{1000 * sum(per_check.values()):.1f}** |",
        f"| weights the student's code draws and sends per submission | {weights:,} |",
    ]
    for line in lines:
        print(line, flush=True)
    return lines


def sizes(widths: list[int], trials: int, cases: int = 5) -> list[str]:
    """The arithmetic behind the hidden network case's size: for ten w×w calls, the power of
    the variance test against a 5% error (exact: Σz² is a scaled χ²) and of the tail and shape
    counts and the weighted tail test against a Student-t(30) and the ½/½ mixture of 0.8σ² and
    1.2σ² (simulated from the counts' exact multinomial law, each count tested by its exact
    binomial tail, the weighted sum by the grader's own Chernoff bound), at the level the
    grading run gives each test of that case."""
    from scipy import special, stats

    from grader.check.stats import (
        BIN_WEIGHTS,
        CENTRE_THRESHOLDS,
        TAIL_THRESHOLDS,
        _bin_probabilities,
        _chernoff_tail,
        tests_run,
    )

    rng = np.random.default_rng(2026)
    edges = np.array(sorted([0.0, *CENTRE_THRESHOLDS, *TAIL_THRESHOLDS, np.inf]))

    def bins(cdf: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """P(|z| in each bin between the thresholds), from the CDF of |z|."""
        return np.diff(np.concatenate([[0.0], cdf(edges[1:])]))

    t30 = bins(lambda c: 1 - 2 * stats.t.sf(c / np.sqrt(28 / 30), 30))
    mix = bins(lambda c: 1 - stats.norm.sf(c / np.sqrt(0.8)) - stats.norm.sf(c / np.sqrt(1.2)))

    def counts_power(m: int, probs: np.ndarray, level: float) -> float:
        below = np.cumsum(rng.multinomial(m, probs, size=trials), axis=1)  # counts of |z| < edge
        rejected = np.zeros(trials, dtype=bool)
        for c in (*CENTRE_THRESHOLDS, *TAIL_THRESHOLDS):
            i = int(np.searchsorted(edges, c)) - 1
            inside = float(1 - 2 * stats.norm.sf(c))
            count = below[:, i] if c in CENTRE_THRESHOLDS else m - below[:, i]
            p = inside if c in CENTRE_THRESHOLDS else 1 - inside
            lower = special.bdtr(count, m, p)
            upper = np.where(count > 0, special.bdtrc(count - 1, m, p), 1.0)
            rejected |= np.minimum(1, 2 * np.minimum(lower, upper)) < level
        bins = np.diff(np.concatenate([np.zeros((trials, 1)), below], axis=1), axis=1)
        totals = bins @ np.array(BIN_WEIGHTS)
        expected = m * float(np.dot(_bin_probabilities(), BIN_WEIGHTS))
        for trial in np.flatnonzero(~rejected & (totals > expected)):
            p = _chernoff_tail(float(totals[trial]), m, BIN_WEIGHTS, _bin_probabilities())
            rejected[trial] = p < level
        return float(rejected.mean())

    lines = [
        f"| ten w×w calls | values | variance +5% | variance −5% | Student-t(30), counts and "
        f"weighted tails ({trials:,} trials) | mixture 0.8/1.2, the same |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    print("\n".join(lines), flush=True)
    for w in widths:
        m = 10 * w * w
        level = 1e-6 / cases / tests_run((10, w, w))
        low, high = stats.chi2.ppf(level / 2, m), stats.chi2.isf(level / 2, m)
        up = stats.chi2.cdf(low / 1.05, m) + stats.chi2.sf(high / 1.05, m)
        down = stats.chi2.cdf(low / 0.95, m) + stats.chi2.sf(high / 0.95, m)
        lines.append(
            f"| {w} | {m:,} | {up:.4f} | {down:.4f} | {counts_power(m, t30, level):.4f} "
            f"| {counts_power(m, mix, level):.4f} |"
        )
        print(lines[-1], flush=True)
    return lines


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(COURSE), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--extra-trials", type=int, default=200, help="for rows not in issue 10")
    parser.add_argument("--per-plan", type=int, default=50, help="trials per hidden seed")
    parser.add_argument("--only", default="", help="only the rows whose name contains this")
    parser.add_argument(
        "--part", choices=("all", "table", "extra"), default="all", help="which rows to run"
    )
    parser.add_argument(
        "--skip", type=int, default=0, help="skip the first N rows (to split a run)"
    )
    parser.add_argument("--timing", action="store_true", help="only the judging cost")
    parser.add_argument(
        "--sizes", action="store_true", help="only the arithmetic of the network case's size"
    )
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--size-trials", type=int, default=50_000, help="for --sizes")
    parser.add_argument("--record", action="store_true", help="append to bench/RESULTS.md")
    args = parser.parse_args(argv)
    assignment = load_assignment("sheet3", COURSE)
    started = time.time()
    if args.sizes:
        lines = sizes([80, 82, 84, 86, 88, 90, 96, 108], trials=args.size_trials)
    else:
        lines = timing(assignment, args.repeats)
    if not args.timing and not args.sizes:
        lines += [
            "",
            *run(
                assignment,
                args.trials,
                args.extra_trials,
                args.per_plan,
                args.only,
                args.part,
                args.skip,
            ),
        ]
    if args.record:
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        head = [
            "",
            f"## {now} — power study, commit {_commit()}",
            "",
            f"- machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"numpy {np.__version__}; engine from `{COURSE}`",
            f"- command: `python3 bench/power.py {' '.join(argv or sys.argv[1:])}` "
            f"({time.time() - started:.0f} s)",
            "",
        ]
        with open(BENCH / "RESULTS.md", "a", encoding="utf-8") as handle:
            handle.write("\n".join(head + lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
