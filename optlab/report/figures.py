"""The report's figures (NumPy + matplotlib, the project's colors: one color per optimizer)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from optlab.plots import style
from optlab.report import profiles

_DASHES = ("-", "--", "-.", ":")


def line_style(solver: str, solvers: Sequence[str]) -> dict[str, object]:
    """A solver's color (the project's fixed color) and a dash pattern that tells apart look-alikes."""
    return {"color": style.color(solver), "ls": _DASHES[list(solvers).index(solver) % len(_DASHES)]}


def _panels(n: int, width: float = 11.0):
    cols = min(n, 2)
    rows = -(-n // cols)
    fig = style.figure(width, 3.4 * rows + 0.6)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _legend(fig, axes, n: int) -> None:
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=8, ncols=1 if n <= 18 else 2)


def _fractions(ax, xlim: tuple[float, float], xlabel: str, ylabel: str, title: str, base: int = 10):
    """A log-x axis of fractions in [0, 1] with a grid."""
    ax.set_xscale("log", base=base)
    ax.set(xlim=xlim, ylim=(-0.02, 1.02), xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(True, alpha=0.3)


def _steps(ax, x: np.ndarray, y: np.ndarray, solvers: Sequence[str]) -> None:
    for s, solver in enumerate(solvers):
        ax.step(x, y[:, s], where="post", lw=1.6, label=solver, **line_style(solver, solvers))


def performance_profiles(
    path: Path, t: np.ndarray, solvers: Sequence[str], targets: Sequence[float]
) -> Path:
    """Dolan–Moré profiles, one panel per target: ρ_s(α) against the ratio α (log2)."""
    fig, axes = _panels(len(targets))
    for k, ax in enumerate(axes):
        r = profiles.ratios(t[:, :, k])
        finite = r[np.isfinite(r)]
        top = max(2.0, float(finite.max()) * 1.5) if finite.size else 2.0
        alphas = np.unique(np.concatenate([[1.0], finite, [top]]))
        _steps(ax, alphas, profiles.performance_profile(t[:, :, k], alphas), solvers)
        _fractions(
            ax,
            (1, top),
            "α: evaluations ÷ the fastest solver's on that problem",
            "fraction of problems",
            f"target f − f* ≤ {targets[k]:.0e}   ({len(t)} problems)",
            base=2,
        )
    fig.suptitle("Performance profiles (Dolan–Moré): higher and further left is better")
    _legend(fig, axes, len(solvers))
    return style.save(fig, path)


def data_profiles(
    path: Path, t: np.ndarray, dims: np.ndarray, solvers: Sequence[str], targets: Sequence[float]
) -> Path:
    """Moré–Wild data profiles, one panel per target: d_s(κ) against κ = evaluations / (d + 1)."""
    fig, axes = _panels(len(targets))
    for k, ax in enumerate(axes):
        scaled = t[:, :, k] / (dims[:, None] + 1.0)
        finite = scaled[np.isfinite(scaled)]
        lo = float(finite.min()) / 1.5 if finite.size else 1.0
        hi = float(finite.max()) * 1.5 if finite.size else 10.0
        budgets = np.unique(np.concatenate([[lo], finite, [hi]]))
        _steps(ax, budgets, profiles.data_profile(t[:, :, k], dims, budgets), solvers)
        _fractions(
            ax,
            (lo, hi),
            "κ: evaluations ÷ (dimension + 1)",
            "fraction of problems solved",
            f"target f − f* ≤ {targets[k]:.0e}   ({len(t)} problems)",
        )
    fig.suptitle(
        "Data profiles (Moré–Wild): fraction solved within a budget of κ (d+1) evaluations"
    )
    _legend(fig, axes, len(solvers))
    return style.save(fig, path)


def ecdf(
    path: Path, t: np.ndarray, dims: np.ndarray, solvers: Sequence[str], budget: np.ndarray
) -> Path:
    """COCO-style runtime ECDF: fraction of (problem, target) pairs reached within evaluations / d.

    `t` (P, S, K) evaluations to each target; `budget` (P, S) evaluations each run used (marked ×).
    """
    scaled = t / dims[:, None, None]
    finite = scaled[np.isfinite(scaled)]
    lo = max(float(finite.min()) / 1.5, 0.1) if finite.size else 0.1
    hi = float((budget / dims[:, None]).max()) * 1.5
    x = np.unique(np.concatenate([[lo], finite, [hi]]))
    y = profiles.ecdf(scaled, x)
    fig = style.figure(9.0, 5.2)
    ax = fig.add_subplot()
    _steps(ax, x, y, solvers)
    for s, solver in enumerate(solvers):
        end = float(np.median(budget[:, s] / dims))
        ax.plot(
            end,
            y[np.searchsorted(x, end, side="right") - 1, s],
            "x",
            ms=9,
            mew=2,
            color=style.color(solver),
        )
    _fractions(
        ax,
        (lo, hi),
        "evaluations ÷ dimension",
        "fraction of (problem, target) pairs",
        f"Runtime distributions (ECDF, COCO-style): {t.shape[0]} problems × {t.shape[2]} targets "
        "f − f* = 10² … 10⁻⁸;  × = median budget used",
    )
    ax.title.set_fontsize(9)
    ax.legend(loc="upper left", fontsize=8, ncols=1 if len(solvers) <= 12 else 2)
    return style.save(fig, path)


def loss_bands(
    path: Path,
    curves: dict[str, np.ndarray],
    solvers: Sequence[str],
    *,
    title: str,
    floor: float = 1e-16,
) -> Path:
    """Median f − f* per step across starts with the interquartile band, one color per solver."""
    bands = {}
    for solver, c in curves.items():
        g = np.clip(np.nan_to_num(np.asarray(c, dtype=float), posinf=1e300), floor, 1e300)
        bands[solver] = np.percentile(g, [25, 50, 75], axis=0)
    # the bands of diverging runs would squash the medians: show up to 30× the highest median
    top = 30 * max(float(b[1].max()) for b in bands.values())
    fig = style.figure(8.5, 5.0)
    ax = fig.add_subplot()
    for solver, (q25, med, q75) in bands.items():
        steps = np.arange(len(med))
        ls = line_style(solver, solvers)
        ax.fill_between(steps, q25, np.minimum(q75, top), color=ls["color"], alpha=0.12, lw=0)
        ax.plot(steps, med, lw=1.6, label=f"{solver} ({len(curves[solver])})", **ls)
    ax.set_yscale("log")
    ax.set_ylim(top=top)
    ax.set(xlabel="step", ylabel="f − f*", title=title)
    ax.grid(True, which="major", alpha=0.3)
    fig.legend(loc="outside right upper", fontsize=8, ncols=1 if len(curves) <= 18 else 2)
    return style.save(fig, path)
