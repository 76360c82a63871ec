"""The gradient explorer, headless: synthetic mouse and key events through the figure's callbacks,
checked against closed-form gradients."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from matplotlib.backend_bases import KeyEvent, MouseEvent

from optlab import engine
from optlab.config import conf_dir
from optlab.errors import UserError
from optlab.explore import app, probe
from optlab.explore.widget import Explorer
from optlab.plots import style
from tests.conftest import ROOT


def config(*overrides):
    with initialize_config_dir(version_base="1.3", config_dir=str(conf_dir())):
        return compose(config_name="explore", overrides=list(overrides))


def make(*overrides) -> Explorer:
    fig = style.figure(12.0, 7.0)
    ex = Explorer.from_job(fig, app.job_of(config(*overrides), list(overrides)))
    fig.canvas.draw()  # lay out the axes (equal aspect) so data -> pixel transforms are final
    return ex


def mouse(ex: Explorer, kind: str, xy, ax=None) -> None:
    px, py = (ax or ex.ax).transData.transform(xy)
    ex.fig.canvas.callbacks.process(kind, MouseEvent(kind, ex.fig.canvas, px, py, button=1))


def drag(ex: Explorer, start, end) -> None:
    mouse(ex, "button_press_event", start)
    mid = (np.asarray(start) + np.asarray(end)) / 2
    mouse(ex, "motion_notify_event", mid)
    mouse(ex, "motion_notify_event", end)
    mouse(ex, "button_release_event", end)


def key(ex: Explorer, name: str) -> None:
    ex.fig.canvas.callbacks.process(
        "key_press_event", KeyEvent("key_press_event", ex.fig.canvas, name)
    )


def line_xy(line) -> np.ndarray:
    return np.column_stack(line.get_data()).astype(float)


def himmelblau_grad(x, y):
    a, b = x**2 + y - 11, x + y**2 - 7
    return np.array([4 * x * a + 2 * b, 2 * a + 4 * y * b])


def test_bowl_at_1_1_reads_magnitude_2_83_and_direction_45_degrees():
    ex = make()  # default: the bowl x² + y², point (1, 1), u along +x
    text = ex.text.get_text()
    assert re.search(r"\|∇f\|\s+2\.83\b", text)
    assert re.search(r"direction of ∇f\s+45°", text)
    assert re.search(r"θ\(u, ∇f\) = 45°", text)
    # D_u f with u = e_x is ∂f/∂x = 2 = 2.83 cos 45°
    assert "\nD_u f = |∇f| cos θ = 2\n" in text
    p, g = np.array([1.0, 1.0]), np.array([2.0, 2.0])
    end = p + g * ex.scale
    np.testing.assert_allclose(ex.arrow.xy, end, rtol=1e-6)
    np.testing.assert_allclose(ex.arrow.xyann, p)
    # the partials are the arrow's legs: first along x by ∂f/∂x, then along y by ∂f/∂y
    np.testing.assert_allclose(line_xy(ex.leg_x), [p, [end[0], p[1]]], rtol=1e-6)
    np.testing.assert_allclose(line_xy(ex.leg_y), [[end[0], p[1]], end], rtol=1e-6)
    # the tangent passes through the point, perpendicular to the gradient
    t = line_xy(ex.tangent)
    np.testing.assert_allclose(t.mean(axis=0), p, atol=1e-6)
    assert abs(np.dot(t[1] - t[0], g)) < 1e-6 * np.linalg.norm(t[1] - t[0]) * np.linalg.norm(g)


def test_dragging_the_point_updates_the_gradient_without_recompiling():
    ex = make("surface=himmelblau")
    compiled = probe._cache_size()
    for target in ([-2.0, 0.5], [3.2, -1.1], [0.4, 2.7]):
        drag(ex, ex.point, target)
        np.testing.assert_allclose(ex.point, target, atol=0.02)  # a pixel is ~0.01 here
        g = himmelblau_grad(*ex.point)
        np.testing.assert_allclose(ex.arrow.xy, ex.point + g * ex.scale, rtol=1e-4)
        direction = np.degrees(np.arctan2(g[1], g[0]))
        assert f"direction of ∇f  {direction:.0f}°" in ex.text.get_text()
        assert f"|∇f|   {np.linalg.norm(g):.3g}" in ex.text.get_text()
    assert probe._cache_size() == compiled


def test_arrows_shrink_to_stay_in_view_and_the_scale_is_shown():
    ex = make()
    scale = ex.scale
    drag(ex, ex.point, [4.5, -4.0])  # |∇f| = 12: at the start's scale the head leaves the view
    inside = lambda s: np.all(np.abs(ex.point + 2 * ex.point * s) <= 5.12)  # noqa: E731
    halvings = next(k for k in range(1, 20) if inside(scale / 2**k))
    assert ex.scale == pytest.approx(scale / 2**halvings)
    np.testing.assert_allclose(ex.arrow.xy, ex.point + 2 * ex.point * ex.scale, rtol=1e-6)
    assert f"arrows: {ex.scale:.3g} × ∇f" in ex.text.get_text()


def test_dragging_u_gives_the_directional_derivative():
    ex = make()
    handle = ex.point + ex.length * ex.u
    drag(ex, handle, ex.point + np.array([0.0, 1.5]))  # turn u to +y
    np.testing.assert_allclose(ex.u, [0.0, 1.0], atol=1e-2)
    d_u = 2 * ex.point @ ex.u  # ∇f · u for f = x² + y²
    np.testing.assert_allclose(ex.probe.d_u, d_u, rtol=1e-5)
    np.testing.assert_allclose(
        ex.probe.d_u, ex.probe.norm * np.cos(np.radians(ex.probe.angle)), rtol=1e-5
    )
    tip = ex.point + ex.length * ex.u
    np.testing.assert_allclose(line_xy(ex.u_handle)[0], tip)
    np.testing.assert_allclose(
        line_xy(ex.projection)[1], ex.point + d_u * ex.scale * ex.u, rtol=1e-5
    )


def test_keys_run_the_optimizers_from_the_point_and_clear_them():
    ex = make()
    assert ex.paths == []
    key(ex, "enter")
    assert len(ex.paths) == 2 * len(ex.members)  # a line and an end marker per optimizer
    lines = ex.paths[::2]
    assert [ln.get_label() for ln in lines] == ["gd", "momentum", "adam"]
    for ln in lines:
        xy = line_xy(ln)
        np.testing.assert_allclose(xy[0], [1.0, 1.0], rtol=1e-6)
        assert np.linalg.norm(xy[-1]) < 0.1 * np.sqrt(2)  # towards the bowl's minimum
    compiled = engine.program._cache_size()
    drag(ex, ex.point, [-3.0, 2.0])  # the trajectories follow the point, same program
    for ln in ex.paths[::2]:
        np.testing.assert_allclose(line_xy(ln)[0], ex.point, rtol=1e-6)
    assert engine.program._cache_size() == compiled
    key(ex, "escape")
    assert ex.paths == [] and not any(ln.get_label() == "gd" for ln in ex.ax.lines)


def test_buttons_and_scale_keys():
    ex = make()
    mouse(ex, "button_press_event", (0.5, 0.5), ax=ex.run_button.ax)
    mouse(ex, "button_release_event", (0.5, 0.5), ax=ex.run_button.ax)
    assert len(ex.paths) == 6
    mouse(ex, "button_press_event", (0.5, 0.5), ax=ex.clear_button.ax)
    mouse(ex, "button_release_event", (0.5, 0.5), ax=ex.clear_button.ax)
    assert ex.paths == []
    scale = ex.scale
    key(ex, "+")
    assert ex.scale == pytest.approx(1.5 * scale)
    np.testing.assert_allclose(ex.arrow.xy, ex.point + 2 * ex.point * ex.scale, rtol=1e-6)


def test_save_writes_a_picture_and_a_window_needs_an_interactive_backend(tmp_path):
    path = app.main(config(f"save={tmp_path / 'explorer.png'}"), [])
    assert path.stat().st_size > 20_000
    with pytest.raises(UserError, match="cannot open a window"):
        app.main(config(), [])  # tests run on Agg


def test_n_d_surface_is_refused_in_one_line(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "optlab.explore", "surface=rosenbrock", "surface.dim=3"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("optlab: error: surface.dim=3 is invalid for the explorer")
    assert list(tmp_path.iterdir()) == []  # no Hydra outputs or logs left behind


def test_optimizer_on_the_command_line_replaces_the_lineup():
    ex = make("surface=himmelblau", "optimizer=adam", "optimizer.learning_rate=0.05")
    assert [m.label for m in ex.members] == ["adam"]
    assert ex.members[0].hparams["learning_rate"] == 0.05
