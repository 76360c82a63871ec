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
from matplotlib.ticker import LogLocator, NullFormatter

from optlab.plots import style

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
    """A log-x axis of fractions in [0, 1] with a grid; labels only at whole powers of `base`
    (the range is widened to whole powers, so minor labels never crowd as `3×10¹4×10¹`)."""
    lo = base ** np.floor(np.log(xlim[0]) / np.log(base) + 1e-9)
    hi = base ** np.ceil(np.log(xlim[1]) / np.log(base) - 1e-9)
    hi = max(hi, lo * base)
    ax.set_xscale("log", base=base)
    ax.set(xlim=(lo, hi), ylim=(-0.02, 1.02), xlabel=xlabel, ylabel=ylabel, title=title)
    ax.xaxis.set_major_locator(LogLocator(base=base, numticks=12))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, alpha=0.3)
    return lo, hi


Points = Sequence[tuple[np.ndarray, np.ndarray]]  # per solver: (x, fraction) where it steps up


def _span(points: Sequence[Points], floor: float) -> tuple[float, float]:
    xs = np.concatenate([x for per in points for x, _ in per] or [np.array([floor])])
    xs = xs[np.isfinite(xs) & (xs > 0)]
    if not xs.size:
        return floor, floor * 10
    return max(float(xs.min()), floor), float(xs.max()) * 1.5


def _profile(ax, points: Points, lines: Lines, lo: float, hi: float, n: int) -> None:
    """Each solver's exact step function from its breakpoints, 0 left of the first; with a single
    problem (a profile is then one step from 0 to 1), the step is marked with a point."""
    for s, _, st in lines.each():
        x, y = points[s]
        xs = np.concatenate([[lo], x, [hi]])
        ys = np.concatenate([[0.0], y, [y[-1] if len(y) else 0.0]])
        ax.step(xs, ys, where="post", **st)
        if n == 1 and len(x):
            ax.plot(x, y, "o", ms=6, color=st["color"], zorder=st["zorder"])


def _few(n: int) -> str:
    return "; 1 problem: each profile is a single step from 0 to 1 (•)" if n == 1 else ""


def performance_profiles(
    path: Path,
    points: Sequence[Points],
    n: int,
    lines: Lines,
    panels: Sequence[str],
    title: str,
) -> Path:
    """Dolan–Moré profiles, one panel per convergence test: ρ_s(α) against the ratio α (log2);
    `points[k][s]` the breakpoints (α, ρ) of solver s in panel k."""
    fig, axes = _panels(len(panels))
    _, top = _span(points, 1.0)
    top = max(top, 2.0)
    for k, ax in enumerate(axes):
        lo, hi = _fractions(
            ax,
            (1.0, top),
            "α: cost ÷ the lowest cost any optimizer needed on that problem",
            "fraction of problems",
            f"{panels[k]}   ({n} problem{'s' * (n != 1)}{_few(n)})",
            base=2,
        )
        _profile(ax, points[k], lines, lo, hi, n)
    fig.suptitle(title + "\nhigher and further left is better" + lines.note)
    _legend(fig, axes[0])
    return style.save(fig, path)


def data_profiles(
    path: Path, points: Sequence[Points], n: int, lines: Lines, taus: Sequence[float]
) -> Path:
    """Moré–Wild data profiles, one panel per τ: d_s(κ) against κ = cost / (n_p + 1)."""
    fig, axes = _panels(len(taus))
    lo, hi = _span(points, 1e-3)
    for k, ax in enumerate(axes):
        a, b = _fractions(
            ax,
            (lo, hi),
            "κ: cost ÷ (dimension + 1)  (simplex gradients)",
            "fraction of problems solved",
            f"τ = {taus[k]:.0e}   ({n} problem{'s' * (n != 1)}{_few(n)})",
        )
        _profile(ax, points[k], lines, a, b, n)
    fig.suptitle(
        "Data profiles (Moré–Wild): solved once f(x₀) − f(x) ≥ (1 − τ)(f(x₀) − f_L)\n"
        "higher and further left is better" + lines.note
    )
    _legend(fig, axes[0])
    return style.save(fig, path)


def ecdf(path: Path, panels: Sequence[tuple[int, int, Points, np.ndarray]], lines: Lines) -> Path:
    """COCO-style runtime ECDFs, one panel per dimension: the fraction of (problem, target) pairs
    reached within cost / d. `panels`: (d, problems, breakpoints per solver, median budget / d
    per solver, marked ×)."""
    fig, axes = _panels(len(panels))
    for ax, (dim, n, points, budget) in zip(axes, panels, strict=True):
        lo, hi = _span([points], 0.1)
        hi = max(hi, float(np.max(budget)) * 1.5)
        a, b = _fractions(
            ax,
            (lo, hi),
            "cost ÷ dimension",
            "fraction of (problem, target) pairs",
            f"{dim}-D: {n} problem{'s' * (n != 1)} × 51 targets 10² … 10⁻⁸",
        )
        _profile(ax, points, lines, a, b, 0)
        for s, solver in enumerate(lines.solvers):
            if solver in lines.shown:
                x, y = points[s]
                end = float(budget[s])
                i = np.searchsorted(x, end, side="right") - 1
                at = y[i] if i >= 0 else 0.0
                ax.plot(end, at, "x", ms=9, mew=2, color=style.color(solver), zorder=4)
    fig.suptitle(
        "Runtime ECDFs (COCO-style), one panel per dimension\n× = median cost used" + lines.note
    )
    _legend(fig, axes[0])
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
    # diverging runs would squash the rest: show up to 30× the highest colored median, counting
    # a median at most 1000× the highest median at the start (a diverged median runs off the top)
    start = max(float(b[1][0]) for b in bands.values())
    cap = lambda b: min(float(b[1].max()), 1e3 * start)  # noqa: E731
    colored = [cap(b) for s, b in bands.items() if s in lines.shown]
    top = min(30 * max(colored or [cap(b) for b in bands.values()]), ceiling)
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
