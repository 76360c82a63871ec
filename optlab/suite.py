"""A lineup on Moré & Wild's 53 problems under a cost budget, and the profiles of the result.

Each problem p (n variables) gets 100·(n + 1) cost units under the cost model of `optlab.cost`
(default f = 1, ∇f = 1, ∇²f = n), counted exactly per step by the engine. Problems that share a function, n and m (the s = 0 and s = 1 rows) share one
compiled program; every member and every learning rate of a tuned member run in it as traced
values. The convergence test of Moré & Wild (2009, eq. 2.2) on the best value found so far,

    f(x₀) − f(x) ≥ (1 − τ) (f(x₀) − f_L),   f_L the least f any member found within the budget,

gives t_ps, the cost member s needed on problem p (inf: never), from which the data profile
d_s(κ) = |{p : t_ps ≤ κ (n_p + 1)}| / |P| and the performance profile of Dolan & Moré (2002)
follow (`optlab.report.profiles`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optlab import cost, engine, surfaces
from optlab.config import Member, SuiteJob
from optlab.report import profiles
from optlab.surfaces.morewild import FUNCTIONS, PROBLEMS


@dataclasses.dataclass(frozen=True)
class Runs:
    """Every run of a suite: per run its problem row, label, learning rate, and best-so-far f
    against cumulative cost (NaN-free, non-increasing), on a per-row step grid."""

    rows: np.ndarray  # (R,) problem rows 1–53
    labels: np.ndarray  # (R,) lineup labels
    learning_rates: np.ndarray  # (R,) the learning rate of the run (NaN: none)
    best: list[np.ndarray]  # R arrays (T_r + 1,): min f over steps 0..k
    cost: list[np.ndarray]  # R arrays (T_r + 1,): cost units spent after step k
    f0: np.ndarray  # (R,) f at the start


def budget(n: int, factor: float) -> float:
    """`factor`·(n + 1) cost units: Moré & Wild's budget in simplex gradients."""
    return factor * (n + 1.0)


def step_costs(traj: engine.Trajectory, n: int, model: cost.Cost) -> np.ndarray:
    """Cumulative cost (R, T+1) after each step, from the engine's exact per-step evaluation
    counts (f, ∇f, ∇²f) under the cost model (`optlab.cost`)."""
    evals = np.stack([traj.cum_f_evals, traj.cum_grad_evals, traj.cum_hessian_evals], axis=-1)
    return cost.total(model, n, evals)


def cheapest_step(model: cost.Cost, n: int) -> float:
    """The engine's one value and gradient per step: no step costs less (so budget/it steps
    exhaust every member's budget)."""
    w = cost.weights(model, n)
    return max(w[0] + w[1], 1e-3)


def _groups(members: Sequence[Member], grids: dict[str, np.ndarray], starts: np.ndarray):
    """One engine group per member: every learning rate of its grid × every start."""
    out, meta = [], []
    for m in members:
        lrs = grids.get(m.label)
        values = [None] if lrs is None else list(lrs)
        hp = {}
        for k, v in m.hparams.items():
            column = [v if (k != "learning_rate" or a is None) else a for a in values]
            hp[k] = np.repeat(np.asarray(column, dtype=float), len(starts))
        out.append(engine.Group(m.spec, hp, np.tile(starts, (len(values), 1))))
        lr = [np.nan if a is None else float(a) for a in values]
        if lrs is None:
            lr = [float(m.hparams.get("learning_rate", np.nan))]
        meta.append((m.label, np.repeat(lr, len(starts))))
    return out, meta


def shapes(problems: Sequence[int]) -> dict[tuple[int, int, int], list[int]]:
    """Problem rows grouped by (function, n, m): one compiled program each."""
    out: dict[tuple[int, int, int], list[int]] = {}
    for row in problems:
        nprob, n, m, _ = PROBLEMS[row - 1]
        out.setdefault((nprob, n, m), []).append(row)
    return out


