"""Shared plotting style: the Agg canvas, fixed colors per optimizer, saving and closing."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

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
    fig.savefig(path, dpi=dpi)
    fig.clear()
    return path


def finite_path(points: np.ndarray) -> np.ndarray:
    """The rows of `points` (T, d) that are finite (a diverged run plots up to its last finite state)."""
    return points[np.all(np.isfinite(points), axis=-1)]


def group_label(label: str) -> str:
    """The label a run's legend entry uses: runs `adam[0]`, `adam[1]`, ... share `adam`."""
    return label.split("[")[0]
