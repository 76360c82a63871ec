"""Noise inside the engine (float64): SGD's theory under noise, streams, the truth recorded.

Every test runs many seeds in ONE compiled program (`engine.run` with `noise=`).
"""

from __future__ import annotations

import numpy as np
import pytest

from optlab import engine, optimizers, surfaces
from optlab.noise import Noise
from optlab.records import read_csv

F64 = np.dtype("float64")


def sgd_group(lr, starts, seeds) -> engine.Group:
    """Plain gradient descent (optlab's `gd`) at `lr` (a number or a schedule) from `starts`."""
    spec, traced = optimizers.split("gd", {"learning_rate": lr})
    n = len(starts)
    hp = {k: np.full(n, v) for k, v in traced.items()}
    return engine.Group(spec, hp, np.asarray(starts, float), np.asarray(seeds))


def test_constant_step_sgd_settles_at_the_stationary_variance():
    """SGD x ← x − α(∇f + σz) on f = ½ Σ λᵢxᵢ², z ~ N(0, I), settles at
    E f = Σᵢ ασ² / (2 (2 − αλᵢ)).

    Derivation: each coordinate is the AR(1) process xᵢ' = (1 − αλᵢ) xᵢ − ασ zᵢ, whose variance
    obeys vᵢ' = (1 − αλᵢ)² vᵢ + α²σ². Its fixed point (|1 − αλᵢ| < 1) is
    vᵢ = α²σ² / (1 − (1 − αλᵢ)²) = α²σ² / (αλᵢ (2 − αλᵢ)) = ασ² / (λᵢ (2 − αλᵢ)),
    and E f = Σᵢ ½ λᵢ vᵢ = Σᵢ ασ² / (2 (2 − αλᵢ)). The mean over 512 seeds and 2,500 steps
    (after a burn-in of 500 steps, ≫ 1/(2αλ_min) = 10) matches within 3 %.
    """
    s = surfaces.get("quadratic", dim=3, condition_number=10.0)
    lam = np.logspace(0.0, 1.0, 3)
    alpha, sigma, runs = 0.05, 1.0, 512
    traj = engine.run(
        s,
        [sgd_group(alpha, np.zeros((runs, 3)), np.arange(runs))],
        3000,
        noise=Noise("gaussian", sigma),
        dtype=F64,
        diagnostics=False,
        record=("params", "loss", "grad"),
    )
    expected = np.sum(alpha * sigma**2 / (2.0 * (2.0 - alpha * lam)))
    measured = traj.loss[:, 500:].mean()
    assert measured == pytest.approx(expected, rel=0.03)
    # the naive α σ² d / 4 (the small-α limit) is 10 % off at αλ = 0.5: the test can tell
    assert abs(alpha * sigma**2 * 3 / 4 - expected) > 0.1 * expected
    # recorded: the true f and ∇f at each iterate, not what the optimizer saw
    x = traj.params[:8]
    np.testing.assert_allclose(traj.grad[:8], x * lam, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(traj.loss[:8], 0.5 * np.sum(lam * x**2, -1), rtol=1e-12)


def test_decaying_steps_beat_the_noise_floor():
    """With η_t = η₀/(t + t₀) (η₀ = 2 > 1/(2λ_min)) the expected gap keeps falling, like 1/t:
    it halves (ratio < 0.7) each time t doubles, and ends below the floor of a constant step."""
    s = surfaces.get("quadratic", dim=3, condition_number=10.0)
    runs, steps = 512, 4000
    lr = {"schedule": "inverse_time_decay", "init_value": 0.1, "transition_steps": 20.0}
    traj = engine.run(
        s,
        [sgd_group(lr, np.zeros((runs, 3)), np.arange(runs))],
        steps,
        noise=Noise("gaussian", 1.0),
        dtype=F64,
        diagnostics=False,
        record=("loss",),
    )
    mean = lambda t: traj.loss[:, int(0.9 * t) : int(1.1 * t) + 1].mean()  # noqa: E731
    m = [mean(t) for t in (500, 1000, 2000, 3600)]
    assert m[1] / m[0] < 0.7 and m[2] / m[1] < 0.7 and m[3] < m[2]
    lam = np.logspace(0.0, 1.0, 3)
    floor = np.sum(0.01 * 1.0 / (2.0 * (2.0 - 0.01 * lam)))  # constant α = 0.01
    assert m[3] < 0.5 * floor


def _rosenbrock_runs(seeds, starts, lrs, **kw):
    spec, _ = optimizers.split("adam", {"learning_rate": 0.01})
    group = engine.Group(
        spec, {"learning_rate": np.asarray(lrs, float)}, np.asarray(starts, float), seeds
    )
    return engine.run(
        surfaces.get("rosenbrock"), [group], 30, noise=Noise("gaussian", 2.0), dtype=F64, **kw
    )


def test_a_runs_noise_is_the_same_alone_in_a_grid_and_chunked():
    starts = [[-1.2, 1.0], [0.5, 0.5], [-1.2, 1.0], [2.0, -1.0], [0.0, 0.0], [1.5, 2.0]]
    seeds = np.array([4, 9, 7, 1, 2, 3])
    lrs = [0.01, 0.02, 0.005, 0.01, 0.03, 0.01]
    grid = _rosenbrock_runs(seeds, starts, lrs)
    alone = _rosenbrock_runs(seeds[2:3], starts[2:3], lrs[2:3])
    chunked = _rosenbrock_runs(seeds, starts, lrs, chunk_size=2, step_chunks=3)
    for field in ("params", "loss", "grad", "curvature", "status"):
        np.testing.assert_array_equal(getattr(alone, field)[0], getattr(grid, field)[2], field)
        np.testing.assert_array_equal(getattr(chunked, field), getattr(grid, field), field)
    # the noise is there: same start, other seed -> another path; the noiseless path differs too
    other = _rosenbrock_runs(np.array([8]), starts[2:3], lrs[2:3])
    assert not np.array_equal(other.params[0], alone.params[0])
    spec, _ = optimizers.split("adam", {"learning_rate": 0.005})
    clean = engine.run(
        surfaces.get("rosenbrock"),
        [engine.Group(spec, {"learning_rate": np.array([0.005])}, np.array([[-1.2, 1.0]]))],
        30,
        dtype=F64,
    )
    assert not np.allclose(clean.params[0], alone.params[0])


NOISY_GRID = [
    "surface=rosenbrock",
    "optimizer=adam",
    "optimizer.learning_rate=0.01",
    "noise=gaussian",
    "noise.sigma=2.0",
    "start=[-1.2,1.0]",
    'grid.seed="range(6)"',
    "steps=20",
    "dtype=float64",
    "device=cpu",
]


def test_noise_streams_are_the_same_on_four_devices(cli, compose):
    from optlab.app import simulate
    from optlab.config import build_job

    proc, out = cli(
        *NOISY_GRID,
        "chunk_size=2",
        env={"XLA_FLAGS": "--xla_force_host_platform_device_count=4"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "on cpu ×4" in proc.stdout
    single = simulate(build_job(compose(NOISY_GRID), single_optimizer=True))
    with np.load(out / "trajectory.npz") as z:
        for field in ("params", "loss", "grad", "status"):
            np.testing.assert_array_equal(z[field], getattr(single, field), field)
    rows = read_csv(out / "runs.csv")
    assert [int(r["seed"]) for r in rows] == list(range(6))
    assert all('"model": "gaussian"' in r["noise"] and '"sigma": 2.0' in r["noise"] for r in rows)
    # each seed is its own stream from the one fixed start
    assert len({r["final_loss"] for r in rows}) == 6


def test_minibatch_runs_record_the_full_loss_and_count_examples(cli):
    proc, out = cli(
        "surface=logistic",
        "surface.data=wine",
        "optimizer=sgd",
        "optimizer.learning_rate=0.1",
        "batch_size=16",
        "steps=30",
        "starts=2",
        "dtype=float64",
        "plots=[]",
    )
    assert proc.returncode == 0, proc.stderr
    s = surfaces.get("logistic", data="wine")
    rows = read_csv(out / "runs.csv")
    with np.load(out / "trajectory.npz") as z:
        truth = np.array([[float(s(x)) for x in run] for run in z["params"]])
        np.testing.assert_allclose(z["loss"], truth, rtol=1e-12)
        assert np.all(z["loss"][:, -1] < z["loss"][:, 0])
    for r in rows:
        assert int(r["sample_evals"]) == 16 * int(r["grad_evals"])
        assert float(r["epochs"]) == pytest.approx(16 * int(r["grad_evals"]) / 178)
        assert '"batch_size": 16' in r["noise"] and '"sampling": "shuffle"' in r["noise"]