def _run_shape(job: SuiteJob, key: tuple[int, int, int], group_rows: list[int], log) -> list:
    """The runs of the rows sharing (function, n, m), in one compiled program."""
    nprob, n, m = key
    surface = surfaces.get("morewild", problem=group_rows[0])
    starts = np.stack([surfaces.get("morewild", problem=r).start for r in group_rows])
    groups, meta = _groups(job.members, job.grids, starts)
    steps = math.ceil(budget(n, job.budget) / cheapest_step(job.cost, n))
    traj = engine.run(
        surface, groups, steps, diagnostics=False, tol_grad=0.0, dtype=np.float64, record=("loss",)
    )
    log(f"optlab: {FUNCTIONS[nprob].name} (n={n}, m={m}): rows {group_rows}, {steps} steps")
    c = step_costs(traj, n, job.cost)
    loss = np.where(np.isfinite(traj.loss), traj.loss, np.inf)
    running = np.minimum.accumulate(loss, axis=1)
    out, i = [], 0
    for label, lr in meta:
        for j, a in enumerate(lr):
            out.append((group_rows[j % len(group_rows)], label, a, running[i], c[i], loss[i, 0]))
            i += 1
    return out


def run(job: SuiteJob, log: Callable[[str], None] = print, workers: int = 2) -> Runs:
    """Every member (and learning rate) on every problem of `job`, float64, one program per shape;
    `workers` shapes at a time (threads: XLA compiles one while Python traces the next)."""
    from concurrent.futures import ThreadPoolExecutor

    todo = list(shapes(job.problems).items())
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(lambda kv: _run_shape(job, *kv, log), todo))
    flat = [r for part in parts for r in part]
    rows, labels, lrs, best, cost, f0 = zip(*flat, strict=True)
    return Runs(
        np.array(rows), np.array(labels), np.array(lrs), list(best), list(cost), np.array(f0)
    )


def best_within(runs: Runs, factor: float) -> np.ndarray:
    """The least f each run found within its problem's budget (R,)."""
    out = np.empty(len(runs.rows))
    for r, (row, b, c) in enumerate(zip(runs.rows, runs.best, runs.cost, strict=True)):
        n = PROBLEMS[row - 1][1]
        out[r] = b[c <= budget(n, factor)].min()
    return out


def solve_costs(runs: Runs, f_low: dict[int, float], tau: float, factor: float) -> np.ndarray:
    """t (R,): the cost at which each run first passes f₀ − f ≥ (1 − τ)(f₀ − f_L) within its
    budget (Moré & Wild 2009, eq. 2.2); inf where it never does."""
    out = np.full(len(runs.rows), np.inf)
    for r, (row, b, c, f0) in enumerate(zip(runs.rows, runs.best, runs.cost, runs.f0, strict=True)):
        n = PROBLEMS[row - 1][1]
        ok = (f0 - b >= (1.0 - tau) * (f0 - f_low[row])) & (c <= budget(n, factor))
        if ok.any():
            out[r] = c[np.argmax(ok)]
    return out


def lowest(runs: Runs, factor: float, keep: np.ndarray | None = None) -> dict[int, float]:
    """f_L per problem: the least f found within budget by the runs `keep` (default: all)."""
    found = best_within(runs, factor)
    keep = np.ones(len(found), bool) if keep is None else keep
    out: dict[int, float] = {}
    for row, v in zip(runs.rows[keep], found[keep], strict=True):
        out[int(row)] = min(out.get(int(row), np.inf), float(v))
    return out


