"""Plot selection per run, bad input, records that redraw the same pictures, no leaks over jobs."""

from __future__ import annotations

import gc
import logging
import weakref

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.testing.compare import compare_images
from PIL import Image
from plot_helpers import job, run

from optlab import app, records
from optlab.config import build_job
from optlab.engine import Trajectory
from optlab.errors import UserError
from optlab.plots import FILES, KINDS
from optlab.plots.animation import frame_steps


@pytest.fixture(scope="module")
def traj():
    return run(job())


def test_default_plots_are_contour_and_loss(compose):
    j = build_job(compose(["steps=5"]))
    assert j.plots == ("contour", "loss")
    assert j.plot_options.quiver is False and j.plot_options.projection is None
    more = ["plots=[surface3d,animation]", "plot_options.quiver=true", "plot_options.axes=[1,0]"]
    j = build_job(compose(["steps=5", *more, "plot_options.frames=30"]))
    assert j.plots == ("surface3d", "animation")
    assert j.plot_options.quiver is True and j.plot_options.axes == (1, 0)
    assert j.plot_options.projection == "slice" and j.plot_options.frames == 30


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["plots=[contour,contor]"], "plots=['contour', 'contor'] is invalid: unknown plot 'contor'; available: contour, loss, surface3d, animation"),
        (["plot_options.axes=[[0],[1]]"], "plot_options.axes=[[0], [1]] is invalid: must be two different integers in [0, 1]"),
        (["plot_options.axes=[0,0]"], "plot_options.axes=[0, 0] is invalid: must be two different integers in [0, 1]"),
        (["surface.dim=10", "plot_options.axes=[3,10]"], "plot_options.axes=[3, 10] is invalid: must be two different integers in [0, 9]"),
        (["plot_options.axes=[0,1]", "plot_options.projection=pca"], "plot_options.axes is invalid with plot_options.projection=pca (axes choose a slice)"),
        (["plot_options.projection=tsne"], "plot_options.projection='tsne' is invalid: allowed: null, slice, pca"),
        (["plot_options.zscale=cube"], "plot_options.zscale='cube' is invalid: allowed: auto, log, linear"),
        (["plot_options.frames=500"], "plot_options.frames=500 is invalid: must be an integer in [2, 100]"),
        (["plot_options.quiver=yes"], "plot_options.quiver='yes' is invalid: must be true or false"),
        (["+plot_options.colour=red"], "plot_options.colour is unknown; valid: quiver, projection, axes, resolution, frames, fps, zscale, dpi"),
    ],
)  # fmt: skip
def test_bad_plot_settings_are_one_line_errors(compose, overrides, message):
    with pytest.raises(UserError) as e:
        build_job(compose(["steps=5", *overrides]))
    assert str(e.value) == message


def test_no_plots_writes_no_pictures(traj, tmp_path):
    assert app.draw(tmp_path, job(plots=[]), traj) == []
    assert list(tmp_path.iterdir()) == []


def test_each_plot_is_written_where_its_name_says(traj, tmp_path):
    written = app.draw(tmp_path, job(plots=list(KINDS)), traj)
    assert [p.name for p in written] == [
        "loss.png",
        "contour.png",
        "surface3d.png",
        "animation.gif",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES.values())
    for p in written:
        with Image.open(p) as im:
            assert im.size[0] > 100 and im.getextrema() != ((255, 255), (255, 255), (255, 255))


def test_a_1d_surface_gets_its_loss_plot_and_a_warning_for_the_maps(tmp_path, caplog):
    sphere = {"surface": {"name": "sphere", "dim": 1}, "lineup": None, "start": [1.0]}
    j = job(
        **sphere,
        optimizer={"name": "gd"},
        plot_bounds=None,
        steps=3,
        plots=["contour", "loss", "animation"],
    )
    with caplog.at_level(logging.WARNING, logger="optlab"):
        written = app.draw(tmp_path, j, run(j))
    assert [p.name for p in written] == ["loss.png"]
    assert [r.getMessage() for r in caplog.records] == [
        "contour, animation: sphere is 1-D, there is no plane to draw; skipped"
    ]


