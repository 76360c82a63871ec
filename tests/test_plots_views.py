"""Planes through R^d: 2-D views, N-d slices through the minimizer, the trajectories' PCA plane."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from plot_helpers import job, line, rosenbrock_np, run, scene

from optlab import app, landscape
from optlab.plots.contour import render as render_contour
from optlab.surfaces import get


@pytest.fixture(scope="module")
def rb10():
    j = job(**_cfg10())
    return j, run(j)


def test_nd_contour_without_a_choice_draws_the_slice_through_x_star_and_says_so(
    rb10, tmp_path, caplog
):
    j, traj = rb10
    with caplog.at_level(logging.INFO, logger="optlab"):
        app.draw(tmp_path, job(**_cfg10(), plots=["contour"]), traj)
    assert [r.getMessage() for r in caplog.records] == [
        "contour: rosenbrock is 10-D; drawing the slice through x* along x0, x1 (x2..x9 fixed) "
        "(choose with plot_options.axes=[i,j] or plot_options.projection=pca)"
    ]
    sc = scene(j, traj)
    np.testing.assert_array_equal(np.stack(sc.paths), traj.params[:, :, :2])
    rest = np.ones((*sc.X.shape, 8))  # x2..x9 held at x* = (1, ..., 1)
    np.testing.assert_allclose(
        sc.Z,
        rosenbrock_np(np.concatenate([sc.X[..., None], sc.Y[..., None], rest], -1)),
        rtol=1e-12,
    )
    np.testing.assert_array_equal(sc.minimizers, [[1.0, 1.0]])
    assert sc.axis_names == ("x0", "x1") and (sc.X.min(), sc.X.max()) == (-5.0, 10.0)
    assert "slice through x* along x0, x1" in render_contour(sc).axes[0].get_title()


def _cfg10():
    return {
        "surface": {"name": "rosenbrock", "dim": 10},
        "lineup": None,
        "start": None,
        "starts": 2,
        "optimizer": {"name": "adam", "learning_rate": 0.05},
        "plot_bounds": None,
        "steps": 15,
    }


def test_slice_along_chosen_axes(rb10):
    _, traj = rb10
    j = job(**_cfg10(), plot_options={"axes": [2, 5], "resolution": 12})
    sc = scene(j, traj)
    assert sc.axis_names == ("x2", "x5")
    np.testing.assert_array_equal(np.stack(sc.paths), traj.params[:, :, [2, 5]])
    fig = render_contour(sc)
    np.testing.assert_array_equal(
        line(fig.axes[0], j.labels[1]).get_xydata(), traj.params[1][:, [2, 5]]
    )


def test_pca_plane_contains_planar_trajectories_and_maps_back():
    s = get("sphere", dim=5)
    rng = np.random.default_rng(0)
    u, v = np.linalg.qr(rng.normal(size=(5, 2)))[0].T  # two orthonormal directions through 0
    t = 0.8 ** np.arange(30)[:, None]
    paths = np.stack([t * (3 * u + v), t * (-u + 2 * v)])  # both converge to x* = 0 in span(u, v)
    plane = landscape.pca_plane(paths, np.zeros(5))
    np.testing.assert_allclose(plane.basis @ plane.basis.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(plane.distance(paths), 0.0, atol=1e-12)
    np.testing.assert_allclose(plane.lift(plane.project(paths)), paths, atol=1e-12)
    assert plane.names[0].startswith("PC1 (") and "% of spread)" in plane.names[1]
    A, B, Z = landscape.values(s, plane, 9)
    np.testing.assert_allclose(Z, A**2 + B**2, rtol=1e-12)  # |a u + b v|² with u ⊥ v unit
    ab = plane.project(paths)
    assert np.all(ab.min(axis=(0, 1)) > plane.bounds[:, 0]) and np.all(
        ab.max(axis=(0, 1)) < plane.bounds[:, 1]
    )


def test_pca_plane_of_a_straight_path_is_completed_by_an_axis():
    path = np.outer(np.linspace(1, 0, 10), [0.0, 3.0, 4.0])[None]
    plane = landscape.pca_plane(path, np.zeros(3))
    np.testing.assert_allclose(np.abs(plane.basis[0]), [0.0, 0.6, 0.8], atol=1e-12)
    np.testing.assert_allclose(plane.basis @ plane.basis.T, np.eye(2), atol=1e-12)
    assert plane.names == ("PC1 (100% of spread)", "PC2")


def test_pca_view_projects_runs_and_marks_x_star_at_the_origin(rb10):
    traj = rb10[1]
    sc = scene(job(**_cfg10(), plot_options={"projection": "pca", "resolution": 12}), traj)
    np.testing.assert_allclose(sc.minimizers, [[0.0, 0.0]], atol=1e-12)
    assert sc.note == "plane through x* of the trajectories' first two principal components"
    plane = landscape.pca_plane(traj.params, np.ones(10))
    np.testing.assert_allclose(np.stack(sc.paths), plane.project(traj.params))
    h = rosenbrock_np(plane.lift(np.stack(sc.paths)))  # heights: f on the plane, not f of the run
    np.testing.assert_allclose(np.stack(sc.heights), h, rtol=1e-10)


def test_the_view_goes_through_the_minimizer_nearest_the_best_run():
    s = get("himmelblau")
    params = np.array([[[0.0, 0.0], [2.9, 2.1]], [[0.0, 0.0], [-3.7, -3.2]]])
    loss = np.array([[100.0, 0.5], [100.0, 0.1]])  # run 1 ends lowest, near (−3.78, −3.28)
    x, what = landscape.through(s, params, loss)
    np.testing.assert_allclose(x, s.minimizers[2])
    assert what == "x*"
    nan = np.full_like(loss, np.nan)
    assert landscape.through(s, params, nan)[1] == "the center of the bounds"