def tune(runs: Runs, job: SuiteJob) -> dict[str, float]:
    """One learning rate per tuned member for the whole problem set: the one whose runs pass the
    test at τ = 10⁻³ on the most problems (ties: the most (problem, τ) pairs over `job.taus`),
    f_L taken over every run of every member. Tuning runs are not charged to the budget."""
    f_low = lowest(runs, job.budget)
    chosen = {}
    for label in job.grids:
        mine = runs.labels == label
        scores = {}
        for lr in np.unique(runs.learning_rates[mine]):
            sel = mine & (runs.learning_rates == lr)
            sub = _subset(runs, sel)
            main = np.isfinite(solve_costs(sub, f_low, 1e-3, job.budget)).sum()
            ties = sum(np.isfinite(solve_costs(sub, f_low, t, job.budget)).sum() for t in job.taus)
            scores[float(lr)] = (int(main), int(ties), -float(lr))
        chosen[label] = max(scores, key=scores.get)
    return chosen


def _subset(runs: Runs, keep: np.ndarray) -> Runs:
    idx = np.flatnonzero(keep)
    return Runs(
        runs.rows[idx],
        runs.labels[idx],
        runs.learning_rates[idx],
        [runs.best[i] for i in idx],
        [runs.cost[i] for i in idx],
        runs.f0[idx],
    )


def lineup_runs(runs: Runs, chosen: dict[str, float]) -> Runs:
    """The runs of the lineup: tuned members at their chosen rate, the others as they ran."""
    keep = np.array(
        [
            lab not in chosen or lr == chosen[lab]
            for lab, lr in zip(runs.labels, runs.learning_rates, strict=True)
        ]
    )
    return _subset(runs, keep)


@dataclasses.dataclass(frozen=True)
class Profiles:
    """Cost table t (P, S) per τ, the labels S, problem rows P and their dimensions."""

    labels: list[str]
    problems: list[int]
    dims: np.ndarray
    t: dict[float, np.ndarray]
    f_low: dict[int, float]


def cost_tables(
    runs: Runs, labels: Sequence[str], taus: Sequence[float], factor: float
) -> Profiles:
    """t_ps per τ for the lineup runs (one run per problem and label)."""
    problems = sorted({int(r) for r in runs.rows})
    f_low = lowest(runs, factor)
    index = {
        (int(r), str(lab)): i for i, (r, lab) in enumerate(zip(runs.rows, runs.labels, strict=True))
    }
    t = {}
    for tau in taus:
        costs = solve_costs(runs, f_low, tau, factor)
        t[tau] = np.array([[costs[index[(p, s)]] for s in labels] for p in problems])
    dims = np.array([PROBLEMS[p - 1][1] for p in problems])
    return Profiles(list(labels), problems, dims, t, f_low)


