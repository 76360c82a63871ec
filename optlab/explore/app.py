"""The explorer's job: config -> surface, optimizers, start -> a window (or a saved picture)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from optlab.config import Job, build_job, build_surface
from optlab.errors import UserError, bad_value
from optlab.explore.widget import Explorer
from optlab.plots import style


def job_of(cfg: Any, overrides: list[str]) -> Job:
    """The explorer's job; an N-d surface is refused in one line (the explorer draws 2-D only)."""
    from optlab.app import overrides_choose_optimizer

    surface = build_surface(cfg)
    if surface.dim != 2:
        raise UserError(
            f"surface.dim={surface.dim} is invalid for the explorer: it draws 2-D surfaces only "
            f"(use surface.dim=2, or python -m optlab for {surface.dim}-D runs)"
        )
    return build_job(cfg, single_optimizer=overrides_choose_optimizer(overrides), surface=surface)


def direction_of(cfg: Any) -> float:
    """u's initial angle in degrees (`direction`)."""
    value = cfg.get("direction", 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise bad_value("direction", value, "must be an angle in degrees (a finite number)")
    return float(value)


def interactive_backend() -> str:
    """pyplot's backend, or a UserError when it cannot open a window (e.g. no display)."""
    import matplotlib
    from matplotlib.backends import BackendFilter, backend_registry

    name = matplotlib.get_backend().lower()
    if name in backend_registry.list_builtin(BackendFilter.NON_INTERACTIVE):
        raise UserError(
            f"matplotlib's backend is {name!r}, which cannot open a window: run on a desktop "
            "(MPLBACKEND=TkAgg or QtAgg), in Jupyter (%matplotlib widget), or pass save=FILE.png"
        )
    return name


def save(path: Path, job: Job, direction: float) -> Path:
    """The explorer at the job's start, with the optimizers' trajectories, as a PNG."""
    fig = style.figure(12.0, 7.0)
    explorer = Explorer.from_job(fig, job, direction)
    explorer.run()
    return style.save(fig, path)


def main(cfg: Any, overrides: list[str]) -> Explorer | Path:
    """Open the explorer window (blocks until it is closed), or write `save` and return its path."""
    job = job_of(cfg, overrides)
    direction = direction_of(cfg)
    if cfg.get("save"):
        path = save(Path(cfg.get("save")), job, direction)
        print(f"optlab.explore: wrote {path}")
        return path
    interactive_backend()
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(12.0, 7.0))
    fig.canvas.manager.set_window_title(f"optlab explorer: {job.surface.name}")
    explorer = Explorer.from_job(fig, job, direction)
    plt.show()
    return explorer
