"""The main job: config -> job -> one compiled program -> records -> plots -> summary."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np

from optlab import calculus, derivatives, engine, landscape, plots, records, results, tuning
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


def simulate(job: Job, groups: list[engine.Group] | None = None) -> engine.Trajectory:
    """Run every member of `job` from every start (or `groups`) in one compiled program."""
    use_dtype(job.dtype)
    return engine.run(
        job.surface,
        job.groups if groups is None else groups,
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


def _store_dir(out: Path) -> Path:
    """The sweep's root directory in a Hydra multirun, else the run directory `out`."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        return Path(HydraConfig.get().sweep.dir)
    return out


def open_store(cfg: Any, out: Path) -> results.Store | None:
    """The results store of `results=PATH` (a file or a directory; default: `_store_dir`), or
    None for `results=false`."""
    path = cfg.get("results")
    if path is False:
        return None
    return results.Store(results.resolve(path) if path else _store_dir(out) / results.FILENAME)


def stored(store: results.Store | None, key: str, cfg: Any) -> bool:
    """True (and say so) when `resume=true` and job `key` is already in the store."""
    if store is None or not cfg.get("resume", True) or not store.has_job(key):
        return False
    print(f"optlab: this job is already in {store.path}; skipping it (resume=false reruns it)")
    return True


def keep(store: results.Store | None, key: str, rows: list[dict], cfg: Any, out: Path) -> None:
    """Append a job's store rows in one transaction (replacing stored runs when resume=false)."""
    if store is None:
        return
    with store:
        new = store.append(key, rows, job_dir=str(out), replace=not cfg.get("resume", True))
    print(f"optlab: stored {new} new runs in {store.path}")


def optimize(cfg: Any, out: Path, overrides: list[str]) -> list[dict[str, Any]]:
    """Build the job from `cfg`, run it, write records and plots into `out`, print a summary,
    and append its runs to the results store."""
    job = build_job(cfg, single_optimizer=overrides_choose_optimizer(overrides))
    targets = results.check_targets(cfg.get("targets", results.TARGETS))
    store, key = open_store(cfg, out), results.job_key(job)
    if stored(store, key, cfg):
        return []
    for w in job.warnings:
        log.warning(w)
    began = time.perf_counter()
    traj = simulate(job)
    wall = time.perf_counter() - began
    out.mkdir(parents=True, exist_ok=True)
    final = calculus.point_checks(job.surface, traj.params[:, -1])
    rows = records.write(out, job, traj, extra=final)
    kw = {"targets": targets, "job_hash": key, "wall_time": wall, "job_dir": str(out)}
    keep(store, key, results.rows_for(job, traj, **kw) if store else [], cfg, out)
    draw(out, job, traj)
    print(f"optlab: wrote trajectory.npz, runs.csv and plots to {out}")
    print(summary(rows))
    return rows


def tune(cfg: Any, out: Path, overrides: list[str]) -> list[dict[str, Any]]:
    """Fair tuning (optlab/tuning.py): choose each member's setting on tuning starts, then write
    records, `tuning.csv` and the store for the chosen settings on the job's starts (the
    multirun's report draws them)."""
    job = build_job(cfg, single_optimizer=overrides_choose_optimizer(overrides))
    targets = results.check_targets(cfg.get("targets", results.TARGETS))
    plan = tuning.plan(job, tuning.options(cfg.get("tuning"), targets))
    store, key = open_store(cfg, out), plan.key
    if stored(store, key, cfg):
        return []
    began = time.perf_counter()
    result = tuning.run(plan, simulate)
    wall = time.perf_counter() - began
    out.mkdir(parents=True, exist_ok=True)
    rows = records.write(out, result.job, result.traj)
    records.write_csv(out / "tuning.csv", list(result.table))
    print(f"optlab: wrote trajectory.npz, runs.csv and tuning.csv to {out}")
    print(tuning.summary(result))
    kw = {"targets": targets, "job_hash": key, "wall_time": wall, "job_dir": str(out)}
    keep(store, key, tuning.store_rows(result, **kw) if store else [], cfg, out)
    return rows


TASKS = {
    "optimize": optimize,
    "derivatives": derivatives.task,
    "mlp": ml_tasks.mlp,
    "penalty": ml_tasks.penalty,
    "saliency": ml_tasks.saliency,
    "tune": tune,
}


def main(cfg: Any, out: Path, overrides: list[str]) -> Any:
    """Dispatch on `cfg.task` (an experiment chooses it; default `optimize`)."""
    task = cfg.get("task", "optimize")
    use_dtype(cfg.get("dtype"))
    if task not in TASKS:
        raise UserError(f"task={task!r} is unknown; available: {', '.join(sorted(TASKS))}")
    return TASKS[task](cfg, out, overrides)
