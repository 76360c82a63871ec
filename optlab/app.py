"""The main job: config -> job -> one compiled program -> records -> plots -> summary."""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Sequence
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
    noise,
    plots,
    progress,
    records,
    results,
    suite,
    tuning,
)
from optlab.config import (
    Job,
    StoreOptions,
    build_job,
    build_point_job,
    cache_dir,
    cost_model,
    store_options,
)
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


def simulate(
    job: Job, groups: list[engine.Group] | None = None, targets: Sequence[float] = ()
) -> engine.Trajectory:
    """Run every member of `job` at every grid point (or `groups`) in one compiled program,
    counting the step and evaluations at which each run first reaches each of `targets`."""
    use_dtype(job.dtype)
    devs = devices.resolve(job.device)
    groups = job.groups if groups is None else groups
    runs = sum(len(g.starts) for g in groups)
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
            groups,
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
            targets=targets,
            noise=job.noise,
        )
    finally:
        if bar is not None:
            bar.close()


MAX_PLOTTED = 64  # runs drawn in a plot; a larger grid shows an evenly spaced sample


def _sample(a: Any, shown: np.ndarray) -> Any:
    return None if a is None else np.asarray(a)[shown]


def sweep_of(job: Job, shown: np.ndarray) -> plots.Sweep | None:
    """With one optimizer, the first swept hyperparameter that varies among the `shown` runs
    (it then colors the paths); None with a lineup (paths keep their optimizers' colors)."""
    if len(job.members) != 1:
        return None
    axes = {k: v for k, v in job.points.items() if k not in ("seed", "start")}
    return plots.sweep(axes, shown)


def draw(out: Path, job: Job, traj: engine.Trajectory) -> list[Path]:
    """The pictures `job.plots` names (README: Pictures), written into `out`; a grid larger than
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
    n = job.runs_per_member
    if "loss" in job.plots and traj.loss is not None and job.noise is not None and n > 1:
        per_member = [traj.loss[i * n : (i + 1) * n] for i in range(len(job.members))]
        written.append(
            plots.loss_spread(
                out / plots.FILES["loss"],
                per_member,
                [m.label for m in job.members],
                title=f"{s.name} ({s.dim}-D), {job.steps} steps, {job.noise.label()}",
                f_min=s.f_min,
                steps=traj.record_steps,
                dpi=o.dpi,
            )
        )
    elif "loss" in job.plots and loss is not None:
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
    sweep = sweep_of(job, shown)
    scene = landscape.scene(s, plane, params, grad, labels, title, o.resolution, o.quiver, sweep)
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


def _store_dir(out: Path) -> Path:
    """The sweep's root directory in a Hydra multirun, else the run directory `out`."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        return Path(HydraConfig.get().sweep.dir)
    return out


def store_path(opts: StoreOptions, out: Path) -> Path | None:
    """The results store file of `opts` (default place: `_store_dir`), or None when it is off."""
    if not opts.enabled:
        return None
    return results.resolve(opts.path) if opts.path else _store_dir(out) / results.FILENAME


def stored(db: Path | None, key: str, opts: StoreOptions) -> bool:
    """True (and say so) when `resume=true` and job `key` is already in the store `db`.

    Reads only: a store that does not exist yet is created by `keep`, the job's last step.
    """
    if db is None or not opts.resume or not db.is_file():
        return False
    with results.Store(db) as store:
        if not store.has_job(key):
            return False
    print(f"optlab: this job is already in {db}; skipping it (resume=false reruns it)")
    return True


def keep(db: Path | None, key: str, rows: list[dict], opts: StoreOptions, out: Path) -> None:
    """Append a job's store rows in one transaction (replacing stored runs when resume=false).

    The last step of a job: a job that fails before it stores nothing, so a rerun is not skipped.
    """
    if db is None:
        return
    if not db.parent.exists():
        log.info("optlab: creating the directory %s for the results store", db.parent)
    with results.Store(db) as store:
        new = store.append(key, rows, job_dir=str(out), replace=not opts.resume)
    print(f"optlab: stored {new} new run{'s' * (new != 1)} in {db}")


def wrote(out: Path, files: list[str], pictures: list[Path]) -> str:
    """`optlab: wrote a, b and N pictures to OUT` naming what was written (no pictures: not said)."""
    n = len(pictures)
    names = files + ([f"{n} picture{'s' * (n != 1)}"] if n else [])
    listed = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
    return f"optlab: wrote {listed} to {out}"


