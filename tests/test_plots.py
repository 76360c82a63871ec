"""The pictures' content: artists carry the recorded data, markers sit at the catalog's minima."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.quiver import Quiver
from matplotlib.testing.compare import compare_images
from PIL import Image
from plot_helpers import job, line, rosenbrock_np, run, scene

from optlab import landscape
from optlab.plots import style
from optlab.plots.animation import animate, frame_steps
from optlab.plots.animation import write as write_gif
from optlab.plots.contour import contour as contour_png
from optlab.plots.contour import render as render_contour
from optlab.plots.loss import cumulative_evals
from optlab.plots.loss import render as render_loss
from optlab.plots.scene import Scene
from optlab.plots.surface3d import render as render_surface3d

HIMMELBLAU = np.array(  # GUIDE.md §5, verified there with a float64 local solve
    [[3.0, 2.0], [-2.805118, 3.131313], [-3.779310, -3.283186], [3.584428, -1.848127]]
)


@pytest.fixture(scope="module")
def rb():
    j = job()
    return j, run(j)


@pytest.fixture(scope="module")
def hb():
    """Himmelblau's scene over its bounds, with two straight paths (no engine run needed)."""
    j = job(surface={"name": "himmelblau"}, plot_bounds=None)
    p = np.linspace([-1.0, 0.0], [3.0, 2.0], 11)[None].repeat(2, axis=0)
    plane = landscape.plane_2d(j.plot_bounds)
    return landscape.scene(j.surface, plane, p, np.zeros_like(p), j.labels, "t", 24)


def test_contour_lines_are_the_recorded_trajectories(rb):
    j, traj = rb
    fig = render_contour(scene(j, traj))
    ax = fig.axes[0]
    for r, label in enumerate(j.labels):
        ln = line(ax, label)
        np.testing.assert_array_equal(ln.get_xydata(), traj.params[r])
        assert to_hex(ln.get_color()) == style.color(label)
        starts = [a for a in ax.get_lines() if a.get_marker() == "o" and len(a.get_xdata()) == 1]
        ends = [a for a in ax.get_lines() if a.get_marker() == "X" and len(a.get_xdata()) == 1]
        assert any(np.allclose(a.get_xydata()[0], traj.params[r, 0]) for a in starts)
        assert any(np.allclose(a.get_xydata()[0], traj.params[r, -1]) for a in ends)
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["gd", "adam"]


def test_contour_marks_the_catalog_minimizers_of_himmelblau(hb):
    fig = render_contour(hb)
    (stars,) = [a for a in fig.axes[0].get_lines() if a.get_label() == "minimizer"]
    got = stars.get_xydata()
    assert len(got) == 4
    for m in HIMMELBLAU:
        assert np.min(np.linalg.norm(got - m, axis=1)) < 1e-5


def test_grid_values_and_colorbar_span_the_surface(rb):
    j, traj = rb
    sc = scene(j, traj)
    np.testing.assert_allclose(sc.Z, rosenbrock_np(np.stack([sc.X, sc.Y], -1)), rtol=1e-12)
    assert sc.X.min() == -2 and sc.X.max() == 2 and sc.Y.min() == -1 and sc.Y.max() == 3
    fig = render_contour(sc)
    cs = fig.axes[0].collections[0]
    gap = sc.Z - 0.0  # f* = 0
    # the colors reach the largest value of the view, and the lowest band covers its smallest
    np.testing.assert_allclose(cs.levels[-1], gap.max(), rtol=1e-12)
    assert cs.levels[0] <= np.percentile(gap, 1)
    assert cs.colorbar.norm.vmax == pytest.approx(gap.max()) and cs.colorbar.extend == "min"
    assert np.all(
        np.diff(np.log10(cs.levels)) == pytest.approx(np.log10(cs.levels[1] / cs.levels[0]))
    )


