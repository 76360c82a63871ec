"""The report's figures (NumPy + matplotlib, the project's colors: one color per optimizer).

With many optimizers, a figure colors the `Lines.shown` ones (the best ranked and the references)
and draws every other one as a thin gray line, so that the colored ones stay readable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.colors import to_rgb

from optlab.plots import style
from optlab.report import profiles

_DASHES = ("-", "--", "-.", ":")
_OTHER = "#b0b0b0"


def _close(a: str, b: str) -> bool:
    """Whether two colors are hard to tell apart (RGB distance under 0.2)."""
    return float(np.linalg.norm(np.subtract(to_rgb(a), to_rgb(b)))) < 0.2


@dataclasses.dataclass(frozen=True)
class Lines:
    """How each solver is drawn: all `solvers` (fixing dash patterns) and the colored `shown`."""

    solvers: tuple[str, ...]
    shown: tuple[str, ...]

    def style(self, solver: str, first_other: bool = False) -> dict[str, object]:
        """Color (the project's fixed one), dashes, width and legend label of `solver`."""
        if solver in self.shown:  # solvers sharing a color get different dash patterns
            same = [s for s in self.shown if _close(style.color(s), style.color(solver))]
            dash = _DASHES[same.index(solver) % len(_DASHES)]
            return {
                "color": style.color(solver),
                "ls": dash,
                "lw": 1.7,
                "label": solver,
                "zorder": 3,
            }
        n = len(self.solvers) - len(self.shown)
        label = f"the {n} other optimizers" if first_other else None
        return {"color": _OTHER, "ls": "-", "lw": 0.7, "label": label, "zorder": 1}

    def each(self) -> list[tuple[int, str, dict[str, object]]]:
        """(index, solver, style) for every solver, the gray ones first (drawn underneath)."""
        order = sorted(range(len(self.solvers)), key=lambda s: self.solvers[s] in self.shown)
        first = next((s for s in order if self.solvers[s] not in self.shown), None)
        return [(s, self.solvers[s], self.style(self.solvers[s], s == first)) for s in order]

    @property
    def note(self) -> str:
        """A caption fragment saying which optimizers are colored."""
        hidden = len(self.solvers) - len(self.shown)
        return (
            f" (colored: {len(self.shown)} of {len(self.solvers)}; others gray)" if hidden else ""
        )


def _panels(n: int, width: float = 12.5):
    cols = min(n, 2)
    rows = -(-n // cols)
    fig = style.figure(width, 3.6 * rows + 0.7)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _legend(fig, ax) -> None:
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: labels[i].startswith("the "))
    fig.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="outside right upper",
        fontsize=8,
    )