def optimize(cfg: Any, out: Path, overrides: list[str]) -> list[dict[str, Any]]:
    """Build the job from `cfg`, run it, write records and plots into `out`, print a summary,
    and, last, append its runs to the results store."""
    job = build_job(cfg, single_optimizer=overrides_choose_optimizer(overrides))
    opts, model = store_options(cfg), cost_model(cfg)
    db, key = store_path(opts, out), results.job_key(job)
    if stored(db, key, opts):
        return []
    for w in job.warnings:
        log.warning(w)
    began = time.perf_counter()
    traj = simulate(job, targets=opts.targets)
    wall = time.perf_counter() - began
    out.mkdir(parents=True, exist_ok=True)
    final = calculus.point_checks(job.surface, traj.final_params)
    final |= noise.columns(job.surface, job.noise, traj.grad_evals)
    rows = records.write(out, job, traj, extra=final, cost=model)
    pictures = draw(out, job, traj)
    print(wrote(out, ["trajectory.npz", "runs.csv"], pictures))
    print(summary(rows))
    kw = {"targets": opts.targets, "job_hash": key, "wall_time": wall, "job_dir": str(out)}
    kw["cost"] = model
    keep(db, key, results.rows_for(job, traj, **kw) if db else [], opts, out)
    return rows


def tune(cfg: Any, out: Path, overrides: list[str]) -> list[dict[str, Any]]:
    """Fair tuning (optlab/tuning.py): choose each member's setting on tuning starts, then write
    records, `tuning.csv` and the store for the chosen settings on the job's starts (the
    multirun's report draws them)."""
    job = build_job(cfg, single_optimizer=overrides_choose_optimizer(overrides))
    opts, model = store_options(cfg), cost_model(cfg)
    plan = tuning.plan(job, tuning.options(cfg.get("tuning"), opts.targets))
    db, key = store_path(opts, out), plan.key
    if stored(db, key, opts):
        return []
    began = time.perf_counter()
    result = tuning.run(plan, functools.partial(simulate, targets=opts.targets))
    wall = time.perf_counter() - began
    out.mkdir(parents=True, exist_ok=True)
    final = noise.columns(result.job.surface, result.job.noise, result.traj.grad_evals)
    rows = records.write(out, result.job, result.traj, extra=final, cost=model)
    records.write_csv(out / "tuning.csv", list(result.table))
    print(wrote(out, ["trajectory.npz", "runs.csv", "tuning.csv"], []))
    print(tuning.summary(result))
    kw = {"targets": opts.targets, "job_hash": key, "wall_time": wall, "job_dir": str(out)}
    kw["cost"] = model
    keep(db, key, tuning.store_rows(result, **kw) if db else [], opts, out)
    return rows


TASKS = {
    "optimize": optimize,
    "derivatives": derivatives.task,
    "mlp": ml_tasks.mlp,
    "penalty": ml_tasks.penalty,
    "saliency": ml_tasks.saliency,
    "suite": suite.task,
    "tune": tune,
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


def task_of(cfg: Any) -> str:
    """`cfg.task` (default `optimize`), one of TASKS."""
    task = cfg.get("task", "optimize")
    if task not in TASKS:
        raise UserError(f"task={task!r} is unknown; available: {', '.join(sorted(TASKS))}")
    return task


def check(cfg: Any, overrides: list[str]) -> None:
    """Raise the UserError a job of `cfg` would raise before its work: nothing runs or is written.

    The command line calls it before Hydra creates the run directory (optlab.cli); the ML tasks
    validate their own sections when they run.
    """
    cache_dir(cfg)
    cost_model(cfg)
    task = task_of(cfg)
    if task in ("optimize", "tune"):
        job = build_job(cfg, single_optimizer=overrides_choose_optimizer(overrides))
        opts = store_options(cfg)
        if task == "tune":
            tuning.plan(job, tuning.options(cfg.get("tuning"), opts.targets))
    elif task == "derivatives":
        build_point_job(cfg)


def main(cfg: Any, out: Path, overrides: list[str]) -> Any:
    """Dispatch on `cfg.task` (an experiment chooses it; default `optimize`)."""
    setup(cfg)
    task = task_of(cfg)
    use_dtype(cfg.get("dtype"))
    before = cache.counts.copy()
    result = TASKS[task](cfg, out, overrides)
    log.debug("%s in this job", cache.summary(since=before))
    return result
