"""Textbook pictures of the derivatives at one point of a 2-D surface (NumPy + matplotlib only).

`slices`: the surface cut along each axis, with the tangent whose slope is the partial derivative.
`gradient_field`: level curves, the gradient field across them, and at the point ∇f, −∇f and the
tangent to the level curve. `directional`: D_u f against the direction angle, a cosine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D

from optlab.plots import style

ASCENT, DESCENT, TANGENT, FIELD = "#c0392b", "#1f5fa8", "#1e8449", "#7f8c8d"
AXES = ("x", "y")


def _num(v: float) -> str:
    return f"{v:.3g}".replace("-", "−")


def _deg(a: float) -> str:
    """An angle in [0°, 360°) to 0.1°: 45°, 221.6°."""
    return f"{a % 360:.1f}".removesuffix(".0") + "°"


def _unit(v: np.ndarray) -> np.ndarray | None:
    """v / ‖v‖, or None when v is zero or not finite (no direction to draw)."""
    n = float(np.linalg.norm(v))
    return v / n if np.isfinite(n) and n > 0 else None


def _tangent(ax, name: str, c: float, value: float, slope: float, half: float) -> None:
    """The tangent line at (c, value) with its slope triangle (run Δ, rise slope·Δ), labelled."""
    seg = np.array([c - half, c + half])
    label = rf"tangent, slope $\partial f/\partial {name}$ = {_num(slope)}"
    ax.plot(seg, value + slope * (seg - c), color=ASCENT, lw=2, ls="--", label=label)
    run = 0.45 * half
    ax.plot([c, c + run, c + run], [value, value, value + slope * run], color=ASCENT, lw=1)
    box = {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8}
    ax.annotate(
        rf"$\partial f/\partial {name}$ = {_num(slope)}",
        (c + run, value + slope * run / 2),
        xytext=(6, 0),
        textcoords="offset points",
        va="center",
        color=ASCENT,
        bbox=box,
    )


def slices(
    path: Path,
    t: np.ndarray,
    fs: np.ndarray,
    *,
    point: np.ndarray,
    value: float,
    partials: np.ndarray,
    title: str,
) -> Path:
    """f(x, y₀) against x and f(x₀, y) against y (`t`, `fs` of shape (2, n)), each with the tangent
    line at the point whose slope is ∂f/∂x resp. ∂f/∂y."""
    fig = style.figure(11.0, 4.6)
    x0, y0 = (_num(float(v)) for v in point)
    fixed, curve = (f"y = {y0}", f"x = {x0}"), (f"$f(x, {y0})$", f"$f({x0}, y)$")
    for i, ax in enumerate(fig.subplots(1, 2)):
        name, ti, fi, c, slope = AXES[i], t[i], fs[i], float(point[i]), float(partials[i])
        ax.plot(ti, fi, color="black", lw=2, label=curve[i])
        if np.isfinite(slope) and np.isfinite(value):
            _tangent(ax, name, c, value, slope, half=0.22 * (ti[-1] - ti[0]))
        ax.plot(c, value, "o", color=ASCENT, mec="black", ms=8, zorder=5)
        ax.axvline(c, color=FIELD, lw=0.8, ls=":")
        finite = fi[np.isfinite(fi)]
        if finite.size:  # the slice decides the view, not the tangent
            lo, hi = float(finite.min()), float(finite.max())
            ax.set_ylim(lo - 0.08 * (hi - lo or 1.0), hi + 0.08 * (hi - lo or 1.0))
        ax.set(
            xlim=(ti[0], ti[-1]),
            xlabel=name,
            ylabel=curve[i],
            title=f"slice {fixed[i]}: f as a function of {name} alone",
        )
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=9, framealpha=0.9)
    fig.suptitle(f"{title}: slicing the surface, the partial derivative is the slope of the slice")
    return style.save(fig, path)


def _levels(Z: np.ndarray, n: int = 14) -> np.ndarray:
    """Levels at evenly spaced quantiles of Z: curves spread evenly over the view on any surface."""
    finite = Z[np.isfinite(Z)]
    levels = np.unique(np.quantile(finite, np.linspace(0.03, 0.97, n))) if finite.size else []
    return levels if len(levels) > 1 else np.linspace(np.nanmin(Z), np.nanmax(Z) + 1, n)


def _key(label: str, **line) -> Line2D:
    """A legend entry drawn like `line` (a Line2D without data)."""
    return Line2D([], [], label=label, **line)


def _direction_field(ax, qx: np.ndarray, qy: np.ndarray, G: np.ndarray) -> list[Line2D]:
    """Unit arrows along ∇f on the coarse grid (qx, qy): directions only, magnitudes vary too much."""
    norm = np.linalg.norm(G, axis=-1, keepdims=True)
    D = np.where(norm > 0, G / np.where(norm > 0, norm, 1), np.nan)
    spacing = min(qx[0, 1] - qx[0, 0], qy[1, 0] - qy[0, 0])
    ax.quiver(
        qx,
        qy,
        D[..., 0],
        D[..., 1],
        color=FIELD,
        angles="xy",
        scale_units="xy",
        scale=1 / (0.55 * spacing),
        width=0.0028,
        alpha=0.9,
    )
    label = r"direction of $\nabla f$ (normalized): across the level curves"
    return [_key(label, color=FIELD, marker=r"$\rightarrow$", ls="none", ms=14)]


def _steepest(ax, p: np.ndarray, gradient: np.ndarray, width: float) -> list[Line2D]:
    """At p: ∇f (ascent), −∇f (descent), the level curve's tangent ⟂ ∇f and a right-angle mark.
    ∇f is drawn to scale when its length is between 10% and 30% of the view."""
    u = _unit(gradient)
    if u is None:
        zero = np.all(gradient == 0)
        return [
            _key("∇f = 0: no steepest direction" if zero else "∇f is not finite here", ls="none")
        ]
    norm = float(np.linalg.norm(gradient))
    L = float(np.clip(norm, 0.1 * width, 0.3 * width))
    tan = np.array([-u[1], u[0]])
    for sign, col in ((1, ASCENT), (-1, DESCENT)):
        head = {"arrowstyle": "-|>,head_width=0.4,head_length=0.8", "color": col, "lw": 2.8}
        ax.annotate("", p + sign * L * u, p, arrowprops=head, zorder=6)
    ends = np.stack([p - 1.3 * L * tan, p + 1.3 * L * tan])
    ax.plot(ends[:, 0], ends[:, 1], color=TANGENT, lw=2.2, ls="--", zorder=5)
    s = 0.12 * L
    corner = np.stack([p + s * u, p + s * (u + tan), p + s * tan])
    ax.plot(corner[:, 0], corner[:, 1], color="black", lw=1.2, zorder=6)
    g = ", ".join(_num(v) for v in gradient)
    scale = "" if norm == L else " (arrow not to scale)"
    return [
        _key(
            rf"$\nabla f$ = ({g}), $\|\nabla f\|$ = {_num(norm)}: steepest ascent{scale}",
            color=ASCENT,
            lw=2.8,
        ),
        _key(r"$-\nabla f$: steepest descent", color=DESCENT, lw=2.8),
        _key(
            r"tangent to the level curve ($\perp \nabla f$, $D_u f = 0$)",
            color=TANGENT,
            lw=2.2,
            ls="--",
        ),
    ]


def gradient_field(
    path: Path,
    X: np.ndarray,
    Y: np.ndarray,
    Z: np.ndarray,
    field: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    point: np.ndarray,
    value: float,
    gradient: np.ndarray,
    title: str,
) -> Path:
    """Level curves of Z with the normalized gradient field `field` = (qx, qy, G (…, 2)) crossing them
    at right angles; at `point` the gradient, the negative gradient and the level curve's tangent."""
    fig = style.figure(7.6, 7.0)
    ax = fig.add_subplot()
    levels = _levels(Z)
    ax.contourf(X, Y, Z, levels=levels, cmap="Blues_r", alpha=0.35, extend="both")
    ax.contour(X, Y, Z, levels=levels, colors=FIELD, linewidths=0.8)
    handles = [_key("level curves f = c", color=FIELD, lw=0.8), *_direction_field(ax, *field)]
    if np.isfinite(value):
        ax.contour(X, Y, Z, levels=[value], colors="black", linewidths=2.2)
        handles.append(_key(f"level curve f = {_num(value)}", color="black", lw=2.2))
    p = np.asarray(point, dtype=float)
    width = min(X.max() - X.min(), Y.max() - Y.min())
    handles += _steepest(ax, p, np.asarray(gradient, dtype=float), width)
    ax.plot(*p, "o", color="white", mec="black", mew=1.5, ms=9, zorder=7)
    where = ", ".join(_num(v) for v in p)
    handles.append(
        _key(f"point ({where})", color="white", mec="black", marker="o", ls="none", ms=9)
    )
    ax.set(xlim=(X.min(), X.max()), ylim=(Y.min(), Y.max()), xlabel="x", ylabel="y")
    ax.set_aspect("equal")  # right angles look right
    ax.set_title(f"{title}: the gradient is perpendicular to the level curves")
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), fontsize=9)
    return style.save(fig, path)


