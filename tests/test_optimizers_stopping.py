"""Stopping rules inside the jitted loop: converged / max_steps / diverged, frozen lanes, counts."""

from __future__ import annotations

import numpy as np
from optimizer_helpers import group, quadratic

from optlab import engine
from optlab.engine import CONVERGED, DIVERGED, MAX_STEPS

STEPS = 60


def test_a_converged_run_stops_at_tol_grad_and_stays_frozen():
    """gd on ½‖x‖² with η = 0.2: ‖∇f‖ = 0.8ᵏ‖x₀‖, so ‖∇f‖ < 1e-3 first at k = ⌈log(1e-3/5)/log 0.8⌉."""
    surface = quadratic([1.0, 1.0])
    starts = [[3.0, 4.0], [3000.0, 4000.0]]  # the second needs 70 steps
    traj = engine.run(surface, [group("gd", starts, learning_rate=0.2)], STEPS, tol_grad=1e-3)
    k = int(np.ceil(np.log(1e-3 / 5) / np.log(0.8)))
    assert traj.status.tolist() == [CONVERGED, MAX_STEPS]
    assert traj.steps_taken.tolist() == [k, STEPS]
    assert traj.grad_norm[0, k] < 1e-3 <= traj.grad_norm[0, k - 1]
    frozen = traj.params[0, k:]
    assert np.all(frozen == frozen[0]) and np.all(traj.loss[0, k:] == traj.loss[0, k])
    assert np.all(np.isnan(traj.directional_derivative[0, k:]))  # no update taken
    assert np.all(np.isfinite(traj.directional_derivative[0, :k]))
    # One value and gradient at the start and one per step taken; no Hessians.
    assert traj.f_evals.tolist() == traj.grad_evals.tolist() == [1 + k, 1 + STEPS]
    assert traj.hessian_evals.tolist() == [0, 0]


def test_target_stops_on_f_minus_f_star():
    """f* = 5: the run stops once f − 5 < target (f itself never gets below 5)."""
    surface = quadratic([1.0, 1.0], offset=5.0)
    traj = engine.run(surface, [group("gd", [[3.0, 4.0]], learning_rate=0.1)], STEPS, target=1e-4)
    gap = traj.loss[0] - 5.0
    k = int(np.argmax(gap < 1e-4))
    assert traj.status[0] == CONVERGED and traj.steps_taken[0] == k > 0
    assert gap[k - 1] >= 1e-4
    assert np.all(traj.params[0, k:] == traj.params[0, k])


def test_without_a_known_minimum_target_does_not_stop():
    surface = quadratic([1.0, 1.0], offset=5.0)
    surface.f_min = None
    traj = engine.run(surface, [group("gd", [[3.0, 4.0]], learning_rate=0.1)], STEPS, target=1e-4)
    assert traj.status[0] == MAX_STEPS and traj.steps_taken[0] == STEPS


def test_a_diverging_lane_is_frozen_and_its_neighbour_unaffected():
    """gd with η = 10 on ½‖x‖² multiplies x by −9 per step: f = 12.5·81ⁿ overflows float32."""
    surface = quadratic([1.0, 1.0])
    both = group("gd", [[3.0, 4.0], [3.0, 4.0]])._replace(
        hparams={"learning_rate": np.array([10.0, 0.1])}
    )
    alone = group("gd", [[3.0, 4.0]], learning_rate=0.1)
    traj = engine.run(surface, [both], STEPS)
    single = engine.run(surface, [alone], STEPS)
    assert traj.status.tolist() == [DIVERGED, MAX_STEPS]
    n = int(traj.steps_taken[0])
    assert n == int(np.log(np.finfo(np.float32).max / 12.5) / np.log(81))
    assert np.all(np.isfinite(traj.params[0])) and np.all(traj.params[0, n:] == traj.params[0, n])
    np.testing.assert_array_equal(traj.params[1], single.params[0])
    np.testing.assert_array_equal(traj.loss[1], single.loss[0])
    assert traj.f_evals.tolist() == [1 + n, 1 + STEPS]