def test_quiver_shows_minus_the_gradient_on_the_plane(rb):
    j, traj = rb
    sc = scene(j, traj, quiver=True)
    A, B, Ga, Gb = sc.field
    h = 1e-6  # central differences of the independent formula
    fx = (rosenbrock_np(np.stack([A + h, B], -1)) - rosenbrock_np(np.stack([A - h, B], -1))) / (
        2 * h
    )
    fy = (rosenbrock_np(np.stack([A, B + h], -1)) - rosenbrock_np(np.stack([A, B - h], -1))) / (
        2 * h
    )
    np.testing.assert_allclose(Ga, fx, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(Gb, fy, rtol=1e-6, atol=1e-5)
    fig = render_contour(sc, quiver=True)
    (q,) = [c for c in fig.axes[0].collections if isinstance(c, Quiver)]
    cos = -(q.U * Ga.ravel() + q.V * Gb.ravel()) / (np.hypot(q.U, q.V) * np.hypot(Ga, Gb).ravel())
    np.testing.assert_allclose(cos, 1.0, atol=1e-9)  # same aspect: direction exactly −∇f


def test_surface3d_lifts_each_trajectory_onto_f(rb):
    j, traj = rb
    fig = render_surface3d(scene(j, traj), zscale="linear")
    ax = fig.axes[0]
    for r, label in enumerate(j.labels):
        x, y, z = line(ax, label).get_data_3d()
        np.testing.assert_array_equal(np.stack([x, y], -1), traj.params[r])
        np.testing.assert_allclose(z, traj.loss[r], rtol=1e-12)
        np.testing.assert_allclose(z, rosenbrock_np(traj.params[r]), rtol=1e-12)
    assert ax.get_zlabel() == "f"


def test_surface3d_auto_scale_is_log_for_rosenbrock_linear_for_himmelblau(rb, hb):
    j, traj = rb
    ax = render_surface3d(scene(j, traj)).axes[0]
    assert ax.get_zlabel() == "log₁₀(f − f*)"
    z = line(ax, "adam").get_data_3d()[2]
    gap = np.maximum(traj.loss[1], 1e-300)
    shown = z > z.min()  # points above the clipping floor show log10(f − f*) exactly
    np.testing.assert_allclose(z[shown], np.log10(gap[shown]), rtol=1e-12)
    assert render_surface3d(hb).axes[0].get_zlabel() == "f"


def panels(traj) -> dict:
    """Every optional panel's arrays, as `app.draw` passes them."""
    names = ("grad_norm", "params", "f_evals", "steps_taken")
    return {k: getattr(traj, k) for k in names}


def test_loss_panels_hold_gap_evaluations_gradient_norm_and_step_size(rb):
    j, traj = rb
    fig = render_loss(traj.loss, j.labels, title="t", f_min=0.0, **panels(traj))
    by_step, by_evals, gnorm, size = fig.axes[:4]
    for r, label in enumerate(j.labels):
        x, y = line(by_step, label).get_data()
        np.testing.assert_array_equal(x, np.arange(41))
        np.testing.assert_allclose(y, rosenbrock_np(traj.params[r]), rtol=1e-12)
        # gd and adam evaluate f once per step, plus once at the start
        assert traj.f_evals[r] == 1 + traj.steps_taken[r] == 41
        np.testing.assert_array_equal(line(by_evals, label).get_xdata(), 1 + np.arange(41))
        gn = np.linalg.norm(traj.grad[r], axis=-1)
        np.testing.assert_allclose(line(gnorm, label).get_ydata(), gn, rtol=1e-12)
        step = np.linalg.norm(np.diff(traj.params[r], axis=0), axis=-1)
        np.testing.assert_allclose(line(size, label).get_ydata(), step, rtol=1e-12)
    for ax in (by_step, by_evals, gnorm, size):
        assert ax.get_yscale() == "log"
    assert by_evals.get_xlabel() == "f evaluations" and fig.get_suptitle() == "t"


def test_loss_ends_each_run_at_its_last_step_taken():
    j = job(tol_grad=5.0)  # adam stops early when |∇f| < 5
    traj = run(j)
    fig = render_loss(traj.loss, j.labels, title="t", f_min=0.0, **panels(traj))
    for r, label in enumerate(j.labels):
        y = line(fig.axes[0], label).get_ydata()
        assert np.isfinite(y).sum() == traj.steps_taken[r] + 1


def test_evaluations_per_step_unknown_are_not_invented():
    # 2 runs: 1 eval per step (exact), and a line search with 7 extra evaluations somewhere
    ev = cumulative_evals(np.array([11, 18]), np.array([10, 10]), np.arange(13))
    np.testing.assert_array_equal(ev[0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11, 11])
    assert np.isnan(ev[1]).all()
    losses = np.tile(np.geomspace(10, 1e-3, 13), (2, 1))
    fig = render_loss(
        losses,
        ["gd", "lbfgs"],
        title="t",
        f_min=0.0,
        f_evals=np.array([11, 18]),
        steps_taken=np.array([10, 10]),
    )
    (diamond,) = [a for a in fig.axes[1].get_lines() if a.get_marker() == "D"]
    assert diamond.get_gid() == "lbfgs"
    np.testing.assert_allclose(diamond.get_xydata(), [[18, losses[1, 10]]])


def test_animation_frames_show_the_trajectory_up_to_their_step(rb):
    j, traj = rb
    movie = animate(scene(j, traj), frames=8)
    assert 2 <= len(movie.steps) <= 8 and movie.steps[0] == 0 and movie.steps[-1] == 40
    top = movie.fig.axes[0]
    (q,) = [c for c in top.collections if isinstance(c, Quiver)]
    for k, t in enumerate(movie.steps):
        movie.update(k)
        for r, label in enumerate(j.labels):
            np.testing.assert_array_equal(line(top, label).get_xydata(), traj.params[r, : t + 1])
            np.testing.assert_allclose(q.get_offsets()[r], traj.params[r, t])
            g = traj.grad[r, t]
            uv = np.array([q.U[r], q.V[r]])
            assert np.dot(uv, -g) / (np.linalg.norm(uv) * np.linalg.norm(g)) == pytest.approx(1.0)
        assert f"step {t} / 40" in [tx.get_text() for tx in movie.fig.texts]


def test_gif_has_one_frame_per_chosen_step_and_stays_small(rb, tmp_path):
    j, traj = rb
    sc = scene(j, traj)
    movie = animate(sc, frames=8)
    path = write_gif(tmp_path / "a.gif", sc, frames=8, fps=5, dpi=40)
    with Image.open(path) as im:
        assert im.n_frames == len(movie.steps)
        assert im.size == tuple(round(40 * v) for v in movie.fig.get_size_inches())  # at 40 dpi
        assert im.info["duration"] == 200
    assert path.stat().st_size <= 5 * 2**20


def test_frame_steps_cap_and_order():
    path = np.cumsum(np.ones((501, 2)), axis=0)
    steps = frame_steps([path], (1.0, 1.0), 30)
    assert len(steps) <= 30 and steps[0] == 0 and steps[-1] == 500
    assert np.all(np.diff(steps) > 0)
    np.testing.assert_array_equal(frame_steps([path[:10]], (1.0, 1.0), 30), np.arange(10))


def test_diverged_points_are_dropped_exactly(tmp_path):
    """A path whose tail is non-finite draws the same picture as its finite part alone."""
    X, Y = np.meshgrid(np.linspace(-2, 2, 16), np.linspace(-1, 3, 16))
    Z = rosenbrock_np(np.stack([X, Y], -1))
    p = np.array([[-1.2, 1.0], [-0.5, 0.5], [0.0, 0.2], [np.inf, np.nan], [np.nan, np.nan]])
    common = {"title": "t", "minimizers": np.ones((1, 2)), "labels": ["gd"], "f_min": 0.0}
    contour_png(tmp_path / "a.png", X, Y, Z, paths=[p], **common)
    contour_png(tmp_path / "b.png", X, Y, Z, paths=[p[:3]], **common)
    assert compare_images(str(tmp_path / "a.png"), str(tmp_path / "b.png"), tol=0) is None


def test_a_run_without_finite_points_is_skipped_with_one_warning(caplog):
    X, Y = np.meshgrid(np.linspace(-2, 2, 8), np.linspace(-1, 3, 8))
    sc = Scene(
        X,
        Y,
        X**2 + Y**2,
        "t",
        paths=[np.full((3, 2), np.nan), np.zeros((3, 2))],
        labels=["gd", "adam"],
        grads=[np.ones((3, 2))] * 2,
        heights=[np.zeros(3)] * 2,
    )
    with caplog.at_level(logging.WARNING, logger="optlab"):
        fig = render_contour(sc)
    assert [r.getMessage() for r in caplog.records] == [
        "contour: run 'gd' has no finite point; not drawn"
    ]
    assert [a.get_gid() for a in fig.axes[0].get_lines() if a.get_gid()] == ["adam"]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="optlab"):
        render_loss(np.array([[np.nan] * 3, [1.0, 0.5, 0.1]]), ["gd", "adam"], title="t")
    assert [r.getMessage() for r in caplog.records] == [
        "loss: run 'gd' has no finite value of f; not drawn"
    ]


