"""What the map plots (contour, surface3d, animation) draw: host arrays in plane coordinates."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np

from optlab.plots.style import log


@dataclasses.dataclass(frozen=True)
class Sweep:
    """A swept hyperparameter that colors the paths: its name, each drawn run's value (R,), and
    whether its values are spaced evenly in log (then the colormap is too)."""

    name: str
    values: np.ndarray
    log: bool = False


def geometric(values: np.ndarray) -> bool:
    """True when the distinct `values` are positive and evenly spaced in log (a logspace axis);
    two values (evenly spaced either way) count when they are a decade or more apart."""
    v = np.unique(np.asarray(values, dtype=float))
    if len(v) < 2 or v[0] <= 0:
        return False
    steps = np.diff(np.log(v))
    if len(v) == 2:
        return bool(steps[0] >= np.log(10) * (1 - 1e-9))
    return bool(np.allclose(steps, steps[0], rtol=1e-6))


def sweep(axes: Mapping[str, np.ndarray], runs: np.ndarray) -> Sweep | None:
    """The first of `axes` (name -> value per run) that varies among `runs`, as a Sweep of those
    runs, or None when none varies."""
    for name, values in axes.items():
        v = np.asarray(values, dtype=float)[runs]
        if len(np.unique(v)) > 1:
            return Sweep(name, v, geometric(v))
    return None


@dataclasses.dataclass(frozen=True)
class Scene:
    """A surface on a plane (grid A, B, Z) with each run's path, heights and gradients on it.

    `paths[r]` (T+1, 2) are run r's points in plane coordinates (NaN rows where not finite),
    `heights[r]` (T+1,) f at those plane points, `grads[r]` (T+1, 2) the recorded gradient
    projected on the plane; `minimizers` (k, 2) the known minimizers lying on the plane;
    `field` = (A, B, Ga, Gb) the restricted gradient on a coarse grid, for the quiver;
    `sweep` a swept hyperparameter coloring the paths (one optimizer, many values).
    """

    X: np.ndarray
    Y: np.ndarray
    Z: np.ndarray
    title: str
    minimizers: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 2)))
    paths: Sequence[np.ndarray] = ()
    labels: Sequence[str] = ()
    heights: Sequence[np.ndarray] | None = None
    grads: Sequence[np.ndarray] | None = None
    f_min: float | None = None
    axis_names: tuple[str, str] = ("x", "y")
    field: tuple[np.ndarray, ...] | None = None
    note: str = ""
    sweep: Sweep | None = None

    @property
    def heading(self) -> str:
        """The title, with the plane's description on a second line when there is one."""
        return f"{self.title}\n{self.note}" if self.note else self.title

    def visible_minimizers(self) -> np.ndarray:
        """The minimizers (k, 2) inside the view box."""
        m = np.asarray(self.minimizers, dtype=float).reshape(-1, 2)
        inside = (
            (m[:, 0] >= self.X.min())
            & (m[:, 0] <= self.X.max())
            & (m[:, 1] >= self.Y.min())
            & (m[:, 1] <= self.Y.max())
        )
        return m[inside]

    def drawable(self, plot: str) -> list[int]:
        """Indices of the runs with at least one finite point; warn once for each other run."""
        keep = []
        for r, p in enumerate(self.paths):
            if np.all(np.isfinite(p), axis=-1).any():
                keep.append(r)
            else:
                log.warning(f"{plot}: run {self.labels[r]!r} has no finite point; not drawn")
        return keep
