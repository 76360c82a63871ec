"""Shared helpers of the plot tests: small jobs, independent NumPy surfaces, artist lookup."""

from __future__ import annotations

from typing import Any

import numpy as np

from optlab import app, landscape
from optlab.config import Job, build_job
from optlab.engine import Trajectory


def rosenbrock_np(x: np.ndarray) -> np.ndarray:
    """Σ 100 (x_{i+1} − x_i²)² + (x_i − 1)² over the last axis (independent of the catalog)."""
    x = np.asarray(x, dtype=float)
    return np.sum(100.0 * (x[..., 1:] - x[..., :-1] ** 2) ** 2 + (x[..., :-1] - 1.0) ** 2, axis=-1)


def job(**cfg: Any) -> Job:
    """A small float64 job: 2-D Rosenbrock from (−1.2, 1), gd then adam, 40 steps, tiny grid."""
    base = {
        "surface": {"name": "rosenbrock"},
        "lineup": {
            "gd": {"name": "gd", "learning_rate": 1e-3},
            "adam": {"name": "adam", "learning_rate": 0.05},
        },
        "start": [-1.2, 1.0],
        "steps": 40,
        "dtype": "float64",
        "plot_bounds": [[-2.0, 2.0], [-1.0, 3.0]],
        "plot_options": {"resolution": 24, "frames": 8, "dpi": 30},
    }
    return build_job(base | cfg)


def run(j: Job) -> Trajectory:
    return app.simulate(j)


def scene(j: Job, traj: Trajectory, quiver: bool = False):
    """The Scene `app.draw` would draw for `j`."""
    o = j.plot_options
    plane = landscape.view(j.surface, traj.params, traj.loss, o.projection, o.axes, j.plot_bounds)
    return landscape.scene(
        j.surface, plane, traj.params, traj.grad, j.labels, "test", o.resolution, quiver
    )


def line(ax, gid: str):
    """The one line artist of `ax` with gid `gid` (a run's trajectory)."""
    found = [a for a in ax.get_lines() if a.get_gid() == gid]
    assert len(found) == 1, [a.get_gid() for a in ax.get_lines()]
    return found[0]
