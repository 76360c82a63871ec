"""The interactive gradient explorer: a matplotlib figure driven by mouse and keys.

Gradients come from JAX (`probe`, jitted once; dragging only changes traced inputs) and the
optimizers from the lab's engine (one compiled program, reused for every start); this module
only draws host values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.backend_bases import KeyEvent, MouseEvent
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.widgets import Button

from optlab import engine, landscape
from optlab.config import Job, Member
from optlab.explore.probe import Probe, probe, typical_gradient
from optlab.plots import style
from optlab.plots.contour import log_levels
from optlab.surfaces.base import Surface

RUN_KEYS = ("enter", "t")
CLEAR_KEYS = ("escape", "x")
# The explorer's own colors, apart from every optimizer's (style.color): u and D_u f in magenta,
# ∇f in red with its two legs in a lighter red.
U_COLOR, PROJECTION_COLOR, GRAD_COLOR, LEG_COLOR, LEG_TEXT = (
    "#e7298a",
    "#f1a3cb",
    "#d62728",
    "#fc9272",
    "#cb181d",
)
GRAB_PIXELS = 12  # how close (in pixels) a press must be to u's handle to grab it
HELP = (
    "drag: move the point (black)\n"
    "drag the magenta handle: turn u\n"
    "enter or t: run the optimizers\n"
    "esc or x: clear them\n"
    "+ / −: longer / shorter arrows"
)


def readout(x: np.ndarray, u: np.ndarray, p: Probe) -> str:
    """The panel's text: f, the partials, |∇f| and its direction, and D_u f = |∇f| cos θ."""
    u_deg = np.degrees(np.arctan2(u[1], u[0]))
    return "\n".join(
        [
            f"point  ({x[0]:.3g}, {x[1]:.3g})",
            f"f      {p.value:.4g}",
            f"∂f/∂x  {p.grad[0]:.4g}",
            f"∂f/∂y  {p.grad[1]:.4g}",
            f"|∇f|   {p.norm:.3g}",
            f"direction of ∇f  {p.direction:.0f}°",
            "",
            f"u at {u_deg:.0f}°,  θ(u, ∇f) = {p.angle:.0f}°",
            f"D_u f = |∇f| cos θ = {p.d_u:.4g}",
        ]
    )


