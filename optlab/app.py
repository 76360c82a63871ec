"""The main job: config -> job -> one compiled program -> records -> plots -> summary."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import jax
import numpy as np

from optlab import calculus, derivatives, engine, landscape, plots, records
from optlab.config import Job, build_job
from optlab.errors import UserError
from optlab.ml import tasks as ml_tasks

log = logging.getLogger("optlab")


def overrides_choose_optimizer(overrides: list[str]) -> bool:
    """True when the command line sets `optimizer=...` or `optimizer.*` (replacing a lineup)."""
    keys = (o.split("=", 1)[0].lstrip("+~") for o in overrides)
    return any(k == "optimizer" or k.startswith("optimizer.") for k in keys)


def use_dtype(dtype: str) -> None:
    """Switch JAX to 64-bit when `dtype` is float64 (x64 is process-wide: set it before any work)."""
    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)


def simulate(job: Job) -> engine.Trajectory:
    """Run every member of `job` from every start in one compiled program."""
    use_dtype(job.dtype)
    return engine.run(
        job.surface,
        job.groups,
        job.steps,
        diagnostics=job.diagnostics,
        tol_grad=job.tol_grad,
        target=job.target,
        dtype=np.dtype(job.dtype),
    )


def draw(out: Path, job: Job, traj: engine.Trajectory) -> list[Path]:
    """The pictures `job.plots` names (docs/plots.md), written into `out`."""
    s, o = job.surface, job.plot_options
    title = f"{s.name} ({s.dim}-D), {job.steps} steps"
    written = []
    if "loss" in job.plots:
        written.append(
            plots.loss(
                out / plots.FILES["loss"],
                traj.loss,
                job.labels,
                title=title,
                f_min=s.f_min,
                grad_norm=traj.grad_norm,
                params=traj.params,
                f_evals=traj.f_evals,
                steps_taken=traj.steps_taken,
                dpi=o.dpi,
            )
        )
    maps = [k for k in job.plots if k in plots.MAPS]
    if maps and s.dim < 2:
        log.warning(f"{', '.join(maps)}: {s.name} is 1-D, there is no plane to draw; skipped")
        return written
    if not maps:
        return written
    plane = landscape.view(s, traj.params, traj.loss, o.projection, o.axes, job.plot_bounds)
    if s.dim > 2 and o.projection is None:
        log.info(
            f"{', '.join(maps)}: {s.name} is {s.dim}-D; drawing the {plane.note} "
            "(choose with plot_options.axes=[i,j] or plot_options.projection=pca)"
        )
    scene = landscape.scene(
        s, plane, traj.params, traj.grad, job.labels, title, o.resolution, o.quiver
    )
    return written + [plots.write_map(k, out, scene, o) for k in maps]


def summary(rows: list[dict[str, Any]]) -> str:
    """A short table: one line per run (label, final loss, distance to the minimizer, status)."""
    width = max(len("label"), *(len(r["label"]) for r in rows))
    lines = [f"{'label':<{width}}  {'final_loss':>12}  {'distance':>10}  {'steps':>6}  status"]
    for r in rows:
        lines.append(
            f"{r['label']:<{width}}  {r['final_loss']:>12.4e}  {r['distance_to_minimizer']:>10.3e}  "
            f"{r['steps_taken']:>6}  {r['status']}"
        )
    return "\n".join(lines)


def optimize(cfg: Any, out: Path, overrides: list[str]) -> list[dict[str, Any]]:
    """Build the job from `cfg`, run it, write records and plots into `out`, print a summary."""
    job = build_job(cfg, single_optimizer=overrides_choose_optimizer(overrides))
    for w in job.warnings:
        log.warning(w)
    traj = simulate(job)
    out.mkdir(parents=True, exist_ok=True)
    final = calculus.point_checks(job.surface, traj.params[:, -1])
    rows = records.write(out, job, traj, extra=final)
    draw(out, job, traj)
    print(f"optlab: wrote trajectory.npz, runs.csv and plots to {out}")
    print(summary(rows))
    return rows


TASKS = {
    "optimize": optimize,
    "derivatives": derivatives.task,
    "mlp": ml_tasks.mlp,
    "penalty": ml_tasks.penalty,
    "saliency": ml_tasks.saliency,
}


def main(cfg: Any, out: Path, overrides: list[str]) -> Any:
    """Dispatch on `cfg.task` (an experiment chooses it; default `optimize`)."""
    task = cfg.get("task", "optimize")
    use_dtype(cfg.get("dtype"))
    if task not in TASKS:
        raise UserError(f"task={task!r} is unknown; available: {', '.join(sorted(TASKS))}")
    return TASKS[task](cfg, out, overrides)
