"""Convergence panels: f − f* against step and against evaluations, ‖∇f‖ and step size ‖Δx‖."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from optlab.plots import style
from optlab.plots.contour import gap_label
from optlab.plots.style import log


def gap(loss: np.ndarray, f_min: float | None) -> np.ndarray:
    """f − f* (f − min f over all runs when f* is unknown); NaN where f is not finite.

    A gap ≤ 0 (f* reached to working precision) is drawn one decade below the smallest positive
    gap, so it stays on the log axis at its bottom instead of vanishing.
    """
    loss = np.asarray(loss, dtype=float)
    finite = np.isfinite(loss)
    floor = f_min if f_min is not None else (loss[finite].min() if finite.any() else 0.0)
    g = np.where(finite, loss - floor, np.nan)
    positive = g[g > 0]
    bottom = positive.min() / 10 if positive.size else 1e-16
    return np.where(g > 0, g, np.where(finite, bottom, np.nan))


def cumulative_evals(f_evals: np.ndarray, steps_taken: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Evaluations of f spent by step t (R, T+1); NaN rows where the per-step count is unknown.

    The engine records only totals: one evaluation at the start, then 1 + extra per step taken
    (extra ≥ 0, e.g. a line search). So when f_evals = 1 + steps_taken every step cost exactly one
    and the count at step t is 1 + min(t, steps_taken); otherwise the per-step split is not known.
    `steps` are the recorded step numbers (0, 1, …, T, or 0, k, 2k, … with record_every=k).
    """
    f_evals, steps_taken = np.asarray(f_evals), np.asarray(steps_taken)
    ev = 1.0 + np.minimum(np.asarray(steps), steps_taken[:, None])
    return np.where((f_evals == 1 + steps_taken)[:, None], ev, np.nan)


def step_sizes(params: np.ndarray) -> np.ndarray:
    """‖x_{t+1} − x_t‖ (R, T); NaN for zero steps (a stopped run) and non-finite points."""
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run's step is honestly inf
        s = np.linalg.norm(np.diff(np.asarray(params, dtype=float), axis=1), axis=-1)
    return np.where(s > 0, s, np.nan)


def _lines(ax: Axes, x: np.ndarray, ys: np.ndarray, labels: Sequence[str], legend: bool) -> None:
    """One line per run (rows of `ys`), colored by optimizer; runs of a group share a legend entry."""
    many = len(labels) > len({style.group_label(lb) for lb in labels})
    texts = style.legend_labels(labels)
    for r, (y, label) in enumerate(zip(ys, labels, strict=True)):
        xr = x[r] if np.ndim(x) == 2 else x
        ax.plot(
            xr,
            style.ceiling(y),
            color=style.color(label),
            lw=1.0 if many else 1.6,
            alpha=0.55 if many else 1.0,
            gid=label,
            label=texts[r] if legend else None,
        )


def _upto(
    a: np.ndarray, steps_taken: np.ndarray | None, offset: int = 1, t: np.ndarray | None = None
) -> np.ndarray:
    """`a` (R, n) with entries after each run's last step taken set to NaN (a stopped run);
    `t` (n,) are the step numbers of the columns (default 0, 1, …)."""
    if steps_taken is None:
        return a
    t = np.arange(a.shape[1]) if t is None else np.asarray(t)
    return np.where(t[None] < np.asarray(steps_taken)[:, None] + offset, a, np.nan)


