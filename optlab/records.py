"""Tidy records of a job: `trajectory.npz` (per-step arrays) and `runs.csv` (one row per run)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from optlab import cost as cost_
from optlab.config import Job
from optlab.engine import STATUS_NAMES, Trajectory
from optlab.results import target_name

STEP_ARRAYS = (
    "params",
    "loss",
    "grad",
    "grad_norm",
    "directional_derivative",
    "cos_to_negative_gradient",
    "curvature",
)
RUN_ARRAYS = ("status", "steps_taken", "f_evals", "grad_evals", "hessian_evals")
COST_ARRAYS = ("cum_f_evals", "cum_grad_evals", "cum_hessian_evals", "hit_step", "hit_evals")


def _fmt(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return json.dumps(value.tolist())
    if isinstance(value, dict | list | tuple):
        return json.dumps(value)
    return value


def hit_columns(traj: Trajectory, c: cost_.Cost, dim: int) -> dict[str, np.ndarray]:
    """Per target t: `steps_to_<t>` (first step with f − f* ≤ t) and `evals_to_<t>` (the cost
    model's weights · the evaluations up to and including it), None where never reached."""
    if traj.targets is None or traj.hit_step is None:
        return {}
    spent = cost_.total(c, dim, traj.hit_evals)  # (R, K), NaN where never
    out = {}
    for k, t in enumerate(traj.targets):
        reached = traj.hit_step[:, k] >= 0
        out[f"steps_to_{target_name(t)}"] = [
            int(s) if ok else None for s, ok in zip(traj.hit_step[:, k], reached, strict=True)
        ]
        out[f"evals_to_{target_name(t)}"] = [
            float(e) if ok else None for e, ok in zip(spent[:, k], reached, strict=True)
        ]
    return out


def run_rows(
    job: Job,
    traj: Trajectory,
    extra: dict[str, Any] | None = None,
    cost: cost_.Cost | None = None,
) -> list[dict[str, Any]]:
    """One dict per run: its coordinates (optimizer, hyperparameters, start, seed) and outcomes.

    `extra` adds columns, one value per run (e.g. the Hessian checks at each final point);
    `steps_to_<t>` / `evals_to_<t>` per target of `traj` are priced by `cost` (default 1, 1, d).
    """
    hits = hit_columns(traj, cost or cost_.Cost(), job.surface.dim)
    pts = job.points
    hp_names = sorted(
        {k for m in job.members for k in m.config if k != "name"}
        | set(job.grid.axes if job.grid else ())
    )
    final = traj.params[:, -1] if traj.final_params is None else traj.final_params
    final_loss = traj.loss[:, -1] if traj.final_loss is None else traj.final_loss
    final_gn = traj.grad_norm[:, -1] if traj.final_grad_norm is None else traj.final_grad_norm
    dist = job.surface.distance_to_minimizer(final)
    rows, r = [], 0
    labels = job.labels
    for m in job.members:
        for i in range(job.runs_per_member):
            row = {
                "label": labels[r],
                "optimizer": m.spec.name,
                "surface": job.surface.name,
                "dim": job.surface.dim,
                "learning_rate": job.hparam(m, "learning_rate", i),
                "start": pts["start"][i],
                "seed": int(pts["seed"][i]),
                "dtype": job.dtype,
                "final_loss": float(final_loss[r]),
                "f_min": job.surface.f_min,
                "final_params": final[r],
                "final_grad_norm": float(final_gn[r]),
                "distance_to_minimizer": float(dist[r]),
                "steps": job.steps,
                "steps_taken": int(traj.steps_taken[r]),
                "status": STATUS_NAMES[int(traj.status[r])],
                "f_evals": int(traj.f_evals[r]),
                "grad_evals": int(traj.grad_evals[r]),
                "hessian_evals": int(traj.hessian_evals[r]),
            }
            row |= {f"hp.{k}": job.hparam(m, k, i) for k in hp_names}
            row |= {k: v[r] for k, v in hits.items()}
            row |= {k: v[r] for k, v in (extra or {}).items()}
            rows.append(row)
            r += 1
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write `rows` as CSV; arrays and nested values are JSON-encoded, None is empty."""
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for row in rows:
            w.writerow({k: _fmt(row.get(k)) for k in fields})


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV written by `write_csv`, as strings."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def write_npz(
    path: Path, job: Job, traj: Trajectory, extra: dict[str, np.ndarray] | None = None
) -> None:
    """Per-step arrays with a leading run axis, run-level outcomes, and `labels` (R,); `extra`
    adds arrays a task measures beside the trajectory (e.g. accuracy per step)."""
    arrays = {k: np.asarray(getattr(traj, k)) for k in STEP_ARRAYS + RUN_ARRAYS + COST_ARRAYS}
    arrays = {k: v for k, v in arrays.items() if v.dtype != object}  # fields left out of `record`
    arrays |= extra or {}
    if traj.record_steps is not None and len(traj.record_steps) != job.steps + 1:
        arrays["record_steps"] = np.asarray(traj.record_steps)
    if traj.targets is not None:
        arrays["targets"] = np.asarray(traj.targets, dtype=float)
    arrays["status_names"] = np.asarray(STATUS_NAMES)
    np.savez_compressed(path, labels=np.asarray(job.labels), **arrays)


def write(
    out: Path,
    job: Job,
    traj: Trajectory,
    extra: dict[str, Any] | None = None,
    cost: cost_.Cost | None = None,
) -> list[dict[str, Any]]:
    """Write `trajectory.npz` and `runs.csv` (plus the per-run columns `extra`, evaluations to
    each target priced by `cost`); return the rows."""
    rows = run_rows(job, traj, extra, cost)
    write_npz(out / "trajectory.npz", job, traj)
    write_csv(out / "runs.csv", rows)
    return rows