def _cosine(ax, gradient: np.ndarray) -> None:
    """‖∇f‖ cos(θ − θ_∇f) with its maximum (along ∇f), minimum (along −∇f) and zeros marked."""
    norm, u = float(np.linalg.norm(gradient)), _unit(gradient)
    if u is None:
        note = r"$\nabla f = 0$: every $D_u f$ is 0" if norm == 0 else r"$\nabla f$ is not finite"
        ax.text(0.5, 0.75, note, transform=ax.transAxes, ha="center", fontsize=12)
        return
    tg = float(np.degrees(np.arctan2(u[1], u[0])) % 360)
    theta = np.linspace(0, 360, 721)
    label = rf"$\|\nabla f\|\cos(\theta - \theta_{{\nabla f}})$, $\theta_{{\nabla f}}$ = {_deg(tg)}"
    ax.plot(theta, norm * np.cos(np.radians(theta - tg)), color="black", lw=1.8, label=label)
    lo, hi = sorted(((tg + 90) % 360, (tg + 270) % 360))
    marks = [
        (tg, norm, ASCENT, "^", f"max {_num(norm)} at {_deg(tg)}: along ∇f"),
        (tg + 180, -norm, DESCENT, "v", f"min {_num(-norm)} at {_deg(tg + 180)}: along −∇f"),
        (lo, 0.0, TANGENT, "D", f"0 at {_deg(lo)} and {_deg(hi)}: along the level curve"),
        (hi, 0.0, TANGENT, "D", None),
    ]
    for a, v, col, m, label in marks:
        at = [a % 360, 360.0] if a % 360 == 0 else [a % 360]  # 0° and 360° are one direction
        for x in at:
            ax.axvline(x, color=col, lw=0.9, ls=":")
        ax.plot(
            at,
            [v] * len(at),
            m,
            color=col,
            mec="black",
            ms=11,
            zorder=6,
            label=label,
            clip_on=False,
        )


def directional(path: Path, sampled: np.ndarray, *, gradient: np.ndarray, title: str) -> Path:
    """D_u f against the angle θ of u: the jvp values `sampled` (k, 2) = (θ°, D_u f) on the cosine
    ‖∇f‖ cos(θ − θ_∇f), with its maximum, minimum and zeros marked."""
    fig = style.figure(8.5, 5.0)
    ax = fig.add_subplot()
    ax.axhline(0, color="black", lw=0.8)
    _cosine(ax, np.asarray(gradient, dtype=float))
    ok = np.all(np.isfinite(sampled), axis=1) if len(sampled) else np.zeros(0, bool)
    if ok.any():
        label = r"$D_u f$ by jax.jvp, every 15°"
        ax.plot(*sampled[ok].T, "o", color="white", mec=FIELD, mew=1.6, ms=6, zorder=5, label=label)
    ax.set_xticks(np.arange(0, 361, 45))
    ax.set(
        xlim=(0, 360),
        xlabel=r"direction $\theta$ of the unit vector u (degrees from the +x axis)",
        ylabel=r"$D_u f = \nabla f \cdot u$",
        title=f"{title}: the directional derivative is a cosine in the angle",
    )
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=9)
    return style.save(fig, path)
