"""Pictures that show what they claim: swept values told apart, coinciding paths all visible,
the fixed coordinates named, tick labels apart, the explorer's colors apart from the paths'.
Each test reads the artists and their data (not pixels)."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
from matplotlib.colors import LogNorm, to_rgb
from plot_helpers import job, line, run, scene

from optlab import app, landscape
from optlab.plots import style
from optlab.plots.animation import animate
from optlab.plots.contour import MINIMIZER_Z, SWEEP_COLORS
from optlab.plots.contour import render as render_contour
from optlab.plots.scene import Scene, geometric
from optlab.plots.surface3d import render as render_surface3d
from optlab.surfaces import get


def sweep_job(spec):
    """Adam alone on Rosenbrock, its learning rate swept over `spec`, from two starts."""
    return job(
        lineup=None,
        optimizer={"name": "adam"},
        grid={"learning_rate": spec},
        start=[[-1.2, 1.0], [1.5, 2.5]],
        steps=20,
    )


def sweep_scene(j, traj):
    sc = scene(j, traj)
    return dataclasses.replace(sc, sweep=app.sweep_of(j, np.arange(len(j.labels))))


def colorbar_axes(fig, ax):
    return [a for a in fig.axes if a is not ax]


def test_one_optimizer_swept_colors_each_path_by_its_value_on_a_log_colorbar():
    j = sweep_job("logspace(-3,-1,3)")
    traj = run(j)
    sc = sweep_scene(j, traj)
    fig = render_contour(sc)
    ax = fig.axes[0]
    rates = j.points["learning_rate"]
    norm = LogNorm(1e-3, 1e-1)
    colors = []
    for r, label in enumerate(j.labels):
        c = to_rgb(line(ax, label).get_color())
        np.testing.assert_allclose(c, to_rgb(SWEEP_COLORS(norm(rates[r]))), atol=1e-6)
        colors.append(c)
    assert len({tuple(np.round(c, 6)) for c in colors}) == 3  # three rates, three colors
    # the sweep's colorbar: log-scaled, spanning the swept values, named after the axis
    (bar,) = [a for a in colorbar_axes(fig, ax) if "learning_rate" in a.get_xlabel()]
    assert "log" in bar.get_xlabel() and bar.get_xscale() == "log"
    np.testing.assert_allclose(bar.get_xlim(), (1e-3, 1e-1))
    # the minimizer star and the legend sit above every path and marker
    paths_z = max(a.get_zorder() for a in ax.get_lines() if a.get_label() != "minimizer")
    (star,) = [a for a in ax.get_lines() if a.get_label() == "minimizer"]
    assert star.get_zorder() == MINIMIZER_Z > paths_z
    assert ax.get_legend().get_zorder() > MINIMIZER_Z
    first = ax.get_legend().get_texts()[0]
    assert "color = learning_rate" in first.get_text()
    # the same colors in the 3-D view (with its colorbar) and the animation's moving trails
    surface, movie = render_surface3d(sc), animate(sc, frames=3)
    assert any("learning_rate" in a.get_xlabel() for a in surface.axes)
    for ax3 in (surface.axes[0], movie.fig.axes[-1]):
        for r, label in enumerate(j.labels):
            got = to_rgb(line(ax3, label).get_color())
            np.testing.assert_allclose(got, to_rgb(SWEEP_COLORS(norm(rates[r]))), atol=1e-6)


def test_a_linear_sweep_gets_a_linear_colorbar_and_a_lineup_keeps_optimizer_colors():
    j = sweep_job("linspace(0.01,0.05,3)")
    traj = run(j)
    sc = sweep_scene(j, traj)
    assert not sc.sweep.log
    fig = render_contour(sc)
    (bar,) = [a for a in colorbar_axes(fig, fig.axes[0]) if "learning_rate" in a.get_xlabel()]
    assert bar.get_xscale() == "linear"
    np.testing.assert_allclose(bar.get_xlim(), (0.01, 0.05))
    lineup = job(grid={"learning_rate": [0.001, 0.01]}, steps=5)  # gd and adam: two optimizers
    assert app.sweep_of(lineup, np.arange(len(lineup.labels))) is None
    assert geometric(np.logspace(-3, 0, 16)) and not geometric(np.linspace(0.1, 1, 16))
    assert geometric([0.001, 0.01]) and not geometric([0.01, 0.02])


def coinciding_scene() -> Scene:
    """Three optimizers whose paths are exactly the same points (the worst overlap)."""
    s = get("rosenbrock")
    path = np.linspace([-1.2, 1.0], [1.0, 1.0], 30)
    plane = landscape.plane_2d(np.array([[-2.0, 2.0], [-1.0, 3.0]]))
    paths = np.stack([path] * 3)
    labels = ["gd", "momentum", "adam"]
    return landscape.scene(s, plane, paths, np.zeros_like(paths), labels, "t", 16)


def assert_each_path_shows(lines) -> None:
    """Drawn bottom to top, a path under another shows on both sides of it (wider by at least
    1 point) or between its dashes (the upper one is not solid)."""
    ordered = sorted(lines, key=lambda ln: ln.get_zorder())  # ties keep the drawing order
    for k, lower in enumerate(ordered):
        for upper in ordered[k + 1 :]:
            dashed = upper.get_linestyle() not in ("-", "solid")
            assert dashed or lower.get_linewidth() >= upper.get_linewidth() + 1.0, (
                lower.get_gid(),
                upper.get_gid(),
            )


def test_coinciding_paths_of_a_lineup_all_stay_visible():
    sc = coinciding_scene()
    contour = render_contour(sc).axes[0]
    surface = render_surface3d(sc).axes[0]
    movie = animate(sc, frames=3)
    movie.update(len(movie.steps) - 1)
    trails = movie.fig.axes[-1]
    for ax in (contour, surface, trails):
        lines = [line(ax, label) for label in sc.labels]
        assert_each_path_shows(lines)
        assert {to_rgb(ln.get_color()) for ln in lines} == {
            to_rgb(style.color(lb)) for lb in sc.labels
        }


def expand(note: str) -> set[int]:
    """The coordinate indices a note's "(x0, x1, x6..x9 fixed)" names."""
    fixed = re.search(r"\(([^()]*) fixed\)", note).group(1)
    out: set[int] = set()
    for part in fixed.split(", "):
        lo, _, hi = part.partition("..")
        out |= set(range(int(lo[1:]), int((hi or lo)[1:]) + 1))
    return out


