"""Log-spaced contour plot with minimizers and trajectories."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm

from optlab.plots import style


def log_levels(Z: np.ndarray, f_min: float | None, n: int = 25) -> tuple[np.ndarray, float]:
    """Levels for Z − floor spaced evenly in log10, and the floor subtracted (f* or min Z)."""
    floor = float(np.nanmin(Z)) if f_min is None else min(f_min, float(np.nanmin(Z)))
    gap = Z - floor
    top = float(np.nanmax(gap))
    positive = gap[gap > 0]
    bottom = max(float(np.nanpercentile(positive, 0.5)) if positive.size else 1e-12, top * 1e-12)
    return np.logspace(np.log10(bottom), np.log10(max(top, bottom * 10)), n), floor


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
    fig = style.figure()
    ax = fig.add_subplot()
    levels, floor = log_levels(Z, f_min)
    gap = np.clip(Z - floor, levels[0], None)
    cs = ax.contourf(X, Y, gap, levels=levels, norm=LogNorm(), cmap="viridis", alpha=0.85)
    ax.contour(X, Y, gap, levels=levels, colors="k", linewidths=0.3, alpha=0.4)
    fig.colorbar(cs, ax=ax, label="f − f*" if f_min is not None else "f − min f", format="%.0e")
    seen = set()
    widths = np.linspace(3.2, 1.4, max(len(paths), 1))  # earlier runs wider: overlaps stay visible
    for p, label, lw in zip(paths, labels, widths, strict=True):
        p = style.finite_path(np.asarray(p)[:, :2])
        if not len(p):
            continue
        name = style.group_label(label)
        c = style.color(label)
        ax.plot(p[:, 0], p[:, 1], "-", color=c, lw=lw, label=None if name in seen else name)
        ax.plot(*p[0], "o", color=c, mec="white", ms=7)
        ax.plot(*p[-1], "X", color=c, mec="black", ms=8, zorder=6)
        seen.add(name)
    inside = [m for m in np.asarray(minimizers) if _in_view(m, X, Y)]
    if inside:
        m = np.asarray(inside)
        ax.plot(
            m[:, 0], m[:, 1], "*", color="gold", mec="black", ms=18, label="minimizer", zorder=4
        )
    ax.plot([], [], "o", color="gray", mec="white", label="start")
    ax.plot([], [], "X", color="gray", mec="black", label="end")
    ax.set(
        xlim=(X.min(), X.max()),
        ylim=(Y.min(), Y.max()),
        xlabel=axis_names[0],
        ylabel=axis_names[1],
        title=title,
    )
    ax.legend(loc="best", fontsize=8, framealpha=0.85)
    return style.save(fig, path)


def _in_view(m: np.ndarray, X: np.ndarray, Y: np.ndarray) -> bool:
    return X.min() <= m[0] <= X.max() and Y.min() <= m[1] <= Y.max()