def test_a_label_has_one_color_in_every_plot(rb):
    j, traj = rb
    sc = scene(j, traj)
    figs = [
        render_contour(sc),
        render_surface3d(sc),
        animate(sc, frames=3).fig,
        render_loss(traj.loss, j.labels, title="t", f_min=0.0),
    ]
    for label in j.labels:
        colors = {to_hex(line(f.axes[0], label).get_color()) for f in figs}
        assert colors == {style.color(label)}
    assert style.color("gd") != style.color("adam")
    assert style.color("adam[3]") == style.color("adam")
    assert style.legend_labels(["gd", "adam[0]", "adam[1]"]) == ["gd", "adam (2 runs)", None]


def test_huge_finite_values_sit_at_the_top_of_the_log_axis(tmp_path):
    """A run blowing up to 1e250 (finite, float64) is drawn at the ceiling; the figure renders."""
    loss = np.array([[1.0, 1e3, 1e250, 1e300], [1.0, 0.5, 0.25, 0.125]])
    fig = render_loss(loss, ["gd", "adam"], title="t", f_min=0.0)
    fig.savefig(tmp_path / "loss.png")  # tick formatting overflowed before the ceiling
    (gd,) = [ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "gd"]
    assert np.nanmax(gd.get_ydata()) == style.CEILING
    np.testing.assert_array_equal(gd.get_ydata()[:2], [1.0, 1e3])