def profile_curves(p: Profiles, tau: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Data profile on κ ∈ [0, budget] simplex gradients, performance profile on α ∈ [1, 10⁴]."""
    kappa = np.linspace(0.0, 100.0, 401)
    alpha = np.logspace(0.0, 4.0, 401)
    return {
        "data": (kappa, profiles.data_profile(p.t[tau], p.dims, kappa)),
        "performance": (alpha, profiles.performance_profile(p.t[tau], alpha)),
    }


def write_profiles(out: Path, p: Profiles, taus: Sequence[float]) -> list[Path]:
    """profiles.csv (kind, tau, x, one column per label) and one PNG per kind and τ."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines, written = [], []
    header = ["kind", "tau", "x", *p.labels]
    for tau in taus:
        curves = profile_curves(p, tau)
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        for ax, (kind, (x, y)) in zip(axes, curves.items(), strict=True):
            for j, label in enumerate(p.labels):
                ax.step(x, y[:, j], where="post", label=label)
            for xi, yi in zip(x, y, strict=True):
                lines.append([kind, f"{tau:g}", f"{xi:.6g}", *(f"{v:.6g}" for v in yi)])
            ax.set_ylim(-0.02, 1.02)
            ax.grid(alpha=0.3)
            if kind == "data":
                ax.set_xlabel("κ: budget in simplex gradients, cost / (n + 1)")
                ax.set_ylabel("fraction of problems solved")
                ax.set_title(f"data profile, τ = {tau:g}")
            else:
                ax.set_xscale("log")
                ax.set_xlabel("α: cost within a factor α of the best member")
                ax.set_ylabel("fraction of problems")
                ax.set_title(f"performance profile, τ = {tau:g}")
        axes[0].legend(loc="lower right")
        fig.suptitle(f"Moré & Wild's {len(p.problems)} problems, f=1, ∇f=1, ∇²f=n cost units")
        fig.tight_layout()
        path = out / f"profiles_tau{tau:.0e}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    csv = out / "profiles.csv"
    csv.write_text("\n".join(",".join(r) for r in [header, *lines]) + "\n")
    return [csv, *written]


def best_table(runs: Runs, factor: float) -> list[dict[str, Any]]:
    """Per problem: the best f any lineup member found (and which), beside MGH's f*."""
    found = best_within(runs, factor)
    out = []
    for row in sorted({int(r) for r in runs.rows}):
        nprob, n, m, s = PROBLEMS[row - 1]
        mine = np.flatnonzero(runs.rows == row)
        i = mine[np.argmin(found[mine])]
        f_min = surfaces.get("morewild", problem=row).f_min
        diff = np.nan if f_min is None else (found[i] - f_min) / max(abs(f_min), 1e-300)
        out.append(
            {
                "problem": row,
                "function": FUNCTIONS[nprob].name,
                "n": n,
                "m": m,
                "s": s,
                "f0": float(runs.f0[i]),
                "best_f": float(found[i]),
                "best_by": str(runs.labels[i]),
                "f_star": f_min,
                "relative_difference": float(diff) if f_min else np.nan,
                "absolute_difference": np.nan if f_min is None else float(found[i] - f_min),
            }
        )
    return out


def _csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    from optlab.records import write_csv

    write_csv(path, rows)
    return path


def solved_table(p: Profiles) -> list[dict[str, Any]]:
    """Per τ and label: problems solved within the budget and the median cost of those solved."""
    out = []
    for tau, t in p.t.items():
        for j, label in enumerate(p.labels):
            done = t[:, j][np.isfinite(t[:, j])]
            out.append(
                {
                    "tau": tau,
                    "label": label,
                    "solved": len(done),
                    "of": len(p.problems),
                    "median_cost": float(np.median(done)) if len(done) else np.nan,
                }
            )
    return out


def task(cfg: Any, out: Path, overrides: list[str]) -> list[dict[str, Any]]:
    """`task: suite`: run the lineup on the problems, tune, write profiles and tables into `out`."""
    import time

    from optlab.config import build_suite

    job = build_suite(cfg)
    began = time.perf_counter()
    runs = run(job)
    chosen = tune(runs, job)
    lineup = lineup_runs(runs, chosen)
    labels = [m.label for m in job.members]
    p = cost_tables(lineup, labels, job.taus, job.budget)
    out.mkdir(parents=True, exist_ok=True)
    written = write_profiles(out, p, job.taus)
    best = best_table(lineup, job.budget)
    written.append(_csv(out / "best.csv", best))
    written.append(_csv(out / "solved.csv", solved_table(p)))
    tuned = [
        {"label": k, "learning_rate": v, "grid": list(job.grids[k])} for k, v in chosen.items()
    ]
    written.append(_csv(out / "tuning.csv", tuned))
    cost_rows = [
        {
            "problem": row,
            **{
                f"t_{lab}_tau{tau:.0e}": p.t[tau][i, j]
                for tau in job.taus
                for j, lab in enumerate(labels)
            },
        }
        for i, row in enumerate(p.problems)
    ]
    written.append(_csv(out / "costs.csv", cost_rows))
    wall = time.perf_counter() - began
    print(f"optlab: {len(runs.rows)} runs on {len(p.problems)} problems in {wall:.0f} s")
    print("optlab: tuned learning rates: " + ", ".join(f"{k}={v:.3g}" for k, v in chosen.items()))
    for r in solved_table(p):
        print(f"  tau={r['tau']:.0e}  {r['label']:<10} solved {r['solved']:>2}/{r['of']}")
    print(f"optlab: wrote {', '.join(w.name for w in written)} to {out}")
    return best
