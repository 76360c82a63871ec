"""The engine's per-step diagnostics against independent computations, and their records."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optlab import app, engine, optimizers, records, surfaces

DIAGNOSTICS = ("directional_derivative", "cos_to_negative_gradient", "curvature")


def trajectory(surface, name, hparams, starts, steps, **kw):
    spec, traced = optimizers.split(name, hparams)
    starts = np.asarray(starts, dtype=float)
    group = engine.Group(spec, {k: np.full(len(starts), v) for k, v in traced.items()}, starts)
    return engine.run(surface, [group], steps, dtype=np.float64, **kw)


@pytest.fixture(scope="module")
def himmelblau():
    return surfaces.get("himmelblau")


ADAM = ("adam", {"learning_rate": 0.1}, [[0.5, 0.5], [-2.0, 1.0]], 30)


@pytest.fixture(scope="module")
def adam(himmelblau):
    return trajectory(himmelblau, *ADAM)


def taken(traj, r):
    """Indices t of the updates run r actually took (params[t] -> params[t+1])."""
    return np.arange(int(traj.steps_taken[r]))


def test_gradient_descent_steps_straight_down_the_gradient(himmelblau):
    """For gd, u = −∇f/‖∇f‖: cos(u, −∇f) = 1 and D_u f = −‖∇f(params[t])‖ at every step."""
    traj = trajectory(himmelblau, "gd", {"learning_rate": 0.005}, [[0.5, 0.5], [-1.0, 4.0]], 40)
    for r in range(2):
        t = taken(traj, r)
        assert len(t) == 40
        np.testing.assert_allclose(traj.cos_to_negative_gradient[r, t], 1.0, rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            traj.directional_derivative[r, t], -traj.grad_norm[r, t], rtol=1e-12
        )
        assert np.all(traj.directional_derivative[r, t] < 0)  # every gd step starts downhill


@pytest.fixture(scope="module")
def momentum(himmelblau):
    hp = {"learning_rate": 0.002, "momentum": 0.9}
    return trajectory(himmelblau, "momentum", hp, [[0.5, 0.5]], 30)


@pytest.mark.parametrize("name", ["adam", "momentum"])
def test_diagnostics_match_an_explicit_hessian_and_gradient(himmelblau, name, request):
    """Entry t describes params[t] -> params[t+1]: D_u f = ∇f·u, cos = −∇f·u/‖∇f‖ and
    uᵀHu with jax.hessian (not the engine's HVP), all at params[t]."""
    traj = request.getfixturevalue(name)
    P = traj.params[0]
    t = taken(traj, 0)
    assert len(t) == 30
    step = P[t + 1] - P[t]
    u = step / np.linalg.norm(step, axis=-1, keepdims=True)
    g, H = jax.jit(jax.vmap(lambda x: (jax.grad(himmelblau)(x), jax.hessian(himmelblau)(x))))(
        jnp.asarray(P[t])
    )
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)  # noqa: E731
    close(traj.directional_derivative[0, t], np.sum(g * u, -1))
    close(traj.cos_to_negative_gradient[0, t], -np.sum(g * u, -1) / np.linalg.norm(g, axis=-1))
    close(traj.curvature[0, t], np.einsum("ti,tij,tj->t", u, H, u))
    assert np.min(traj.cos_to_negative_gradient[0, t]) < 0.99  # these methods do not follow −∇f


def test_no_update_records_nan():
    """A run that converges stops updating: entries from steps_taken on are NaN, earlier finite."""
    traj = trajectory(
        surfaces.get("sphere"), "gd", {"learning_rate": 0.1}, [[1.0, -2.0]], 60, tol_grad=1e-3
    )
    k = int(traj.steps_taken[0])
    assert 0 < k < 60 and engine.STATUS_NAMES[int(traj.status[0])] == "converged"
    for name in DIAGNOSTICS:
        a = getattr(traj, name)[0]
        assert a.shape == (60,)
        assert np.all(np.isfinite(a[:k])) and np.all(np.isnan(a[k:]))
    # sphere: uᵀHu = 2 for every unit u
    np.testing.assert_allclose(traj.curvature[0, :k], 2.0, rtol=1e-12)


def test_diagnostics_switch_changes_only_the_diagnostics(himmelblau, adam):
    on, off = adam, trajectory(himmelblau, *ADAM, diagnostics=False)
    np.testing.assert_array_equal(on.params, off.params)
    for name in DIAGNOSTICS:
        assert np.all(np.isfinite(getattr(on, name)))
        assert getattr(off, name).shape == (2, 30) and np.all(np.isnan(getattr(off, name)))


def test_records_hold_diagnostics_and_final_point_checks(compose, tmp_path):
    """trajectory.npz has each diagnostic as (R, T); runs.csv classifies each final point:
    a converged gd run (minimum), a start at Himmelblau's local maximum (∇f ≈ 0: maximum, no
    update) and a run stopped early far from any stationary point (not_stationary)."""
    xmax = list(surfaces.get("himmelblau").info.stationary_points[0][1])
    cfg = compose(
        [
            "surface=himmelblau",
            "dtype=float64",
            "steps=100",
            f"start=[[3.2,1.8],{xmax},[0.0,0.0]]".replace(" ", ""),
            "lineup={gd: {name: gd, learning_rate: 0.01}, adam: {name: adam, learning_rate: 1e-4}}",
        ]
    )
    app.optimize(cfg, tmp_path, [])
    npz = np.load(tmp_path / "trajectory.npz")
    for name in DIAGNOSTICS:
        assert npz[name].shape == (6, 100)
    rows = records.read_csv(tmp_path / "runs.csv")
    kinds = {r["label"]: r["stationary_type"] for r in rows}
    assert kinds["gd[0]"] == "minimum" and kinds["gd[1]"] == "maximum"
    assert kinds["adam[2]"] == "not_stationary"  # tiny steps from (0, 0): far from stationary
    assert np.all(np.isnan(npz["directional_derivative"][1]))  # the maximum: no update taken
    for r in rows:
        assert 0 <= float(r["hessian_asymmetry"]) <= 1.5e-8
