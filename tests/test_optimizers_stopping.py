"""Stopping rules inside the jitted loop: converged / max_steps / diverged, frozen lanes, counts."""

from __future__ import annotations

import numpy as np
from optimizer_helpers import group, quadratic

from optlab import engine
from optlab.engine import CONVERGED, DIVERGED, MAX_STEPS

STEPS = 60
SURFACE = quadratic([1.0, 1.0], offset=5.0)  # ½‖x‖² + 5: f* = 5 (every test: one program)


def test_a_converged_run_stops_at_tol_grad_and_stays_frozen():
    """gd with η = 0.2: ‖∇f‖ = 0.8ᵏ‖x₀‖, so ‖∇f‖ < 1e-3 first at k = ⌈log(1e-3/5)/log 0.8⌉."""
    starts = [[3.0, 4.0], [3000.0, 4000.0]]  # the second needs 70 steps
    traj = engine.run(SURFACE, [group("gd", starts, learning_rate=0.2)], STEPS, tol_grad=1e-3)
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
    """The run stops once f − f* = f − 5 < target (f itself never gets below 5)."""
    starts = [[3.0, 4.0], [30.0, 40.0]]  # f − 5 = 12.5·0.81ᵏ and 1250·0.81ᵏ
    traj = engine.run(SURFACE, [group("gd", starts, learning_rate=0.1)], STEPS, target=1e-4)
    gap = traj.loss[0] - 5.0
    k = int(np.argmax(gap < 1e-4))
    assert traj.status.tolist() == [CONVERGED, MAX_STEPS]
    assert traj.steps_taken[0] == k == int(np.ceil(np.log(1e-4 / 12.5) / np.log(0.81)))
    assert gap[k - 1] >= 1e-4
    assert np.all(traj.params[0, k:] == traj.params[0, k])


def test_a_diverging_lane_is_frozen_and_its_neighbour_unaffected():
    """gd with η = 10 multiplies x by −9 per step: f − 5 = 12.5·81ⁿ overflows float32."""
    start = [[3.0, 4.0], [3.0, 4.0]]
    both = group("gd", start)._replace(hparams={"learning_rate": np.array([10.0, 0.1])})
    calm = group("gd", start, learning_rate=0.1)
    traj = engine.run(SURFACE, [both], STEPS)
    reference = engine.run(SURFACE, [calm], STEPS)
    assert traj.status.tolist() == [DIVERGED, MAX_STEPS]
    n = int(traj.steps_taken[0])
    assert n == int(np.log(np.finfo(np.float32).max / 12.5) / np.log(81))
    assert np.all(np.isfinite(traj.params[0])) and np.all(traj.params[0, n:] == traj.params[0, n])
    np.testing.assert_array_equal(traj.params[1], reference.params[0])
    np.testing.assert_array_equal(traj.loss[1], reference.loss[0])
    assert traj.f_evals.tolist() == [1 + n, 1 + STEPS]
