"""Engine options for large grids: record=, record_every=, run chunks, step chunks, progress."""

from __future__ import annotations

import numpy as np
import pytest

from optlab import engine, optimizers, progress, records, surfaces
from optlab.app import simulate
from optlab.config import build_job
from optlab.errors import UserError

STEPS = 50


@pytest.fixture(scope="module")
def setup():
    """Himmelblau, two groups of different sizes (gd: 5 runs, adam: 11 runs), float64."""
    s = surfaces.get("himmelblau")
    rng = np.random.default_rng(0)
    groups = []
    for name, n in (("gd", 5), ("adam", 11)):
        spec, _ = optimizers.split(name, {"learning_rate": 0.01})
        lr = np.geomspace(1e-3, 5e-2, n)
        groups.append(engine.Group(spec, {"learning_rate": lr}, rng.uniform(-4, 4, (n, 2))))
    full = engine.run(s, groups, STEPS, dtype=np.float64)
    return s, groups, full


def test_run_chunks_step_chunks_and_record_every_keep_the_same_runs(setup):
    """Chunks of 3 runs (padded to 8), the scan in 3 calls, every 7th step: the same numbers."""
    s, groups, full = setup
    seen, k = [], 7
    sub = engine.run(
        s,
        groups,
        STEPS,
        dtype=np.float64,
        chunk_size=3,
        step_chunks=3,
        record_every=k,
        on_chunk=seen.append,
    )
    assert sum(seen) == 16 * STEPS  # every trajectory-step reported once, padding excluded
    kept = [*range(0, STEPS, k), STEPS]
    np.testing.assert_array_equal(sub.record_steps, kept)
    np.testing.assert_array_equal(sub.params, full.params[:, kept])
    np.testing.assert_array_equal(sub.loss, full.loss[:, kept])
    np.testing.assert_array_equal(sub.grad, full.grad[:, kept])
    # diagnostics describe the update leaving each kept step
    np.testing.assert_array_equal(sub.curvature, full.curvature[:, kept[:-1]])
    np.testing.assert_array_equal(
        sub.cos_to_negative_gradient, full.cos_to_negative_gradient[:, kept[:-1]]
    )
    per_step = {"cum_f_evals", "cum_grad_evals", "cum_hessian_evals", *engine.SHARED}
    for field in engine.Trajectory._fields[7:]:  # run-level outcomes and final state
        if field not in per_step:
            np.testing.assert_array_equal(getattr(sub, field), getattr(full, field), field)
    for field in ("cum_f_evals", "cum_grad_evals", "cum_hessian_evals"):
        np.testing.assert_array_equal(getattr(sub, field), getattr(full, field)[:, kept], field)
    np.testing.assert_array_equal(sub.final_params, full.params[:, -1])


def test_record_keeps_only_the_chosen_fields(setup):
    s, groups, full = setup
    fields = ("loss", "grad_norm")
    part = engine.run(s, groups, STEPS, dtype=np.float64, record=fields, diagnostics=False)
    assert part.params is None and part.grad is None
    np.testing.assert_array_equal(part.loss, full.loss)
    np.testing.assert_allclose(part.grad_norm, full.grad_norm, rtol=1e-14)
    np.testing.assert_array_equal(part.final_params, full.params[:, -1])
    np.testing.assert_allclose(part.final_grad_norm, full.grad_norm[:, -1], rtol=1e-15)
    assert np.isnan(part.curvature).all()


def test_long_run_memory_is_bounded_by_record_every():
    spec, traced = optimizers.split("gd", {"learning_rate": 0.1})
    group = engine.Group(
        spec, {k: np.array([v]) for k, v in traced.items()}, np.array([[3.0, -2.0]])
    )
    sphere = surfaces.get("sphere", dim=2)
    traj = engine.run(sphere, [group], 200_000, record=("loss",), record_every=10_000, tol_grad=0.0)
    assert traj.loss.shape == (1, 21)
    assert int(traj.steps_taken[0]) == 200_000
    assert traj.loss[0, 0] == pytest.approx(13.0)


def test_default_trajectory_npz_fields_are_unchanged(compose, tmp_path):
    job = build_job(compose(["surface=himmelblau", "steps=4", "starts=2"]))
    traj = simulate(job)
    records.write(tmp_path, job, traj)
    with np.load(tmp_path / "trajectory.npz") as z:
        assert set(z.files) == {
            *records.STEP_ARRAYS,
            *records.RUN_ARRAYS,
            *records.COST_ARRAYS,
            "targets",
            "labels",
            "status_names",
        }
        assert z["params"].shape == (2, 5, 2)
        assert z["curvature"].shape == (2, 4)


def test_loss_only_job_writes_records_without_the_missing_fields(compose, tmp_path):
    job = build_job(
        compose(
            ["surface=himmelblau", "steps=20", "record=loss", "record_every=5", "diagnostics=false"]
        )
    )
    traj = simulate(job)
    rows = records.write(tmp_path, job, traj)
    with np.load(tmp_path / "trajectory.npz") as z:
        assert "params" not in z.files
        np.testing.assert_array_equal(z["record_steps"], [0, 5, 10, 15, 20])
        assert z["loss"][0, -1] == rows[0]["final_loss"]


def test_engine_rejects_bad_options(setup):
    s, groups, _ = setup
    with pytest.raises(UserError, match="chunk_size=0 is invalid"):
        engine.run(s, groups, 3, chunk_size=0)
    with pytest.raises(UserError, match="record="):
        engine.run(s, groups, 3, record=("hessian",))


def test_progress_bar_only_when_asked_or_large(compose, capsys):
    base = ["surface=himmelblau", "steps=40", "starts=3", "diagnostics=false"]
    simulate(build_job(compose([*base, "progress=true"])))
    err = capsys.readouterr().err
    assert "3 runs" in err and "120/120" in err and "step/s" in err
    simulate(build_job(compose([*base, "progress=false"])))
    simulate(build_job(compose(base)))  # auto: stderr is not a terminal
    assert capsys.readouterr().err == ""


def test_progress_auto_needs_a_terminal_and_much_work(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr("sys.stderr", Tty())
    assert progress.wanted("auto", 1024, progress.MIN_WORK // 1024 + 1)
    assert not progress.wanted("auto", 1, 500)
    monkeypatch.setenv("CI", "true")
    assert not progress.wanted("auto", 1024, progress.MIN_WORK)
