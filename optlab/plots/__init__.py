"""Plots: NumPy + matplotlib on host arrays, Agg canvas, every figure released after saving."""

from pathlib import Path
from typing import Any

from optlab.plots.animation import write as write_animation
from optlab.plots.contour import contour
from optlab.plots.contour import write as write_contour
from optlab.plots.loss import loss
from optlab.plots.loss import spread as loss_spread
from optlab.plots.scene import Scene, Sweep, sweep
from optlab.plots.surface3d import write as write_surface3d

# The pictures a run can ask for (`plots=[...]`) and the file each is written to.
FILES = {
    "contour": "contour.png",
    "loss": "loss.png",
    "surface3d": "surface3d.png",
    "animation": "animation.gif",
}
KINDS = tuple(FILES)
MAPS = ("contour", "surface3d", "animation")  # drawn on a plane through the surface


def write_map(kind: str, out: Path, scene: Scene, options: Any) -> Path:
    """Write map `kind` of `scene` into directory `out`, drawn as `options` (a PlotOptions) says."""
    path = out / FILES[kind]
    if kind == "contour":
        return write_contour(path, scene, quiver=options.quiver, dpi=options.dpi)
    if kind == "surface3d":
        return write_surface3d(path, scene, zscale=options.zscale, dpi=options.dpi)
    if kind == "animation":
        return write_animation(path, scene, options.frames, options.fps, dpi=options.dpi * 2 // 3)
    raise ValueError(f"{kind!r} is not one of {MAPS}")


__all__ = [
    "FILES",
    "KINDS",
    "MAPS",
    "Scene",
    "Sweep",
    "contour",
    "loss",
    "loss_spread",
    "sweep",
    "write_map",
]
