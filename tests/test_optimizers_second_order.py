"""Newton (written here) and L-BFGS (optax) inside the engine: steps, damping, evaluation counts."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from optimizer_helpers import group

from optlab import engine, surfaces
from optlab.optimizers.catalog import lbfgs
from optlab.optimizers.newton import scale_by_newton
from optlab.surfaces.base import Surface

START = [-1.2, 1.0]


def rosen(x):
    return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2


def rosen_grad(x):
    return np.array([-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]), 200 * (x[1] - x[0] ** 2)])


def rosen_hessian(x):
    return np.array([[1200 * x[0] ** 2 - 400 * x[1] + 2, -400 * x[0]], [-400 * x[0], 200.0]])


def newton_reference(x, steps, c=1e-4, beta=0.5, max_backtracking=30, rtol=1e-6):
    """Damped Newton with Armijo backtracking in NumPy (analytic derivatives): points, f trials."""
    xs, trials = [np.asarray(x, float)], 0
    for _ in range(steps):
        x, g, h = xs[-1], rosen_grad(xs[-1]), rosen_hessian(xs[-1])
        eig = np.linalg.eigvalsh(h)
        lam = max(0.0, rtol * max(-eig[0], eig[-1]) - eig[0])
        d = -np.linalg.solve(h + lam * np.eye(2), g)
        t = 1.0
        for k in range(max_backtracking + 1):
            trials += 1
            if rosen(x + t * d) <= rosen(x) + c * t * (g @ d):
                break
            t = t * beta if k < max_backtracking else t
        xs.append(x + t * d)
    return np.array(xs), trials


def test_newton_matches_a_numpy_reference_step_for_step_with_its_evaluation_counts():
    steps = 12  # still far above float64's floor, where rounding decides the trial counts
    ref, trials = newton_reference(START, steps)
    traj = engine.run(
        surfaces.get("rosenbrock"),
        [group("newton", [START])],
        steps,
        dtype=jnp.float64,
        diagnostics=False,
    )
    np.testing.assert_allclose(traj.params[0], ref, rtol=1e-9, atol=1e-12)
    assert trials > steps  # some steps backtracked
    assert traj.f_evals[0] == 1 + steps + trials  # engine's value per step + line-search trials
    assert traj.grad_evals[0] == 1 + steps
    assert traj.hessian_evals[0] == steps


def test_scale_by_newton_solves_the_shifted_system_and_shifts_only_when_needed():
    """u ← (H + λI)⁻¹u: λ = 0 where H ≻ 0; where H is indefinite, H + λI's least eigenvalue is δ."""
    opt = scale_by_newton()
    update = jax.jit(lambda g, x: opt.update(g, opt.init(x), x, value_fn=rosen))
    for x, definite in (([1.0, 1.0], True), ([0.0, 1.0], False)):
        h, g = rosen_hessian(np.asarray(x)), rosen_grad(np.asarray(x))
        step, state = update(jnp.asarray(g), jnp.asarray(x))
        lam = float(state.damping)
        eig = np.linalg.eigvalsh(h)
        if definite:
            assert lam == 0.0
        else:
            assert eig[0] < 0
            np.testing.assert_allclose(eig[0] + lam, 1e-6 * max(-eig[0], eig[-1]), rtol=1e-6)
        np.testing.assert_allclose((h + lam * np.eye(2)) @ np.asarray(step), g, rtol=1e-9)


def double_well(x):
    return x[0] ** 2 - x[1] ** 2 + x[1] ** 4 / 4


def test_damped_newton_leaves_a_saddle_that_attracts_the_pure_newton_step():
    """On x² − y² + y⁴/4 from (0.5, 0.1), the pure Newton step lands on the saddle (0, 0)
    (the Hessian diag(2, −1.97) is indefinite); the damped one reaches a minimum (0, ±√2), f = −1."""
    x0 = np.array([0.5, 0.1])
    h = np.diag([2.0, -2 + 3 * x0[1] ** 2])
    pure = x0 - np.linalg.solve(h, [2 * x0[0], -2 * x0[1] + x0[1] ** 3])
    np.testing.assert_allclose(pure, [0.0, 0.0], atol=2e-3)

    well = Surface("double_well", double_well, 2, [[-3, 3], [-3, 3]], [[0, 2**0.5]], -1.0)
    traj = engine.run(well, [group("newton", [x0])], 40, dtype=jnp.float64, diagnostics=False)
    np.testing.assert_allclose(np.abs(traj.params[0, -1]), [0.0, 2**0.5], atol=1e-10)
    np.testing.assert_allclose(traj.loss[0, -1], -1.0, atol=1e-12)
    assert np.all(np.diff(traj.loss[0]) <= 1e-15)  # Armijo: f never increases


def test_lbfgs_in_the_engine_is_optax_lbfgs_and_counts_its_line_search():
    """The engine's run equals optax.lbfgs in a plain jitted loop; its f/grad counts equal the
    number of calls a host-side counter sees in that (unbatched) loop."""
    calls = []

    def counted(x):
        jax.debug.callback(lambda: calls.append(1))
        return rosen(x)

    steps = 25
    opt = lbfgs()

    def loop(x0):
        def step(carry, _):
            x, state, value, grad = carry
            u, state = opt.update(grad, state, x, value=value, grad=grad, value_fn=counted)
            x = optax.apply_updates(x, u)
            return (x, state, *jax.value_and_grad(counted)(x)), x

        first = (x0, opt.init(x0), *jax.value_and_grad(counted)(x0))
        return jax.lax.scan(step, first, length=steps)[1]

    path = jax.jit(loop)(jnp.asarray(START))
    jax.effects_barrier()
    counted_calls = len(calls)

    surface = surfaces.get("rosenbrock")
    traj = engine.run(surface, [group("lbfgs", [START])], steps, dtype=jnp.float64)
    # the same algorithm, not the same code: the engine's vectorized 16-lane kernels round
    # differently from this scalar loop, and 25 L-BFGS steps amplify an ulp to ~1e-9
    np.testing.assert_allclose(traj.params[0, 1:], np.asarray(path), rtol=1e-8, atol=1e-12)
    assert traj.f_evals[0] == traj.grad_evals[0] == counted_calls
    assert counted_calls > 1 + steps  # the line search evaluates more than once per step
    assert traj.hessian_evals[0] == 0
