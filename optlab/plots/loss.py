"""Loss curves: f − f* against step on a log axis, one line per run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from optlab.plots import style


def gap(loss: np.ndarray, f_min: float | None) -> np.ndarray:
    """f − f* (or f − min f over all runs when f* is unknown), floored at the smallest positive float."""
    finite = loss[np.isfinite(loss)]
    floor = f_min if f_min is not None else (finite.min() if finite.size else 0.0)
    tiny = np.finfo(np.float64).tiny
    return np.where(np.isfinite(loss), np.maximum(loss - floor, tiny), np.nan)


def loss(
    path: Path,
    losses: np.ndarray,
    labels: Sequence[str],
    *,
    title: str,
    f_min: float | None = None,
) -> Path:
    """Write f − f* (log scale) against step for each run (R, T+1)."""
    fig = style.figure(7.0, 4.5)
    ax = fig.add_subplot()
    g = gap(np.asarray(losses, dtype=float), f_min)
    steps = np.arange(g.shape[1])
    seen = set()
    many = len(labels) > len({style.group_label(lb) for lb in labels})
    for row, label in zip(g, labels, strict=True):
        name = style.group_label(label)
        ax.plot(
            steps,
            row,
            color=style.color(label),
            lw=1.0 if many else 1.6,
            alpha=0.5 if many else 1.0,
            label=None if name in seen else name,
        )
        seen.add(name)
    ax.set_yscale("log")
    ax.set(xlabel="step", ylabel="f − f*" if f_min is not None else "f − min f", title=title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return style.save(fig, path)
