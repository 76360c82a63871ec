"""Shared plotting style: the Agg canvas, fixed colors per optimizer, saving and closing."""

from __future__ import annotations

import logging
import zlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

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


LEGEND_Z = 10  # the legend above every path and marker


def legend(ax: Axes) -> None:
    """The project's legend: small, translucent, placed where it hides the least data, drawn
    above every path."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8, framealpha=0.85).set_zorder(LEGEND_Z)


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


class Look(NamedTuple):
    """How a group's paths are drawn: line width (points), dash pattern, and drawing order."""

    lw: float
    ls: str | tuple
    zorder: float


PATH_Z = 4.0  # paths above the contours, below the markers
WIDEST, THINNEST, LONE = 4.5, 2.0, 2.0
DASHES = ("-", (0, (5.0, 2.5)), (0, (2.0, 1.5)), (0, (5.0, 2.0, 1.5, 2.0)))


def looks(labels: Sequence[str]) -> dict[str, Look]:
    """Per optimizer group of `labels`, in order: its Look. Groups are drawn bottom to top from
    the widest solid line to thinner dashed and dotted ones, so a path lying exactly on another
    group's leaves the lower one visible on both sides and between the dashes."""
    groups = list(dict.fromkeys(group_label(lb) for lb in labels))
    if len(groups) == 1:
        return {groups[0]: Look(LONE, "-", PATH_Z)}
    widths = np.linspace(WIDEST, THINNEST, len(groups))
    return {
        g: Look(float(w), DASHES[k % len(DASHES)], PATH_Z + k / 100)
        for k, (g, w) in enumerate(zip(groups, widths, strict=True))
    }


CEILING = 1e100  # log axes: larger finite values sit on the top edge (matplotlib's ticks overflow)


def ceiling(values: np.ndarray) -> np.ndarray:
    """`values` with finite entries above CEILING drawn at CEILING (NaN stays NaN)."""
    return np.minimum(np.asarray(values, dtype=float), CEILING)
