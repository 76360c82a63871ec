"""Tidy records of a job: `trajectory.npz` (per-step arrays) and `runs.csv` (one row per run)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from optlab.config import Job
from optlab.engine import STATUS_NAMES, Trajectory

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


def _fmt(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return json.dumps(value.tolist())
    if isinstance(value, dict | list | tuple):
        return json.dumps(value)
    return value


def run_rows(
    job: Job, traj: Trajectory, extra: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """One dict per run: its coordinates (optimizer, hyperparameters, start, seed) and outcomes.

    `extra` adds columns, one value per run (e.g. the Hessian checks at each final point).
    """
    hp_names = sorted({k for m in job.members for k in m.config if k != "name"})
    final = traj.params[:, -1]
    dist = job.surface.distance_to_minimizer(final)
    rows, r = [], 0
    labels = job.labels
    for m in job.members:
        for start in job.starts:
            row = {
                "label": labels[r],
                "optimizer": m.spec.name,
                "surface": job.surface.name,
                "dim": job.surface.dim,
                "learning_rate": m.config.get("learning_rate"),
                "start": start,
                "seed": job.seed,
                "dtype": job.dtype,
                "final_loss": float(traj.loss[r, -1]),
                "f_min": job.surface.f_min,
                "final_params": final[r],
                "final_grad_norm": float(traj.grad_norm[r, -1]),
                "distance_to_minimizer": float(dist[r]),
                "steps": job.steps,
                "steps_taken": int(traj.steps_taken[r]),
                "status": STATUS_NAMES[int(traj.status[r])],
                "f_evals": int(traj.f_evals[r]),
                "grad_evals": int(traj.grad_evals[r]),
                "hessian_evals": int(traj.hessian_evals[r]),
            }
            row |= {f"hp.{k}": m.config.get(k) for k in hp_names}
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
    arrays = {k: np.asarray(getattr(traj, k)) for k in STEP_ARRAYS + RUN_ARRAYS} | (extra or {})
    arrays["status_names"] = np.asarray(STATUS_NAMES)
    np.savez_compressed(path, labels=np.asarray(job.labels), **arrays)


def write(
    out: Path, job: Job, traj: Trajectory, extra: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Write `trajectory.npz` and `runs.csv` (plus the per-run columns `extra`); return the rows."""
    rows = run_rows(job, traj, extra)
    write_npz(out / "trajectory.npz", job, traj)
    write_csv(out / "runs.csv", rows)
    return rows