def _fractions(ax, xlim: tuple[float, float], xlabel: str, ylabel: str, title: str, base: int = 10):
    """A log-x axis of fractions in [0, 1] with a grid."""
    ax.set_xscale("log", base=base)
    ax.set(xlim=xlim, ylim=(-0.02, 1.02), xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(True, alpha=0.3)


def _steps(ax, x: np.ndarray, y: np.ndarray, lines: Lines) -> None:
    for s, _, st in lines.each():
        ax.step(x, y[:, s], where="post", **st)


def performance_profiles(path: Path, t: np.ndarray, lines: Lines, targets: Sequence[float]) -> Path:
    """Dolan–Moré profiles, one panel per target: ρ_s(α) against the ratio α (log2)."""
    fig, axes = _panels(len(targets))
    for k, ax in enumerate(axes):
        r = profiles.ratios(t[:, :, k])
        finite = r[np.isfinite(r)]
        top = max(2.0, float(finite.max()) * 1.5) if finite.size else 2.0
        alphas = np.unique(np.concatenate([[1.0], finite, [top]]))
        _steps(ax, alphas, profiles.performance_profile(t[:, :, k], alphas), lines)
        _fractions(
            ax,
            (1, top),
            "α: evaluations ÷ the fewest any optimizer needed on that problem",
            "fraction of problems",
            f"target f − f* ≤ {targets[k]:.0e}   ({len(t)} problems)",
            base=2,
        )
    fig.suptitle(
        "Performance profiles (Dolan–Moré): higher and further left is better" + lines.note
    )
    _legend(fig, axes[0])
    return style.save(fig, path)


def data_profiles(
    path: Path, t: np.ndarray, dims: np.ndarray, lines: Lines, targets: Sequence[float]
) -> Path:
    """Moré–Wild data profiles, one panel per target: d_s(κ) against κ = evaluations / (d + 1)."""
    fig, axes = _panels(len(targets))
    for k, ax in enumerate(axes):
        scaled = t[:, :, k] / (dims[:, None] + 1.0)
        finite = scaled[np.isfinite(scaled)]
        lo = float(finite.min()) / 1.5 if finite.size else 1.0
        hi = float(finite.max()) * 1.5 if finite.size else 10.0
        budgets = np.unique(np.concatenate([[lo], finite, [hi]]))
        _steps(ax, budgets, profiles.data_profile(t[:, :, k], dims, budgets), lines)
        _fractions(
            ax,
            (lo, hi),
            "κ: evaluations ÷ (dimension + 1)",
            "fraction of problems solved",
            f"target f − f* ≤ {targets[k]:.0e}   ({len(t)} problems)",
        )
    fig.suptitle(
        "Data profiles (Moré–Wild): fraction solved within κ·(d+1) evaluations" + lines.note
    )
    _legend(fig, axes[0])
    return style.save(fig, path)


def ecdf(path: Path, t: np.ndarray, dims: np.ndarray, lines: Lines, budget: np.ndarray) -> Path:
    """COCO-style runtime ECDF: fraction of (problem, target) pairs reached within evaluations / d.

    `t` (P, S, K) evaluations to each target; `budget` (P, S) evaluations each run used (marked ×).
    """
    scaled = t / dims[:, None, None]
    finite = scaled[np.isfinite(scaled)]
    lo = max(float(finite.min()) / 1.5, 0.1) if finite.size else 0.1
    hi = float((budget / dims[:, None]).max()) * 1.5
    x = np.unique(np.concatenate([[lo], finite, [hi]]))
    y = profiles.ecdf(scaled, x)
    fig = style.figure(10.5, 5.4)
    ax = fig.add_subplot()
    _steps(ax, x, y, lines)
    for s, solver in enumerate(lines.solvers):
        if solver in lines.shown:
            end = float(np.median(budget[:, s] / dims))
            at = y[np.searchsorted(x, end, side="right") - 1, s]
            ax.plot(end, at, "x", ms=9, mew=2, color=style.color(solver), zorder=4)
    _fractions(
        ax,
        (lo, hi),
        "evaluations ÷ dimension",
        "fraction of (problem, target) pairs",
        f"Runtime ECDF (COCO-style): {t.shape[0]} problems × {t.shape[2]} targets 10² … 10⁻⁸; "
        f"× = median budget{lines.note}",
    )
    ax.title.set_fontsize(9)
    _legend(fig, ax)
    return style.save(fig, path)


def loss_bands(
    path: Path,
    curves: dict[str, np.ndarray],
    steps: np.ndarray,
    lines: Lines,
    *,
    title: str,
    floor: float = 1e-16,
    ceiling: float = style.CEILING,
) -> Path:
    """Median f − f* at each recorded step (`steps`) across starts, with the interquartile band
    for colored solvers (values are clipped to [floor, ceiling]: a diverging run stays on the plot's top edge)."""
    bands = {}
    for solver, c in curves.items():
        g = np.clip(np.nan_to_num(np.asarray(c, dtype=float), posinf=ceiling), floor, ceiling)
        bands[solver] = np.percentile(g, [25, 50, 75], axis=0)
    # diverging runs would squash the rest: show up to 30× the highest colored median
    colored = [float(b[1].max()) for s, b in bands.items() if s in lines.shown]
    top = min(30 * max(colored or [float(b[1].max()) for b in bands.values()]), ceiling)
    fig = style.figure(10.0, 5.2)
    ax = fig.add_subplot()
    for _, solver, st in lines.each():
        if solver not in bands:
            continue
        q25, med, q75 = bands[solver]
        if solver in lines.shown:
            ax.fill_between(steps, q25, np.minimum(q75, top), color=st["color"], alpha=0.12, lw=0)
            st = st | {"label": f"{solver} ({len(curves[solver])})"}
        ax.plot(steps, med, **st)
    ax.set_yscale("log")
    ax.set_ylim(top=top)
    ax.set(xlabel="step", ylabel=f"f − f* (floored at {floor:.0e})", title=title + lines.note)
    ax.grid(True, which="major", alpha=0.3)
    _legend(fig, ax)
    return style.save(fig, path)