def render(
    losses: np.ndarray,
    labels: Sequence[str],
    *,
    title: str,
    f_min: float | None = None,
    grad_norm: np.ndarray | None = None,
    params: np.ndarray | None = None,
    f_evals: np.ndarray | None = None,
    steps_taken: np.ndarray | None = None,
    steps: np.ndarray | None = None,
) -> Figure:
    """The loss figure: f − f* against step, plus the panels whose arrays are given (not saved).

    Each run is drawn up to its last step taken (a converged or diverged run stops there).
    """
    for r, row in enumerate(np.asarray(losses, dtype=float)):
        if not np.isfinite(row).any():
            log.warning(f"loss: run {labels[r]!r} has no finite value of f; not drawn")
    g = gap(losses, f_min)
    steps = np.arange(g.shape[1]) if steps is None else np.asarray(steps)
    g = _upto(g, steps_taken, t=steps)
    panels = [("f − f* against step", "step", gap_label(f_min), steps, g)]
    if f_evals is not None and steps_taken is not None:
        ev = cumulative_evals(f_evals, steps_taken, steps)
        panels.append(("f − f* against evaluations", "f evaluations", gap_label(f_min), ev, g))
    if grad_norm is not None:
        gn = _upto(np.where(np.asarray(grad_norm) > 0, grad_norm, np.nan), steps_taken, t=steps)
        panels.append(("gradient norm", "step", "‖∇f‖", steps, gn))
    if params is not None:
        ss = _upto(step_sizes(params), steps_taken, offset=0, t=steps[:-1])
        panels.append(("step size", "step", r"$\|x_{t+1} - x_t\|$", steps[1:], ss))
    cols = 1 if len(panels) == 1 else 2
    rows = -(-len(panels) // cols)
    fig = style.figure(7.0 if cols == 1 else 11.0, 4.5 if rows == 1 else 7.5)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for k, (ax, (name, xlabel, ylabel, x, ys)) in enumerate(zip(axes, panels, strict=False)):
        _lines(ax, x, ys, labels, legend=k == 0)
        ax.set_yscale("log")
        ax.set(xlabel=xlabel, ylabel=ylabel, title=name)
        ax.grid(True, which="major", alpha=0.3)
    if f_evals is not None and steps_taken is not None:
        _totals(axes[1], ev, g, f_evals, labels)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    style.legend(axes[0])
    fig.suptitle(title)
    return fig


def _totals(ax: Axes, ev: np.ndarray, g: np.ndarray, f_evals: np.ndarray, labels) -> None:
    """Runs whose per-step evaluation count is unknown: only (total evaluations, final gap)."""
    unknown = np.flatnonzero(np.isnan(ev[:, 0]))
    for r in unknown:
        last = g[r][np.isfinite(g[r])]
        if last.size:
            ax.plot(
                f_evals[r], last[-1], "D", color=style.color(labels[r]), mec="black", gid=labels[r]
            )
    if unknown.size:
        ax.text(
            0.02,
            0.02,
            "◆ total evaluations at the end\n(per-step count not recorded)",
            transform=ax.transAxes,
            fontsize=7,
            va="bottom",
        )


def loss(
    path: Path, losses: np.ndarray, labels: Sequence[str], *, dpi: int = 120, **panels: Any
) -> Path:
    """Write the loss figure (`render(losses, labels, **panels)`) to `path` and release it."""
    return style.save(render(losses, labels, **panels), path, dpi=dpi)


def spread(
    path: Path,
    losses: Sequence[np.ndarray],
    labels: Sequence[str],
    *,
    title: str,
    f_min: float | None = None,
    steps: np.ndarray | None = None,
    dpi: int = 120,
) -> Path:
    """Noisy grids: per optimizer (`losses[i]` (n, T+1), its runs), the median f − f* against
    step and the interquartile band (25th–75th percentile over its runs) around it."""
    g_all = gap(np.concatenate(losses), f_min)
    fig = style.figure(7.0, 4.5)
    ax = fig.subplots()
    start = 0
    for runs, label in zip(losses, labels, strict=True):
        g = g_all[start : start + len(runs)]
        start += len(runs)
        x = np.arange(g.shape[1]) if steps is None else np.asarray(steps)
        with np.errstate(all="ignore"):
            q25, q50, q75 = np.nanpercentile(g, [25, 50, 75], axis=0)
        c = style.color(label)
        ax.fill_between(x, style.ceiling(q25), style.ceiling(q75), color=c, alpha=0.25, lw=0)
        ax.plot(x, style.ceiling(q50), color=c, lw=1.6, gid=label, label=f"{label} ({len(g)} runs)")
    ax.set_yscale("log")
    ax.set(xlabel="step", ylabel=gap_label(f_min), title="median and interquartile band over runs")
    ax.grid(True, which="major", alpha=0.3)
    style.legend(ax)
    fig.suptitle(title)
    return style.save(fig, path, dpi=dpi)
