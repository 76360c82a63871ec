"""The report's data: stored runs as per-surface designs (solvers × starts), their costs under one
cost model, and the ranking statistics of optlab.stats on them (NumPy).

Every number of the report is computed here, once; the tables, CSVs and figures only format it.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from optlab import results, stats
from optlab.errors import UserError
from optlab.noise import Noise

REPORTED_ROLES = ("run", "eval")  # tuning runs only choose settings; they are not compared


def instance_name(row: dict[str, Any], noise: bool = True) -> str:
    """A problem's display name: the surface instance, then (with `noise`) its noise when noisy,
    e.g. `rosenbrock 2-D`, `quadratic 2-D condition_number=1000`, `rosenbrock 2-D, gaussian σ=1`."""
    params = sorted((k, v) for k, v in row["instance"].items() if k != "dim" and v is not None)
    extra = " ".join(f"{k}={v}" for k, v in params)
    name = f"{row['surface']} {row['dim']}-D" + (f" {extra}" if extra else "")
    label = noise_label(row) if noise else ""
    return f"{name}, {label}" if label else name


def noise_label(row: dict[str, Any]) -> str:
    """The noise a run ran under, e.g. `gaussian σ=1` (optlab.noise's label); "" when noiseless."""
    settings = row.get("noise")
    return Noise(**settings).label() if settings else ""


def replicate(row: dict[str, Any]) -> str:
    """A run's replicate within its problem, as JSON: its start; with noise, its start and seed
    (the seed is the noise stream, so each seed from one start is another replicate)."""
    if row.get("noise"):
        return json.dumps({"start": row["start"], "seed": row["seed"]})
    return json.dumps(row["start"])


def noisy(rows: Sequence[dict[str, Any]]) -> bool:
    """Whether any of `rows` ran under noise (their replicates are (start, seed) pairs)."""
    return any(r.get("noise") for r in rows)


def _solver_names(rows: list[dict[str, Any]]) -> None:
    """Set `solver`: the label; a label run with several settings on one surface gets them appended."""
    settings = defaultdict(set)
    for r in rows:
        settings[(r["role"], r["label"], r["surface_name"])].add(
            json.dumps(r["hparams"], sort_keys=True)
        )
    tuned_labels = {r["label"] for r in rows if r["role"] == "eval"}
    for r in rows:
        name = r["label"]
        if r["role"] == "run" and len(settings[("run", name, r["surface_name"])]) > 1:
            variants = [json.loads(s) for s in settings[("run", name, r["surface_name"])]]
            differ = sorted(
                k for k in r["hparams"] if len({json.dumps(v.get(k)) for v in variants}) > 1
            )
            name += " (" + ", ".join(f"{k}={r['hparams'][k]}" for k in differ) + ")"
        elif r["role"] == "run" and name in tuned_labels:
            name += " (untuned)"
        r["solver"] = name


def cum_counts(row: dict[str, Any]) -> tuple[np.ndarray, bool]:
    """(N, 3) evaluations of f, ∇f, ∇²f counted up to each point of the row's curve, and whether
    they are exact. Rows stored by results schema 1 kept no counts per step: theirs are estimated
    as one f and one ∇f evaluation at the start, then the run's mean counts per step."""
    cum = row.get("cum_evals")
    if cum is not None:
        return np.asarray(cum, dtype=float), True
    steps = results.curve_steps(row).astype(float)
    k = max(row["steps_taken"], 1)
    total = np.array([row["f_evals"], row["grad_evals"], row["hessian_evals"]], dtype=float)
    start = np.array([1.0, 1.0, 0.0])
    per_step = (total - start) / k
    return start + np.minimum(steps, row["steps_taken"])[:, None] * per_step, False


@dataclasses.dataclass
class Runs:
    """The compared runs under one cost model: cost to each target (inf: never reached), the cost
    of the whole run, final f − f*, and per run the cumulative cost at each curve point."""

    rows: list[dict[str, Any]]
    targets: tuple[float, ...]  # largest first
    weights: np.ndarray  # (R, 3) cost of one evaluation of f, ∇f, ∇²f
    cost_to: np.ndarray  # (R, K) cost up to and including the first hit of each target
    budget: np.ndarray  # (R,) cost of the whole run
    gap: np.ndarray  # (R,) final f − f*, inf for a diverged run
    cum_cost: list[np.ndarray]  # per run (N,) cost up to each curve point
    exact: np.ndarray  # (R,) bool: counts at the hit and per step exact (not estimated)
    solvers: tuple[str, ...]
    surfaces: tuple[str, ...]

    def where(self, **match: Any) -> np.ndarray:
        """Indices of the rows whose fields equal `match`."""
        return np.array(
            [i for i, r in enumerate(self.rows) if all(r[k] == v for k, v in match.items())],
            dtype=int,
        )


def _cost_to(row: dict[str, Any], targets: Sequence[float], w: np.ndarray) -> np.ndarray:
    """Cost to each target from the counts stored at the hit (exact, any `record_every`); rows of
    results schema 1 fall back to their curve and estimated counts."""
    names = [results.target_name(t) for t in targets]
    if all(f"f_evals_to_{n}" in row for n in names):
        counts = np.array(
            [[row[f"{k}_evals_to_{n}"] for k in results.COUNTS] for n in names], dtype=float
        )
        return np.where(np.isnan(counts).any(axis=1), np.inf, counts @ w)
    cum, _ = cum_counts(row)
    return first_cost(np.asarray(row["curve"], dtype=float)[None], (cum @ w)[None], targets)[0]


def first_cost(curves: np.ndarray, cum_cost: np.ndarray, targets: Sequence[float]) -> np.ndarray:
    """Cost at the first curve point with f − f* ≤ each target (inf: never): (R, K).

    `curves` and `cum_cost` (R, N); `targets` (K,) shared, or (R, K) one per run.
    """
    best = np.fmin.accumulate(np.asarray(curves, dtype=float), axis=1)  # running minimum
    t = np.asarray(targets, dtype=float)
    t = np.broadcast_to(t, (len(best), t.shape[-1]))
    n = best.shape[1]
    out = np.full(t.shape, np.inf)
    for k in range(t.shape[1]):
        above = (best > t[:, k : k + 1]) | np.isnan(best)
        first = above.sum(axis=1)  # the running minimum is non-increasing: count before the hit
        hit = first < n
        out[hit, k] = cum_cost[hit, first[hit]]
    return out


def prepare(stored: list[dict[str, Any]], targets: Sequence[float], cost_model: Any = None) -> Runs:
    """The compared runs (roles `run` and `eval`) of a loaded store under `cost_model` (an
    optlab.cost model; None: each run's own), or a UserError when none."""
    from optlab import cost

    rows = [r for r in stored if r["role"] in REPORTED_ROLES and r.get("curve") is not None]
    if not rows:
        raise UserError(
            "the results store holds no runs to report (no optimize or tune job stored)"
        )
    for r in rows:
        r["surface_name"] = instance_name(r)
        r["problem"] = (r["surface_name"], replicate(r))
    _solver_names(rows)
    weights, cost_to, budget, cums, exact = [], [], [], [], []
    for r in rows:
        model = cost_model if cost_model is not None else model_of(r)
        w = np.asarray(cost.weights(model, r["dim"]), dtype=float)
        cum, ok = cum_counts(r)
        weights.append(w)
        cost_to.append(_cost_to(r, targets, w))
        budget.append(float(np.array([r["f_evals"], r["grad_evals"], r["hessian_evals"]]) @ w))
        cums.append(cum @ w)
        exact.append(ok)
    gap = np.array(
        [
            np.inf
            if r["status"] == "diverged" or r["gap"] is None or np.isnan(r["gap"])
            else r["gap"]
            for r in rows
        ]
    )
    return Runs(
        rows=rows,
        targets=tuple(targets),
        weights=np.array(weights),
        cost_to=np.array(cost_to, dtype=float).reshape(len(rows), len(targets)),
        budget=np.array(budget),
        gap=gap,
        cum_cost=cums,
        exact=np.array(exact),
        solvers=tuple(sorted({r["solver"] for r in rows})),
        surfaces=tuple(sorted({r["surface_name"] for r in rows})),
    )


def model_of(row: dict[str, Any]) -> Any:
    from optlab import cost

    stored = row.get("cost")
    return cost.Cost() if stored is None else cost.from_mapping(stored)


@dataclasses.dataclass
class Design:
    """One problem (a surface instance, with its noise) as a paired design: `index` (S, N) the
    run of each solver on each replicate (a start; with noise, a (start, seed) pair)."""

    surface: str
    solvers: tuple[str, ...]  # those that ran on this surface
    starts: tuple[str, ...]  # the replicates every one of them ran (`replicate`'s JSON)
    index: np.ndarray  # (S, N) into Runs.rows
    dropped: int  # runs left out (a replicate not every solver ran, or a repeated run)


def design(runs: Runs, surface: str) -> Design:
    """The first run of each (solver, replicate) on `surface`, over the replicates every solver
    ran: the bootstrap resamples them and the paired tests pair by them."""
    first: dict[tuple[str, str], int] = {}
    count = 0
    for i in runs.where(surface_name=surface):
        r = runs.rows[i]
        first.setdefault((r["solver"], replicate(r)), int(i))
        count += 1
    solvers = tuple(sorted({s for s, _ in first}))
    by_start = defaultdict(set)
    for s, p in first:
        by_start[p].add(s)
    starts = tuple(sorted(p for p, ss in by_start.items() if len(ss) == len(solvers)))
    index = np.array([[first[(s, p)] for p in starts] for s in solvers], dtype=int)
    return Design(
        surface, solvers, starts, index.reshape(len(solvers), len(starts)), count - index.size
    )


def rank_keys(cost_to: np.ndarray, budget: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """Per solver the sort key of the per-surface order (S, K + 1): aRT at each target from the
    tightest to the loosest, then the median final f − f*. Targets no solver reached tie at inf,
    so the first key that separates is the aRT at the tightest target any solver reached.

    `cost_to` (S, N, K) with targets largest first, `budget` and `gap` (S, N).
    """
    a = stats.art(np.moveaxis(cost_to, 2, 1), budget[:, None, :])  # (S, K)
    med = np.median(np.where(np.isnan(gap), np.inf, gap), axis=1)
    return np.column_stack([a[:, ::-1], med])


def _surface_arrays(runs: Runs, d: Design) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return runs.cost_to[d.index], runs.budget[d.index], runs.gap[d.index]


def floor_gap(runs: Runs) -> float:
    """Final f − f* below the tightest target counts as equal in the paired tests."""
    return min(runs.targets)


def cells(cost_to: np.ndarray, budget: np.ndarray, gap: np.ndarray) -> dict[str, Any]:
    """Statistics of a set of runs: median and IQR of final f − f*; per target the success rate
    with its Wilson interval, aRT and the median cost among successes (a secondary number)."""
    ok = np.isfinite(cost_to)
    n = len(gap)
    low, high = stats.wilson(ok.sum(axis=0), np.full(ok.shape[1], n))
    return {
        "runs": n,
        "median_gap": stats.quantile(gap, 0.5),
        "q25": stats.quantile(gap, 0.25),
        "q75": stats.quantile(gap, 0.75),
        "success": ok.mean(axis=0) if n else np.full(ok.shape[1], np.nan),
        "success_low": low,
        "success_high": high,
        "aRT": stats.art(cost_to.T, budget[None, :]),
        "median_cost": np.array(
            [
                np.median(cost_to[ok[:, k], k]) if ok[:, k].any() else np.inf
                for k in range(ok.shape[1])
            ]
        ),
    }


def ranking(runs: Runs, d: Design, alpha: float = 0.05) -> list[dict[str, Any]]:
    """Per solver on one surface: `cells`, its rank (ties averaged), and the paired Wilcoxon test
    against the best (Holm-adjusted p, `best_not_worse`); best first, ties by name."""
    c, b, g = _surface_arrays(runs, d)
    ranks = stats.average_ranks(rank_keys(c, b, g))
    order = sorted(range(len(d.solvers)), key=lambda s: (ranks[s], d.solvers[s]))
    best = order[0] if order else 0
    floor = floor_gap(runs)
    p, same = stats.versus_best(np.maximum(g, floor), best, alpha) if len(order) else ([], [])
    table = []
    for s in order:
        table.append(
            {
                "solver": d.solvers[s],
                "rank": float(ranks[s]),
                "p_vs_best": float(p[s]),
                "best_not_worse": bool(same[s]),
                "is_best": s == best,
                **cells(c[s], b[s], g[s]),
            }
        )
    return table


def overall(
    runs: Runs,
    designs: Sequence[Design],
    per_surface: dict[str, list[dict[str, Any]]],
    resamples: int = stats.RESAMPLES,
    seed: int = stats.SEED,
) -> list[dict[str, Any]]:
    """Per solver: mean rank over the surfaces it ran on with a seeded bootstrap 95% interval
    (starts resampled within each surface), its rank by mean rank (ties averaged), and `cells`
    pooled over all its runs in the designs; best first, ties by name."""
    solvers = runs.solvers
    col = {s: i for i, s in enumerate(solvers)}
    observed = np.full((len(designs), len(solvers)), np.nan)
    for g, d in enumerate(designs):
        for r in per_surface[d.surface]:
            observed[g, col[r["solver"]]] = r["rank"]
    arrays = [_surface_arrays(runs, d) for d in designs]

    def ranks_of(draw: list[np.ndarray]) -> np.ndarray:
        out = np.full((len(designs), len(solvers)), np.nan)
        for g, (d, (c, b, gap), idx) in enumerate(zip(designs, arrays, draw, strict=True)):
            keys = rank_keys(c[:, idx], b[:, idx], gap[:, idx])
            out[g, [col[s] for s in d.solvers]] = stats.average_ranks(keys)
        return out

    sizes = [len(d.starts) for d in designs]
    interval = stats.bootstrap_mean_rank(ranks_of, sizes, resamples, seed)
    mean = np.nanmean(observed, axis=0)
    rank = stats.average_ranks(mean[:, None])
    table = []
    for s, solver in enumerate(solvers):
        idx = np.concatenate(
            [d.index[list(d.solvers).index(solver)] for d in designs if solver in d.solvers]
        )
        table.append(
            {
                "solver": solver,
                "rank": float(rank[s]),
                "mean_rank": float(mean[s]),
                "mean_rank_low": float(interval[0, s]),
                "mean_rank_high": float(interval[1, s]),
                "surfaces": int(np.isfinite(observed[:, s]).sum()),
                **cells(runs.cost_to[idx], runs.budget[idx], runs.gap[idx]),
            }
        )
    table.sort(key=lambda r: (r["rank"], r["solver"]))
    return table


def problems(runs: Runs, designs: Sequence[Design]) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    """The profiles' problems: every (surface, start) of a design in which every solver ran.

    Returns `index` (P, S) into Runs.rows (solvers in `runs.solvers` order), `dims` (P,) and the
    (surface, start) of each problem.
    """
    rows, dims, names = [], [], []
    for d in designs:
        if set(d.solvers) != set(runs.solvers):
            continue
        order = [d.solvers.index(s) for s in runs.solvers]
        for n, start in enumerate(d.starts):
            rows.append(d.index[order, n])
            dims.append(runs.rows[d.index[0, n]]["dim"])
            names.append((d.surface, start))
    index = np.array(rows, dtype=int).reshape(len(rows), len(runs.solvers))
    return index, np.array(dims, dtype=int), names