def test_an_nd_slice_names_exactly_the_fixed_coordinates():
    s = get("rosenbrock", dim=10)
    params, loss = np.ones((1, 3, 10)), np.zeros((1, 3))
    box = np.array([[-2.0, 2.0], [-2.0, 2.0]])
    plane = landscape.view(s, params, loss, None, (2, 5), box)
    assert plane.note.endswith("along x2, x5 (x0, x1, x3, x4, x6..x9 fixed)")
    assert expand(plane.note) == set(range(10)) - {2, 5}
    for axes in ((0, 1), (0, 9), (4, 5), (1, 8)):
        note = landscape.view(s, params, loss, None, axes, box).note
        assert expand(note) == set(range(10)) - set(axes), note


def overlapping(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_surface3d_tick_labels_of_x_and_y_do_not_collide():
    j = job(steps=5)  # Rosenbrock over [−2, 2] × [−1, 3]: −1.0 and −2.0 met at the corner
    sc = scene(j, run(j))
    for bounds in ([[-2.0, 2.0], [-1.0, 3.0]], [[-5.0, 5.0], [-5.0, 5.0]]):
        n = len(sc.X)
        X, Y = np.meshgrid(np.linspace(*bounds[0], n), np.linspace(*bounds[1], n))
        fig = render_surface3d(dataclasses.replace(sc, X=X, Y=Y))
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]

        def boxes(axis, lim, renderer=renderer):
            """Window boxes of the tick labels drawn (3-D axes place them while drawing)."""
            ticks = zip(axis.get_majorticklocs(), axis.majorTicks, strict=False)
            shown = [t.label1 for v, t in ticks if min(lim) <= v <= max(lim)]
            return [
                t.get_window_extent(renderer) for t in shown if t.get_visible() and t.get_text()
            ]

        xs, ys = boxes(ax.xaxis, ax.get_xlim()), boxes(ax.yaxis, ax.get_ylim())
        assert len(xs) >= 3 and len(ys) >= 3
        assert not any(overlapping(a, b) for a in xs for b in ys)


def distance(a, b) -> float:
    return float(np.linalg.norm(np.subtract(to_rgb(a), to_rgb(b))))


def test_the_explorers_u_is_colored_apart_from_every_optimizer():
    from test_explore import make

    ex = make()
    ex.run()
    u = ex.u_arrow.arrow_patch.get_edgecolor()
    handle = ex.u_handle.get_color()
    for path in ex.paths[::2]:
        assert distance(u, path.get_color()) > 0.3, path.get_label()
        assert distance(handle, path.get_color()) > 0.3, path.get_label()
    for name in ("gd", "momentum", "adam", "sgd", "nesterov", "newton", "lbfgs", "rmsprop"):
        assert distance(u, style.color(name)) > 0.3, name
        for leg in (ex.leg_x, ex.leg_y):
            assert distance(leg.get_color(), style.color(name)) > 0.15, name
