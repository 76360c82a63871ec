"""The main job: config -> job -> one compiled program -> records -> plots -> summary."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import jax
import numpy as np

from optlab import (
    cache,
    calculus,
    derivatives,
    devices,
    engine,
    landscape,
    plots,
    progress,
    records,
)
from optlab.config import Job, build_job, cache_dir
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
    """Run every member of `job` at every grid point in one compiled program."""
    use_dtype(job.dtype)
    devs = devices.resolve(job.device)
    runs = len(job.labels)
    print(
        f"optlab: {runs} runs × {job.steps} steps on {devices.describe(devs)} (device={job.device})"
    )
    bar = (
        progress.bar(runs * job.steps, runs)
        if progress.wanted(job.progress, runs, job.steps)
        else None
    )
    try:
        return engine.run(
            job.surface,
            job.groups,
            job.steps,
            diagnostics=job.diagnostics,
            tol_grad=job.tol_grad,
            target=job.target,
            dtype=np.dtype(job.dtype),
            record=job.record,
            record_every=job.record_every,
            devices=devs,
            chunk_size=job.chunk_size,
            step_chunks=progress.CHUNKS if bar is not None else 1,
            on_chunk=None if bar is None else bar.update,
        )
    finally:
        if bar is not None:
            bar.close()


MAX_PLOTTED = 64  # runs drawn in a plot; a larger grid shows an evenly spaced sample


def _sample(a: Any, shown: np.ndarray) -> Any:
    return None if a is None else np.asarray(a)[shown]


def draw(out: Path, job: Job, traj: engine.Trajectory) -> list[Path]:
    """The pictures `job.plots` names (docs/plots.md), written into `out`; a grid larger than
    MAX_PLOTTED runs shows an evenly spaced sample of them."""
    s, o = job.surface, job.plot_options
    runs = len(job.labels)
    shown = np.unique(np.linspace(0, runs - 1, min(runs, MAX_PLOTTED)).round().astype(int))
    labels = [job.labels[i] for i in shown]
    params, loss = _sample(traj.params, shown), _sample(traj.loss, shown)
    title = f"{s.name} ({s.dim}-D), {job.steps} steps"
    if len(shown) < runs:
        title += f", {len(shown)} of {runs} runs"
    every = job.record_every > 1  # per-step sizes and evaluation counts need every step
    written = []
    if "loss" in job.plots and loss is not None:
        written.append(
            plots.loss(
                out / plots.FILES["loss"],
                loss,
                labels,
                title=title,
                f_min=s.f_min,
                grad_norm=_sample(traj.grad_norm, shown),
                params=None if every else params,
                f_evals=None if every else _sample(traj.f_evals, shown),
                steps_taken=_sample(traj.steps_taken, shown),
                steps=traj.record_steps,
                dpi=o.dpi,
            )
        )
    maps = [k for k in job.plots if k in plots.MAPS]
    if maps and s.dim < 2:
        log.warning(f"{', '.join(maps)}: {s.name} is 1-D, there is no plane to draw; skipped")
        return written
    if maps and params is None:
        log.warning(f"{', '.join(maps)}: need recorded params (record=[params,...]); skipped")
        return written
    if not maps:
        return written
    plane = landscape.view(s, params, loss, o.projection, o.axes, job.plot_bounds)
    if s.dim > 2 and o.projection is None:
        log.info(
            f"{', '.join(maps)}: {s.name} is {s.dim}-D; drawing the {plane.note} "
            "(choose with plot_options.axes=[i,j] or plot_options.projection=pca)"
        )
    grad = _sample(traj.grad, shown)
    scene = landscape.scene(s, plane, params, grad, labels, title, o.resolution, o.quiver)
    return written + [plots.write_map(k, out, scene, o) for k in maps]


def summary(rows: list[dict[str, Any]], limit: int = 20) -> str:
    """A short table: one line per run (label, final loss, distance to the minimizer, status)."""
    more, rows = len(rows) - limit, rows[:limit]
    width = max(len("label"), *(len(r["label"]) for r in rows))
    lines = [f"{'label':<{width}}  {'final_loss':>12}  {'distance':>10}  {'steps':>6}  status"]
    for r in rows:
        lines.append(
            f"{r['label']:<{width}}  {r['final_loss']:>12.4e}  {r['distance_to_minimizer']:>10.3e}  "
            f"{r['steps_taken']:>6}  {r['status']}"
        )
    if more > 0:
        lines.append(f"… and {more} more runs in runs.csv")
    return "\n".join(lines)


def optimize(cfg: Any, out: Path, overrides: list[str]) -> list[dict[str, Any]]:
    """Build the job from `cfg`, run it, write records and plots into `out`, print a summary."""
    job = build_job(cfg, single_optimizer=overrides_choose_optimizer(overrides))
    for w in job.warnings:
        log.warning(w)
    traj = simulate(job)
    out.mkdir(parents=True, exist_ok=True)
    final = calculus.point_checks(job.surface, traj.final_params)
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


def setup(cfg: Any) -> None:
    """Process-wide settings, before anything compiles: the compilation cache and, in a sweep,
    the job's position and a single-threaded XLA:CPU under a multi-process joblib launcher."""
    cache.enable(cache_dir(cfg))
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return
    hc = HydraConfig.get()
    if "joblib" in str(hc.launcher.get("_target_", "")):
        devices.limit_cpu_threads(int(hc.launcher.get("n_jobs") or -1))
        log.debug("XLA_FLAGS=%s", os.environ.get("XLA_FLAGS", ""))
    print(progress.job_line(hc.job.num))


def main(cfg: Any, out: Path, overrides: list[str]) -> Any:
    """Dispatch on `cfg.task` (an experiment chooses it; default `optimize`)."""
    setup(cfg)
    task = cfg.get("task", "optimize")
    use_dtype(cfg.get("dtype"))
    if task not in TASKS:
        raise UserError(f"task={task!r} is unknown; available: {', '.join(sorted(TASKS))}")
    before = cache.counts.copy()
    result = TASKS[task](cfg, out, overrides)
    log.debug("%s in this job", cache.summary(since=before))
    return result
