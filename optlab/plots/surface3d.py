"""The surface as a 3-D mesh with the trajectories lifted onto it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from optlab.plots import style
from optlab.plots.contour import (
    BACKGROUND,
    draw_sweep_colorbar,
    gap_label,
    legend_texts,
    log_levels,
    path_colors,
    start_end_entries,
)
from optlab.plots.scene import Scene

ZSCALES = ("auto", "log", "linear")


def use_log(Z: np.ndarray, f_min: float | None) -> bool:
    """True when f − floor spans more than two decades between its 10th percentile and its top.

    Then a linear z axis flattens the interesting part into the floor (Rosenbrock's valley).
    """
    levels, floor = log_levels(Z, f_min)
    gap = Z[np.isfinite(Z)] - floor
    return bool(gap.size) and float(gap.max()) > 100 * max(float(np.percentile(gap, 10)), levels[0])


def heights_of(Z: np.ndarray, f_min: float | None, log: bool):
    """(transform, z label): on a log axis z = log10(max(f − floor, bottom)), else z = f.

    The bottom is the smallest positive gap on the grid, at most six decades below the top: deep
    enough that a valley shows as a trench and paths descend into it, shallow enough to read.
    """
    if not log:
        return (lambda f: np.asarray(f, dtype=float)), "f"
    _, floor = log_levels(Z, f_min)
    gap = Z[np.isfinite(Z)] - floor
    positive = gap[gap > 0]
    bottom = max(float(positive.min()), float(gap.max()) * 1e-6) if positive.size else 1e-12
    return (
        lambda f: np.log10(np.clip(np.asarray(f, dtype=float) - floor, bottom, None)),
        f"log₁₀({gap_label(f_min)})",
    )


def render(scene: Scene, zscale: str = "auto") -> Figure:
    """The 3-D figure of `scene` (not saved): mesh, floor contours, paths lifted by their heights."""
    log = use_log(scene.Z, scene.f_min) if zscale == "auto" else zscale == "log"
    z, zlabel = heights_of(scene.Z, scene.f_min, log)
    Zp = np.ma.masked_invalid(z(scene.Z))
    fig = style.figure(8.0, 6.0)
    ax = fig.add_subplot(projection="3d", computed_zorder=False)  # paths drawn above the mesh
    lo = float(Zp.min())
    cmap = "Greys" if scene.sweep is not None else BACKGROUND  # paths colored by the sweep
    ax.plot_surface(
        scene.X,
        scene.Y,
        Zp,
        cmap=cmap,
        rcount=70,
        ccount=70,
        linewidth=0,
        antialiased=False,
        alpha=0.8,
        zorder=1,
    )
    ax.contour(
        scene.X,
        scene.Y,
        Zp,
        levels=15,
        zdir="z",
        offset=lo,
        cmap=cmap,
        linewidths=0.6,
        zorder=0,
    )
    runs = scene.drawable("surface3d")
    labels = [scene.labels[r] for r in runs]
    looks = style.looks(labels) if runs else {}
    texts = legend_texts(scene, labels)
    for r, c, text in zip(runs, path_colors(scene, runs), texts, strict=True):
        label = scene.labels[r]
        ok = np.all(np.isfinite(scene.paths[r]), axis=-1) & np.isfinite(scene.heights[r])
        p, h = np.asarray(scene.paths[r])[ok], z(scene.heights[r][ok])
        if not len(p):
            continue
        look = looks[style.group_label(label)]
        ax.plot(p[:, 0], p[:, 1], h, color=c, lw=look.lw, ls=look.ls, zorder=5, gid=label)
        if text is not None:
            shown = "0.35" if scene.sweep is not None else c
            ax.plot([], [], [], color=shown, lw=look.lw, ls=look.ls, label=text)
        ax.plot(*p[0], h[0], "o", color=c, mec="white", ms=7, zorder=6)
        ax.plot(*p[-1], h[-1], "X", color=c, mec="black", ms=8, zorder=6)
    m = scene.visible_minimizers()
    if len(m):
        fm = scene.f_min if scene.f_min is not None else float(np.nanmin(scene.Z))
        ax.plot(
            m[:, 0],
            m[:, 1],
            np.full(len(m), float(z(fm))),
            "*",
            color="gold",
            mec="black",
            ms=14,
            zorder=7,
            label="minimizer",
        )
    if runs:
        start_end_entries(ax)
    if runs and scene.sweep is not None:
        draw_sweep_colorbar(fig, ax, scene)
    ax.set(xlabel=scene.axis_names[0], ylabel=scene.axis_names[1], zlabel=zlabel)
    ax.set_xlim(scene.X.min(), scene.X.max())
    ax.set_ylim(scene.Y.min(), scene.Y.max())
    for axis in (ax.xaxis, ax.yaxis):  # the lowest ticks of x and y meet at the front corner
        axis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10], prune="lower"))
    ax.set_zlim(lo, float(Zp.max()))
    ax.view_init(elev=38, azim=-125)
    ax.set_title(scene.heading, fontsize=10)
    style.legend(ax)
    return fig


def write(path: Path, scene: Scene, zscale: str = "auto", dpi: int = 120) -> Path:
    """Write the 3-D figure of `scene` to `path` and release it."""
    return style.save(render(scene, zscale), path, dpi=dpi)
