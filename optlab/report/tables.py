"""The report's data: stored runs as problems × solvers, and ranking statistics (NumPy only)."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from optlab import results
from optlab.errors import UserError

REPORTED_ROLES = ("run", "eval")  # tuning runs only choose settings; they are not compared


def instance_name(row: dict[str, Any]) -> str:
    """A surface instance's display name, e.g. `rosenbrock 2-D`, `quadratic 2-D condition_number=1000`."""
    params = sorted((k, v) for k, v in row["instance"].items() if k != "dim" and v is not None)
    extra = " ".join(f"{k}={v}" for k, v in params)
    return f"{row['surface']} {row['dim']}-D" + (f" {extra}" if extra else "")


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


@dataclasses.dataclass
class Runs:
    """The compared runs with their evaluations to each target (inf: never reached)."""

    rows: list[dict[str, Any]]
    targets: tuple[float, ...]
    evals_to: np.ndarray  # (R, K)
    gap: np.ndarray  # (R,) final f − f*, inf for a diverged run
    solvers: tuple[str, ...]
    surfaces: tuple[str, ...]

    def where(self, **match: Any) -> np.ndarray:
        """Indices of the rows whose fields equal `match`."""
        return np.array(
            [i for i, r in enumerate(self.rows) if all(r[k] == v for k, v in match.items())],
            dtype=int,
        )


def evals_to(row: dict[str, Any], targets: Sequence[float]) -> np.ndarray:
    """Evaluations at which `row` first reached each target (inf: never), from its stored curve."""
    if row.get("f_min") is None:
        return np.full(len(targets), np.inf)
    steps = results.curve_steps(row)
    _, e = results.hits(row["curve"][None], targets, [row["steps_taken"]], [row["evals"]], steps)
    return np.where(np.isnan(e[0]), np.inf, e[0])


def prepare(stored: list[dict[str, Any]], targets: Sequence[float]) -> Runs:
    """The compared runs (roles `run` and `eval`) of a loaded store, or a UserError when none."""
    rows = [r for r in stored if r["role"] in REPORTED_ROLES and r.get("curve") is not None]
    if not rows:
        raise UserError(
            "the results store holds no runs to report (no optimize or tune job stored)"
        )
    for r in rows:
        r["surface_name"] = instance_name(r)
        r["problem"] = (r["surface_name"], json.dumps(r["start"]))
    _solver_names(rows)
    gap = np.array(
        [np.inf if r["status"] == "diverged" or r["gap"] is None else r["gap"] for r in rows]
    )
    return Runs(
        rows=rows,
        targets=tuple(targets),
        evals_to=np.array([evals_to(r, targets) for r in rows]),
        gap=gap,
        solvers=tuple(sorted({r["solver"] for r in rows})),
        surfaces=tuple(sorted({r["surface_name"] for r in rows})),
    )


def cost_table(runs: Runs, costs: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    """(t (P, S), dims (P,), problems) over the problems every solver ran (first run of each pair).

    `costs` (R, ...) is a per-row cost (e.g. evaluations to each target); t keeps its trailing axes.
    """
    index = {}
    for i, r in enumerate(runs.rows):
        index.setdefault((r["problem"], r["solver"]), i)
    by_problem = defaultdict(set)
    for p, s in index:
        by_problem[p].add(s)
    problems = sorted(p for p, ss in by_problem.items() if len(ss) == len(runs.solvers))
    t = np.array([[costs[index[(p, s)]] for s in runs.solvers] for p in problems])
    dims = np.array([runs.rows[index[(p, runs.solvers[0])]]["dim"] for p in problems])
    return t.reshape(len(problems), len(runs.solvers), *costs.shape[1:]), dims, problems


def quantile(x: np.ndarray, q: float) -> float:
    """The q-quantile (linear interpolation) of `x`, +inf when it falls on or next to an inf."""
    big = np.finfo(float).max
    value = float(np.quantile(np.where(np.isinf(x), big, x), q))
    return np.inf if value > big / 4 else value


def stats(runs: Runs, idx: np.ndarray) -> dict[str, Any]:
    """Median and IQR of final f − f*, success rate and median evaluations to each target."""
    gap = runs.gap[idx]
    e = runs.evals_to[idx]
    ok = np.isfinite(e)
    med_evals = [
        float(np.median(e[ok[:, k], k])) if ok[:, k].any() else np.inf for k in range(e.shape[1])
    ]
    return {
        "runs": len(idx),
        "median_gap": quantile(gap, 0.5),
        "q25": quantile(gap, 0.25),
        "q75": quantile(gap, 0.75),
        "success": ok.mean(axis=0),
        "median_evals": np.array(med_evals),
    }


def _sort_key(s: dict[str, Any]) -> tuple:
    """Most successes at the tightest target first, then fewest evaluations; then looser targets."""
    key = []
    for k in reversed(range(len(s["success"]))):
        key += [-s["success"][k], s["median_evals"][k]]
    return (*key, s["median_gap"])


def ranking(runs: Runs, surface: str) -> list[dict[str, Any]]:
    """Per solver on `surface`: `stats` and its rank (1 = best), best first."""
    table = []
    for solver in runs.solvers:
        idx = runs.where(surface_name=surface, solver=solver)
        if len(idx):
            table.append({"solver": solver, **stats(runs, idx)})
    table.sort(key=_sort_key)
    for rank, row in enumerate(table, 1):
        row["rank"] = rank
    return table


def overall(runs: Runs, per_surface: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per solver over every problem: mean rank across surfaces and pooled `stats`, best first."""
    table = []
    for solver in runs.solvers:
        ranks = [r["rank"] for rows in per_surface.values() for r in rows if r["solver"] == solver]
        table.append(
            {
                "solver": solver,
                "mean_rank": float(np.mean(ranks)),
                **stats(runs, runs.where(solver=solver)),
            }
        )
    table.sort(key=lambda r: (r["mean_rank"], *_sort_key(r)))
    return table
