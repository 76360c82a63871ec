"""Log-spaced filled contours with minimizers, trajectories and an optional −∇f field."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
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
    return style.figure(7.0, float(np.clip(4.3 * ratio + 1.3, 3.5, 8.0)))


def draw_background(fig: Figure, ax: Axes, scene: Scene) -> QuadContourSet:
    """Filled log-spaced contours of Z − floor with thin level lines and a colorbar."""
    levels, floor = log_levels(scene.Z, scene.f_min)
    gap = np.ma.masked_invalid(np.clip(scene.Z - floor, levels[0], None))
    cs = ax.contourf(
        scene.X, scene.Y, gap, levels=levels, norm=LogNorm(), cmap="viridis", extend="min"
    )
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
        ax.plot(*m.T, "*", color="gold", mec="black", ms=16, label="minimizer", zorder=5.5)


def draw_paths(ax: Axes, scene: Scene, runs: Sequence[int], alpha: float = 1.0) -> None:
    """Each run's finite points as a line in its optimizer's color, start ○ and end ✕ marked."""
    widths = np.linspace(2.8, 1.3, max(len(runs), 1))  # earlier runs wider: overlaps stay visible
    texts = style.legend_labels([scene.labels[r] for r in runs])
    for r, lw, text in zip(runs, widths, texts, strict=True):
        label = scene.labels[r]
        p = style.finite_path(np.asarray(scene.paths[r]))
        c = style.color(label)
        legend = text if alpha == 1 else None
        ax.plot(*p.T, "-", color=c, lw=lw, alpha=alpha, label=legend, zorder=4, gid=label)
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
    draw_paths(ax, scene, scene.drawable("contour"))
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