class Explorer:
    """Contour plot of a 2-D surface with a draggable point and live gradient geometry.

    Built on any Figure: a pyplot window, an ipympl widget in Jupyter, or an Agg figure in tests
    (where synthetic events go through `fig.canvas.callbacks.process`).
    """

    def __init__(
        self,
        fig: Figure,
        surface: Surface,
        members: Sequence[Member] = (),
        *,
        start: Sequence[float] = (1.0, 1.0),
        direction: float = 0.0,
        steps: int = 200,
        bounds: np.ndarray | None = None,
        dtype: str = "float32",
        tol_grad: float = 0.0,
        grid: int = 200,
    ):
        if surface.dim != 2:
            raise ValueError(f"the explorer draws 2-D surfaces; {surface.name} is {surface.dim}-D")
        self.fig = fig
        self.surface = surface.astype(dtype)
        self.members = tuple(members)
        self.steps = steps
        self.dtype = np.dtype(dtype)
        self.tol_grad = tol_grad
        self.bounds = np.asarray(surface.bounds if bounds is None else bounds, dtype=float)
        span = float(np.max(self.bounds[:, 1] - self.bounds[:, 0]))
        self.length = 0.12 * span  # of u's arrow and of the tangent's half-line
        self.point = np.asarray(start, dtype=float)
        self.scale = 0.2 * span / self._start_gradient()
        rad = np.radians(direction)
        self.u = np.array([np.cos(rad), np.sin(rad)])
        self.paths: list = []
        self._drag: str | None = None
        self._level = None
        self._build(grid)
        self.update()
        self._cids = [
            fig.canvas.mpl_connect(name, handler)
            for name, handler in (
                ("button_press_event", self._press),
                ("motion_notify_event", self._motion),
                ("button_release_event", self._release),
                ("key_press_event", self._key),
            )
        ]

    @classmethod
    def from_job(cls, fig: Figure, job: Job, direction: float = 0.0) -> Explorer:
        """An explorer of `job`'s surface, optimizers, steps and view, starting at its first start."""
        return cls(
            fig,
            job.surface,
            job.members,
            start=job.starts[0],
            direction=direction,
            steps=job.steps,
            bounds=job.plot_bounds,
            dtype=job.dtype,
            tol_grad=job.tol_grad,
        )

    def _start_gradient(self) -> float:
        """|∇f| at the start (so the first arrow spans a fifth of the view), or a typical |∇f|
        over the view where the start's is zero or not finite."""
        norm = float(
            probe(self.surface, self.point.astype(self.dtype), np.ones(2, self.dtype)).norm
        )
        if np.isfinite(norm) and norm > 0:
            return norm
        return typical_gradient(self.surface, self.bounds, self.dtype)

    # -- drawing -------------------------------------------------------------------------------

    def _build(self, grid: int) -> None:
        fig, s = self.fig, self.surface
        fig.set_layout_engine("none")
        ax = self.ax = fig.add_axes((0.06, 0.08, 0.56, 0.85))
        self.X, self.Y, self.Z = landscape.grid(s, self.bounds, grid)
        levels, floor = log_levels(self.Z, s.f_min)
        gap = np.clip(self.Z - floor, levels[0], None)
        ax.contourf(self.X, self.Y, gap, levels=levels, norm=LogNorm(), cmap="viridis", alpha=0.85)
        ax.contour(self.X, self.Y, gap, levels=levels, colors="k", linewidths=0.3, alpha=0.4)
        (xlo, xhi), (ylo, yhi) = self.bounds
        ratio = (yhi - ylo) / (xhi - xlo)
        ax.set(xlim=(xlo, xhi), ylim=(ylo, yhi), xlabel="x", ylabel="y")
        if 0.25 <= ratio <= 4:  # equal axes, so that perpendicular looks perpendicular
            ax.set_aspect("equal", adjustable="box")
        ax.set_title(f"{s.name}: the gradient at a point", fontsize=12)
        arrow = dict(arrowstyle="-|>", lw=2.4, mutation_scale=18, shrinkA=0, shrinkB=0)
        box = dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.75)
        self.tangent = ax.plot(
            [], [], "--", color="white", lw=1.6, label="tangent to the level curve"
        )[0]
        self.leg_x = ax.plot([], [], ":", color=LEG_COLOR, lw=2.2, label="∂f/∂x leg")[0]
        self.leg_y = ax.plot([], [], "-.", color=LEG_COLOR, lw=2.2, label="∂f/∂y leg")[0]
        self.leg_x_text = ax.text(
            0, 0, "", color=LEG_TEXT, fontsize=9, ha="center", va="top", bbox=box, clip_on=True
        )
        self.leg_y_text = ax.text(
            0, 0, "", color=LEG_TEXT, fontsize=9, ha="left", va="center", bbox=box, clip_on=True
        )
        self.projection = ax.plot(
            [],
            [],
            "-",
            color=PROJECTION_COLOR,
            lw=9,
            alpha=0.6,
            solid_capstyle="butt",
            label="D_u f: ∇f projected on u",
        )[0]
        self.drop = ax.plot([], [], ":", color=PROJECTION_COLOR, lw=1.2)[0]
        self.u_arrow = self._arrow(arrow | dict(color=U_COLOR, lw=1.8))
        self.arrow = self._arrow(arrow | dict(color=GRAD_COLOR), zorder=5)
        self.u_handle = ax.plot([], [], "o", color=U_COLOR, mec="white", ms=10, zorder=6)[0]
        self.dot = ax.plot([], [], "o", color="black", mec="white", mew=1.5, ms=11, zorder=7)[0]
        ax.plot([], [], "-", color=GRAD_COLOR, lw=2.4, label="∇f (steepest ascent)")
        ax.plot([], [], "-", color=U_COLOR, lw=2.4, label="u (drag its handle)")
        ax.plot([], [], "-", color="white", lw=1.0, label="level curve through the point")
        self.text = fig.text(
            0.655,
            0.93,
            "",
            va="top",
            ha="left",
            family="DejaVu Sans Mono",
            fontsize=10.5,
            bbox=dict(boxstyle="round", fc="#f7f7f7", ec="#bbbbbb"),
        )
        fig.text(0.655, 0.225, HELP, va="top", ha="left", fontsize=9, color="#444444")
        fig.patch.set_facecolor("white")
        self._legend()
        self.run_button = Button(fig.add_axes((0.655, 0.035, 0.14, 0.06)), "run (enter)")
        self.clear_button = Button(fig.add_axes((0.81, 0.035, 0.14, 0.06)), "clear (esc)")
        self.run_button.on_clicked(lambda _: self.run())
        self.clear_button.on_clicked(lambda _: self.clear())

    def _arrow(self, props: dict, **kw):
        """An arrow annotation drawn even when its head leaves the axes (clipped at their edge)."""
        ann = self.ax.annotate("", (0, 0), (0, 0), arrowprops=props, annotation_clip=False, **kw)
        ann.arrow_patch.set_clip_box(self.ax.bbox)
        ann.arrow_patch.set_clip_on(True)
        return ann

    def _legend(self) -> None:
        if getattr(self, "legend", None) is not None:
            self.legend.remove()
        handles, labels = self.ax.get_legend_handles_labels()
        self.legend = self.fig.legend(
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(0.65, 0.56),
            fontsize=8.5,
            frameon=True,
            facecolor="#d9d9d9",
        )

    def update(self) -> None:
        """Recompute the gradient at the point (JAX) and move every artist (host values)."""
        cast = lambda a: np.asarray(a, dtype=self.dtype)  # noqa: E731
        p = probe(self.surface, cast(self.point), cast(self.u))
        self.probe = type(p)(*(np.asarray(v, dtype=float) for v in p))
        ok = bool(np.all(np.isfinite(self.probe.grad)))
        if ok:
            self._fit_scale()
        x, g, s, L = self.point, self.probe.grad, self.scale, self.length
        end = x + g * s if ok else x
        corner = np.array([end[0], x[1]])
        self.arrow.xy, self.arrow.xyann = tuple(end), tuple(x)
        self.leg_x.set_data([x[0], corner[0]], [x[1], corner[1]])
        self.leg_y.set_data([corner[0], end[0]], [corner[1], end[1]])
        # each leg's label on the side away from the arrow
        up, right = (g[1] >= 0), (g[0] >= 0)
        self.leg_x_text.set(
            position=((x[0] + corner[0]) / 2, x[1] + (-0.04 if up else 0.04) * L),
            va="top" if up else "bottom",
            text=f"∂f/∂x = {g[0]:.3g}",
        )
        self.leg_y_text.set(
            position=(corner[0] + (0.06 if right else -0.06) * L, (corner[1] + end[1]) / 2),
            ha="left" if right else "right",
            text=f"∂f/∂y = {g[1]:.3g}",
        )
        norm = self.probe.norm
        t = np.array([-g[1], g[0]]) / norm if ok and norm > 0 else np.zeros(2)
        self.tangent.set_data(
            [x[0] - L * t[0], x[0] + L * t[0]], [x[1] - L * t[1], x[1] + L * t[1]]
        )
        tip = x + L * self.u
        self.u_arrow.xy, self.u_arrow.xyann = tuple(tip), tuple(x)
        self.u_handle.set_data([tip[0]], [tip[1]])
        foot = x + self.probe.d_u * s * self.u if ok else x
        self.projection.set_data([x[0], foot[0]], [x[1], foot[1]])
        self.drop.set_data([end[0], foot[0]], [end[1], foot[1]])
        self.dot.set_data([x[0]], [x[1]])
        self.text.set_text(readout(x, self.u, self.probe) + f"\n\narrows: {s:.3g} × ∇f")
        self._draw_level()
        if self.paths:
            self.run()
        self.fig.canvas.draw_idle()

    def _fit_scale(self) -> None:
        """Halve the arrows' scale while the gradient's head would leave the view (a point
        inside it); '+' makes them longer again."""
        lo, hi = self.bounds[:, 0], self.bounds[:, 1]
        if not np.all((lo <= self.point) & (self.point <= hi)):
            return
        while not np.all((lo <= (end := self.point + self.probe.grad * self.scale)) & (end <= hi)):
            self.scale /= 2

    def _draw_level(self) -> None:
        if self._level is not None:
            self._level.remove()
            self._level = None
        f = float(self.probe.value)
        if np.isfinite(f) and np.nanmin(self.Z) < f < np.nanmax(self.Z):
            self._level = self.ax.contour(
                self.X, self.Y, self.Z, levels=[f], colors="white", linewidths=1.0
            )

    # -- optimizers ----------------------------------------------------------------------------

    def run(self) -> engine.Trajectory | None:
        """Run every configured optimizer from the point (the engine's one compiled program) and
        draw the trajectories; they follow the point until cleared."""
        if not self.members:
            return None
        start = self.point[None].astype(self.dtype)
        groups = [
            engine.Group(m.spec, {k: np.full(1, v) for k, v in m.hparams.items()}, start)
            for m in self.members
        ]
        traj = engine.run(
            self.surface,
            groups,
            self.steps,
            diagnostics=False,
            tol_grad=self.tol_grad,
            dtype=self.dtype,
        )
        for line in self.paths:
            line.remove()
        self.paths = []
        looks = style.looks([m.label for m in self.members])  # overlapping paths stay visible
        for m, path in zip(self.members, traj.params, strict=True):
            path, k = style.finite_path(path), looks[style.group_label(m.label)]
            c = style.color(m.label)
            self.paths.append(
                self.ax.plot(*path.T, color=c, lw=k.lw, ls=k.ls, label=m.label, zorder=k.zorder)[0]
            )
            self.paths.append(self.ax.plot(*path[-1], "X", color=c, mec="black", ms=9, zorder=4)[0])
        self._legend()
        self.fig.canvas.draw_idle()
        return traj

    def clear(self) -> None:
        """Remove the trajectories."""
        for line in self.paths:
            line.remove()
        self.paths = []
        self._legend()
        self.fig.canvas.draw_idle()

    # -- events --------------------------------------------------------------------------------

    def _busy(self) -> bool:
        toolbar = getattr(self.fig.canvas, "toolbar", None)
        return bool(toolbar is not None and getattr(toolbar, "mode", ""))  # zooming or panning

    def _press(self, event: MouseEvent) -> None:
        if event.inaxes is not self.ax or event.button != 1 or self._busy():
            return
        handle = self.ax.transData.transform(self.point + self.length * self.u)
        if np.hypot(event.x - handle[0], event.y - handle[1]) <= GRAB_PIXELS:
            self._drag = "u"
        else:
            self._drag = "point"
        self._motion(event)

    def _motion(self, event: MouseEvent) -> None:
        if self._drag is None or event.inaxes is not self.ax or event.xdata is None:
            return
        at = np.array([event.xdata, event.ydata])
        if self._drag == "point":
            self.point = at
        elif np.linalg.norm(at - self.point) > 0:
            self.u = (at - self.point) / np.linalg.norm(at - self.point)
        self.update()

    def _release(self, event: MouseEvent) -> None:
        self._drag = None

    def _key(self, event: KeyEvent) -> None:
        if event.key in RUN_KEYS:
            self.run()
        elif event.key in CLEAR_KEYS:
            self.clear()
        elif event.key in ("+", "="):
            self.scale *= 1.5
            self.update()
        elif event.key == "-":
            self.scale /= 1.5
            self.update()
