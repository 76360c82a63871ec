"""Shared plotting style: the Agg canvas, fixed colors per optimizer, saving and closing."""

from __future__ import annotations

import logging
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

log = logging.getLogger("optlab")

# Fixed colors so an optimizer looks the same in every plot of the project.
_PALETTE = {
    "gd": "#1f77b4",
    "momentum": "#ff7f0e",
    "adam": "#2ca02c",
    "sgd": "#17becf",
    "nesterov": "#d62728",
    "newton": "#9467bd",
    "lbfgs": "#8c564b",
    "rmsprop": "#e377c2",
    "adagrad": "#7f7f7f",
    "adamw": "#bcbd22",
}
_EXTRA = [
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#3182bd",
    "#e6550d",
    "#31a354",
    "#756bb1",
    "#636363",
    "#9c9ede",
    "#cedb9c",
    "#e7ba52",
    "#e7969c",
]


def color(name: str) -> str:
    """The color of optimizer (or run label) `name`, the same in every figure."""
    base = name.split("[")[0]
    if base in _PALETTE:
        return _PALETTE[base]
    return _EXTRA[zlib.crc32(base.encode()) % len(_EXTRA)]


def figure(width: float = 7.0, height: float = 5.5) -> Figure:
    """A new figure on the Agg canvas (not registered with pyplot, so nothing leaks)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, path: Path, dpi: int = 120) -> Path:
    """Save `fig` to `path` and release it."""
    try:
        fig.savefig(path, dpi=dpi)
    finally:
        release(fig)
    return path


def release(fig: Figure) -> None:
    """Drop every artist of `fig` (it was never registered with pyplot, so nothing else holds it)."""
    fig.clear()


def legend(ax: Axes) -> None:
    """The project's legend: small, translucent, placed where it hides the least data."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8, framealpha=0.85)


def finite_path(points: np.ndarray) -> np.ndarray:
    """The rows of `points` (T, d) that are finite (a diverged run plots up to its last finite state)."""
    return points[np.all(np.isfinite(points), axis=-1)]


def group_label(label: str) -> str:
    """The label a run's legend entry uses: runs `adam[0]`, `adam[1]`, ... share `adam`."""
    return label.split("[")[0]


def legend_labels(labels: Sequence[str]) -> list[str | None]:
    """Per run, its legend text: `adam` (or `adam (4 runs)`) for a group's first run, else None."""
    counts = Counter(group_label(lb) for lb in labels)
    seen: set[str] = set()
    out: list[str | None] = []
    for lb in labels:
        g = group_label(lb)
        out.append(None if g in seen else g if counts[g] == 1 else f"{g} ({counts[g]} runs)")
        seen.add(g)
    return out


CEILING = 1e100  # log axes: larger finite values sit on the top edge (matplotlib's ticks overflow)


def ceiling(values: np.ndarray) -> np.ndarray:
    """`values` with finite entries above CEILING drawn at CEILING (NaN stays NaN)."""
    return np.minimum(np.asarray(values, dtype=float), CEILING)
