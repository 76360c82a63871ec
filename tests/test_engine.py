"""The engine: one jitted program, exact batching, masking of finished and diverged runs."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from optlab import engine, optimizers, surfaces
from optlab.engine import CONVERGED, DIVERGED, MAX_STEPS, Group


def group(name, starts, **hp):
    spec, traced = optimizers.split(name, hp)
    starts = np.atleast_2d(np.asarray(starts, dtype=float))
    return Group(spec, {k: np.full(len(starts), v) for k, v in traced.items()}, starts)


ROSEN = surfaces.get("rosenbrock")
STARTS = np.array([[-1.2, 1.0], [0.5, -0.5], [2.0, 2.0]])


def test_shapes():
    groups = [
        group("gd", STARTS, learning_rate=1e-3),
        group("adam", STARTS[:2], learning_rate=0.05),
    ]
    t = engine.run(ROSEN, groups, 7)
    R, T, d = 5, 7, 2
    assert t.params.shape == (R, T + 1, d) and t.grad.shape == (R, T + 1, d)
    assert t.loss.shape == (R, T + 1) and t.grad_norm.shape == (R, T + 1)
    assert t.directional_derivative.shape == (R, T) and t.curvature.shape == (R, T)
    assert t.status.shape == (R,) and t.f_evals.shape == (R,)
    np.testing.assert_allclose(t.params[:3, 0], STARTS)
    # loss and grad are the surface's at the recorded points (float32)
    x = t.params.reshape(-1, 2).astype(np.float64)
    f = 100 * (x[:, 1] - x[:, 0] ** 2) ** 2 + (x[:, 0] - 1) ** 2
    np.testing.assert_allclose(t.loss.reshape(-1), f, rtol=1e-5)
    np.testing.assert_allclose(t.grad_norm, np.linalg.norm(t.grad, axis=-1), rtol=1e-6)


def test_gd_step_is_x_minus_eta_grad():
    t = engine.run(ROSEN, [group("gd", STARTS, learning_rate=1e-4)], 3, dtype=jnp.float64)
    np.testing.assert_allclose(
        t.params[:, 1:], t.params[:, :-1] - 1e-4 * t.grad[:, :-1], rtol=1e-12
    )


def test_batch_equals_runs_one_by_one():
    batch = engine.run(
        ROSEN,
        [
            group("adam", STARTS, learning_rate=0.05),
            group("momentum", STARTS, learning_rate=5e-4, momentum=0.9),
        ],
        50,
        dtype=jnp.float64,
    )
    for i, start in enumerate(STARTS):
        for j, (name, hp) in enumerate(
            [
                ("adam", {"learning_rate": 0.05}),
                ("momentum", {"learning_rate": 5e-4, "momentum": 0.9}),
            ]
        ):
            one = engine.run(ROSEN, [group(name, start, **hp)], 50, dtype=jnp.float64)
            np.testing.assert_allclose(
                batch.params[j * 3 + i], one.params[0], rtol=1e-12, atol=1e-12
            )
            np.testing.assert_allclose(batch.loss[j * 3 + i], one.loss[0], rtol=1e-12, atol=1e-12)


def test_same_inputs_identical_trajectories():
    a = engine.run(ROSEN, [group("adam", STARTS, learning_rate=0.05)], 40)
    b = engine.run(ROSEN, [group("adam", STARTS, learning_rate=0.05)], 40)
    np.testing.assert_array_equal(a.params, b.params)


def test_learning_rate_change_does_not_recompile():
    engine.run(ROSEN, [group("adam", STARTS, learning_rate=0.05)], 11)
    before = engine.program._cache_size()
    for lr in (0.01, 0.2, 1e-4):
        engine.run(ROSEN, [group("adam", STARTS, learning_rate=lr)], 11)
    engine.run(surfaces.get("rosenbrock"), [group("adam", STARTS, learning_rate=0.3)], 11)
    assert engine.program._cache_size() == before


def test_diverging_run_is_frozen_and_neighbours_unaffected():
    starts = np.array([[-1.2, 1.0], [3.0, 3.0]])
    hp = {"learning_rate": np.array([1e-3, 0.5])}  # the second run explodes
    spec, _ = optimizers.split("gd", {"learning_rate": 1e-3})
    t = engine.run(ROSEN, [Group(spec, hp, starts)], 200)
    assert t.status[1] == DIVERGED and t.status[0] == MAX_STEPS
    assert np.all(np.isfinite(t.params[1])) and np.all(np.isfinite(t.loss[1]))
    k = int(t.steps_taken[1])
    assert k < 200 and np.all(t.params[1, k + 1 :] == t.params[1, k])
    alone = engine.run(ROSEN, [group("gd", starts[0], learning_rate=1e-3)], 200)
    np.testing.assert_array_equal(t.params[0], alone.params[0])


def test_converged_run_stops_and_stays_frozen():
    sphere = surfaces.get("sphere")
    t = engine.run(sphere, [group("gd", [[1.0, -2.0]], learning_rate=0.25)], 100, tol_grad=1e-3)
    assert t.status[0] == CONVERGED
    k = int(t.steps_taken[0])
    assert t.grad_norm[0, k] < 1e-3 <= t.grad_norm[0, k - 1]
    assert np.all(t.params[0, k:] == t.params[0, k])
    assert t.f_evals[0] == k + 1 and t.grad_evals[0] == k + 1
    assert np.all(np.isnan(t.directional_derivative[0, k:]))


def test_target_uses_f_minus_f_star():
    sphere = surfaces.get("sphere")
    t = engine.run(sphere, [group("gd", [[1.0, 1.0]], learning_rate=0.1)], 100, target=1e-4)
    k = int(t.steps_taken[0])
    assert t.status[0] == CONVERGED and t.loss[0, k] < 1e-4 <= t.loss[0, k - 1]


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_dtype_is_respected(dtype):
    t = engine.run(ROSEN, [group("gd", STARTS, learning_rate=1e-3)], 3, dtype=dtype)
    assert t.params.dtype == dtype and t.loss.dtype == dtype


@settings(max_examples=200, deadline=None)
@given(
    arrays(
        st.sampled_from([np.float32, np.float64]),
        array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6),
        elements=st.floats(allow_nan=True, allow_infinity=True, width=32),
    )
)
def test_host_norm_is_numpys_bit_for_bit(a):
    """grad_norm on the host: the per-coordinate sum (d <= UNROLL) rounds as np.linalg.norm does,
    NaN, inf, overflow to inf and all; a wider vector takes np.linalg.norm itself."""
    with np.errstate(over="ignore"):
        expected = np.linalg.norm(a, axis=-1)
    got = engine._norm(a)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