def test_records_redraw_the_same_pictures(traj, tmp_path):
    """trajectory.npz holds everything a picture shows: a redraw from it is pixel-identical."""
    j = job(plots=["contour", "loss"], plot_options={"resolution": 24, "quiver": True, "dpi": 40})
    for d in "ab":
        (tmp_path / d).mkdir()
    records.write(tmp_path / "a", j, traj)
    app.draw(tmp_path / "a", j, traj)
    with np.load(tmp_path / "a" / "trajectory.npz") as z:
        loaded = Trajectory(**{k: z[k] for k in Trajectory._fields})
        assert list(z["labels"]) == j.labels
    app.draw(tmp_path / "b", j, loaded)
    for name in ("contour.png", "loss.png"):
        assert compare_images(str(tmp_path / "a" / name), str(tmp_path / "b" / name), tol=0) is None


def test_cli_unknown_plot_name_is_one_line_and_exit_2(cli):
    proc, _ = cli("steps=3", "plots=[contour,heatmap]")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "optlab: error: plots=['contour', 'heatmap'] is invalid: unknown plot 'heatmap'; "
        "available: contour, loss, surface3d, animation"
    ]


def _draw_counting_figures(jobs, n, traj, out) -> list[weakref.ref]:
    """Run `n` plotting jobs (cycling through `jobs`); a weak reference to every figure made."""
    alive: list[weakref.ref] = []
    original = Figure.__init__

    def tracked(self, *a, **k):
        original(self, *a, **k)
        alive.append(weakref.ref(self))

    Figure.__init__ = tracked
    try:
        for i in range(n):
            app.draw(out, jobs[i % len(jobs)], traj)
    finally:
        Figure.__init__ = original
    gc.collect()
    return alive


TINY = {"resolution": 8, "frames": 2, "dpi": 20}


def test_every_kind_of_plot_releases_its_figure(traj, tmp_path):
    jobs = [job(plots=[k], plot_options=TINY) for k in KINDS]
    alive = _draw_counting_figures(jobs, 2 * len(KINDS), traj, tmp_path)
    assert len(alive) == 8 and plt.get_fignums() == []
    assert [r() for r in alive] == [None] * 8


@pytest.mark.slow
def test_200_plotting_jobs_leave_no_figure_behind(traj, tmp_path):
    """A sweep's worth of jobs in one process: every figure is released and collected, and the
    number of live Python objects does not grow with the number of jobs. Each job draws the
    cheapest picture (one contour figure: matplotlib's fixed cost per figure, ~0.15 s, sets the
    time); every kind's release is checked by the test above."""
    jobs = [job(plots=["contour"], plot_options=TINY)]
    _draw_counting_figures(jobs, 2, traj, tmp_path)  # warm caches (fonts, text, compiled grids)
    objects = len(gc.get_objects())
    alive = _draw_counting_figures(jobs, 200, traj, tmp_path)
    assert len(alive) == 200 and plt.get_fignums() == []
    assert sum(r() is not None for r in alive) == 0
    assert len(gc.get_objects()) - objects < 2000  # a few cache entries, not 200 figures' worth


@pytest.mark.slow
def test_the_experiment_animation_at_default_settings_stays_under_5_mb(compose, tmp_path):
    j = build_job(compose(["experiment=rosenbrock", "plots=[animation]"]))
    traj = app.simulate(j)
    (path,) = app.draw(tmp_path, j, traj)
    expected = frame_steps(list(traj.params), (4.0, 4.0), 60)  # the view is 4 × 4
    assert len(expected) <= 60 and expected[-1] == 2000
    with Image.open(path) as im:
        assert im.n_frames == len(expected)
    assert path.stat().st_size <= 5 * 2**20
