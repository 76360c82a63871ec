"""Log-spaced filled contours with minimizers, trajectories and an optional −∇f field."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, ListedColormap, LogNorm, Normalize
from matplotlib.contour import QuadContourSet
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, LogLocator

from optlab.plots import style
from optlab.plots.scene import Scene


def log_levels(Z: np.ndarray, f_min: float | None, n: int = 25) -> tuple[np.ndarray, float]:
    """Levels for Z − floor spaced evenly in log10, and the floor subtracted (f* or min Z).

    Subtracting the floor makes the gap ≥ 0 whatever the sign of f* (six-hump camel's f* < 0);
    the lowest level is the 0.5th percentile of the positive gap, so a few cells at the minimum
    do not spend the color range on decades nobody sees (they are clipped into the lowest band).
    """
    finite = Z[np.isfinite(Z)]
    if not finite.size:
        return np.logspace(-12, 0, n), 0.0
    floor = float(finite.min()) if f_min is None else min(f_min, float(finite.min()))
    gap = finite - floor
    top = float(gap.max())
    positive = gap[gap > 0]
    bottom = max(float(np.percentile(positive, 0.5)) if positive.size else 1e-12, top * 1e-12)
    return np.logspace(np.log10(bottom), np.log10(max(top, bottom * 10)), n), floor


def gap_label(f_min: float | None) -> str:
    """What the color (or the z axis) shows: f − f* when f* is known, else f − min f."""
    return "f − f*" if f_min is not None else "f − min f (view)"


def unit_arrows(
    U: np.ndarray, V: np.ndarray, spans: Sequence[float], length: float
) -> tuple[np.ndarray, np.ndarray]:
    """(U, V) rescaled to `length` × view size on screen (each axis measured in its own span)."""
    n = np.hypot(U / spans[0], V / spans[1])
    s = np.where(n > 0, length / np.where(n > 0, n, 1.0), 0.0)
    return U * s, V * s


def _plain(v: float, _pos: int | None = None) -> str:
    """A colorbar label without exponent where one is not needed: 0.5, 20, 2000, 5e+05."""
    return f"{v:.4g}" if 1e-3 <= abs(v) < 1e5 else f"{v:.0e}"


def equal_aspect(scene: Scene) -> bool:
    """Draw x and y to the same scale (gradients then look perpendicular to the level curves)
    unless one view span is over three times the other."""
    return 1 / 3 <= np.ptp(scene.X) / np.ptp(scene.Y) <= 3


def map_figure(scene: Scene) -> Figure:
    """A figure for a map of `scene`, its height fitted to the view's aspect (no empty bands)."""
    ratio = np.ptp(scene.Y) / np.ptp(scene.X) if equal_aspect(scene) else 1.0
    below = 0.9 if scene.sweep is not None else 0.0  # the sweep's colorbar under the map
    return style.figure(7.0, float(np.clip(4.3 * ratio + 1.3, 3.5, 8.0)) + below)


BACKGROUND = "viridis"  # the surface's colors; grays when the paths are colored by a sweep
SWEEP_COLORS = ListedColormap(colormaps["plasma"](np.linspace(0.0, 0.85, 256)), "plasma_dark")


def draw_background(fig: Figure, ax: Axes, scene: Scene) -> QuadContourSet:
    """Filled log-spaced contours of Z − floor with thin level lines and a colorbar (in grays
    when a sweep colors the paths, so that the two colormaps cannot be confused)."""
    levels, floor = log_levels(scene.Z, scene.f_min)
    gap = np.ma.masked_invalid(np.clip(scene.Z - floor, levels[0], None))
    cmap = "Greys" if scene.sweep is not None else BACKGROUND
    cs = ax.contourf(scene.X, scene.Y, gap, levels=levels, norm=LogNorm(), cmap=cmap, extend="min")
    ax.contour(scene.X, scene.Y, gap, levels=levels[::2], colors="k", linewidths=0.3, alpha=0.35)
    few = np.log10(levels[-1] / levels[0]) < 4  # few decades: label 1, 2, 5 × 10^k plainly
    fig.colorbar(
        cs,
        ax=ax,
        label=gap_label(scene.f_min),
        shrink=0.9,
        ticks=LogLocator(subs=(1.0, 2.0, 5.0) if few else (1.0,), numticks=12),
        format=FuncFormatter(_plain) if few else LogFormatterSciNotation(),
    )
    ax.set(
        xlim=(scene.X.min(), scene.X.max()),
        ylim=(scene.Y.min(), scene.Y.max()),
        xlabel=scene.axis_names[0],
        ylabel=scene.axis_names[1],
    )
    ax.set_aspect("equal" if equal_aspect(scene) else "auto")
    ax.set_title(scene.heading, fontsize=10)
    return cs


def draw_field(ax: Axes, scene: Scene) -> None:
    """The direction of −∇f (restricted to the plane) on a coarse grid, arrows of equal length."""
    A, B, Ga, Gb = scene.field
    U, V = unit_arrows(-Ga, -Gb, (np.ptp(scene.X), np.ptp(scene.Y)), 0.6 / max(A.shape))
    ax.quiver(
        A,
        B,
        U,
        V,
        angles="xy",
        scale_units="xy",
        scale=1,
        color="white",
        alpha=0.65,
        width=0.0025,
        zorder=2,
        gid="field",
    )
    arrow_entry(ax, "−∇f direction")


def arrow_entry(ax: Axes, label: str) -> None:
    """A legend entry showing an arrow (quiver artists have no legend handle of their own)."""
    ax.plot([], [], marker=r"$\rightarrow$", ls="", color="0.25", ms=12, label=label)


def draw_minimizers(ax: Axes, scene: Scene) -> None:
    """Gold stars at the known minimizers inside the view."""
    m = scene.visible_minimizers()
    if len(m):
        ax.plot(*m.T, "*", color="gold", mec="black", ms=16, label="minimizer", zorder=MINIMIZER_Z)


MINIMIZER_Z = 7  # the minimizer stars above every path and its start and end markers


def sweep_coloring(scene: Scene) -> tuple[Colormap, Normalize]:
    """The colormap and norm of `scene.sweep`'s values (log for a logspace axis)."""
    v = scene.sweep.values
    norm = LogNorm if scene.sweep.log else Normalize
    return SWEEP_COLORS, norm(float(v.min()), float(v.max()))


def path_colors(scene: Scene, runs: Sequence[int]) -> list:
    """Each run's color: its value of the sweep on the sweep's colormap, else its optimizer's."""
    if scene.sweep is None:
        return [style.color(scene.labels[r]) for r in runs]
    cmap, norm = sweep_coloring(scene)
    return [cmap(norm(scene.sweep.values[r])) for r in runs]


def draw_sweep_colorbar(fig: Figure, ax: Axes, scene: Scene) -> None:
    """A horizontal colorbar under the map naming the swept hyperparameter (and its log scale)."""
    cmap, norm = sweep_coloring(scene)
    scale = " (log scale)" if scene.sweep.log else ""
    fig.colorbar(
        ScalarMappable(norm=norm, cmap=cmap),
        ax=ax,
        orientation="horizontal",
        location="bottom",
        shrink=0.8,
        pad=0.02,
        aspect=40,
        label=f"path color: {scene.sweep.name}{scale}",
    )


def legend_texts(scene: Scene, labels: Sequence[str]) -> list[str | None]:
    """Per run, its legend text (`style.legend_labels`), naming the sweep that colors it."""
    texts = style.legend_labels(labels)
    if scene.sweep is None:
        return texts
    return [None if t is None else f"{t}: color = {scene.sweep.name}" for t in texts]


def draw_paths(ax: Axes, scene: Scene, runs: Sequence[int], alpha: float = 1.0) -> None:
    """Each run's finite points as a line, start ○ and end ✕ marked: in its optimizer's color and
    its group's Look (`style.looks`), or colored by the sweep's value."""
    labels = [scene.labels[r] for r in runs]
    looks = style.looks(labels) if runs else {}
    texts = legend_texts(scene, labels)
    for r, c, text in zip(runs, path_colors(scene, runs), texts, strict=True):
        label = scene.labels[r]
        look = looks[style.group_label(label)]
        p = style.finite_path(np.asarray(scene.paths[r]))
        kw = {"lw": look.lw, "ls": look.ls, "zorder": look.zorder, "alpha": alpha}
        ax.plot(*p.T, color=c, gid=label, **kw)
        if text is not None and alpha == 1:
            shown = "0.35" if scene.sweep is not None else c
            ax.plot([], [], color=shown, label=text, **kw)
        ax.plot(*p[0], "o", color=c, mec="white", ms=7, alpha=alpha, zorder=5)
        ax.plot(*p[-1], "X", color=c, mec="black", ms=8, alpha=alpha, zorder=6)
    if runs and alpha == 1:
        start_end_entries(ax)


def start_end_entries(ax: Axes) -> None:
    """Legend entries for the start ○ and end ✕ markers."""
    ax.plot([], [], "o", color="gray", mec="white", label="start")
    ax.plot([], [], "X", color="gray", mec="black", label="end")


def render(scene: Scene, quiver: bool = False) -> Figure:
    """The contour figure of `scene` (not saved)."""
    fig = map_figure(scene)
    ax = fig.add_subplot()
    draw_background(fig, ax, scene)
    if quiver and scene.field is not None:
        draw_field(ax, scene)
    runs = scene.drawable("contour")
    draw_paths(ax, scene, runs)
    if scene.sweep is not None and runs:
        draw_sweep_colorbar(fig, ax, scene)
    draw_minimizers(ax, scene)
    style.legend(ax)
    return fig


def write(path: Path, scene: Scene, quiver: bool = False, dpi: int = 120) -> Path:
    """Write the contour figure of `scene` to `path` and release it."""
    return style.save(render(scene, quiver), path, dpi=dpi)


def contour(
    path: Path,
    X: np.ndarray,
    Y: np.ndarray,
    Z: np.ndarray,
    *,
    title: str,
    minimizers: np.ndarray,
    paths: Sequence[np.ndarray] = (),
    labels: Sequence[str] = (),
    f_min: float | None = None,
    axis_names: tuple[str, str] = ("x", "y"),
) -> Path:
    """Write a contour plot of Z over (X, Y) with log-spaced levels of Z − f*, minimizers as stars,
    and each trajectory (T, 2) with its start (circle) and end (cross) marked."""
    paths = [np.asarray(p, dtype=float)[:, :2] for p in paths]
    scene = Scene(
        X,
        Y,
        Z,
        title,
        np.asarray(minimizers)[:, :2],
        paths,
        labels,
        f_min=f_min,
        axis_names=axis_names,
    )
    return write(path, scene)
