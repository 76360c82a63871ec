"""Convergence theory reproduced in float64 on quadratics with eigenvalues in [μ, L] = [1, κ]."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from optimizer_helpers import group, quadratic

from optlab import engine, surfaces

STEPS = 13_000  # gradient descent at κ = 1000 needs ~12,700 steps to reach 1e-11
FLOOR = 1e-11  # relative error where the measuring window ends, far above float64's rounding


def ill_conditioned(kappa: float, dim: int):
    """½(x−c)ᵀA(x−c), eigenvalues evenly spaced in [1, κ], random rotation, c ≠ 0."""
    center = np.random.default_rng(dim).uniform(-1, 1, dim)
    return quadratic(np.linspace(1.0, kappa, dim), seed=dim, center=center)


def starts(dim: int) -> np.ndarray:
    return np.random.default_rng(100 + dim).uniform(-3, 3, (3, dim))


def measured_rate(errors: np.ndarray) -> float:
    """Mean contraction per step, (e_k1 / e_k0)^(1/(k1−k0)), over [k1/3, k1] with k1 the last
    step above FLOOR·e_0: a long window, so heavy ball's k·ρᵏ factor biases it by < 1.2%."""
    k1 = int(np.argmax(errors < FLOOR * errors[0])) - 1
    assert k1 > 30, "the window never got long"
    k0 = k1 // 3
    return float((errors[k1] / errors[k0]) ** (1.0 / (k1 - k0)))


@pytest.mark.parametrize("dim", [2, 10])
@pytest.mark.parametrize("kappa", [100, 1000])
def test_gradient_descent_and_heavy_ball_contract_at_their_optimal_rates(kappa, dim):
    """GD with η = 2/(L+μ): (κ−1)/(κ+1) per step, within 0.5%. Heavy ball with Polyak's
    η = 4/(√L+√μ)², β = ((√κ−1)/(√κ+1))²: (√κ−1)/(√κ+1), within 2%."""
    surface = ill_conditioned(kappa, dim)
    L, mu, sk = kappa, 1.0, np.sqrt(kappa)
    groups = [
        group("gd", starts(dim), learning_rate=2 / (L + mu)),
        group(
            "momentum",
            starts(dim),
            learning_rate=4 / (np.sqrt(L) + np.sqrt(mu)) ** 2,
            momentum=((sk - 1) / (sk + 1)) ** 2,
        ),
    ]
    traj = engine.run(surface, groups, STEPS, dtype=jnp.float64, diagnostics=False)
    errors = np.linalg.norm(traj.params - surface.minimizers[0], axis=-1)
    gd = [measured_rate(e) for e in errors[:3]]
    heavy_ball = [measured_rate(e) for e in errors[3:]]
    np.testing.assert_allclose(gd, (kappa - 1) / (kappa + 1), rtol=0.005)
    np.testing.assert_allclose(heavy_ball, (sk - 1) / (sk + 1), rtol=0.02)


def test_newton_solves_a_quadratic_in_one_step():
    """With and without the line search (t = 1 passes Armijo's test on a quadratic)."""
    surface = ill_conditioned(1000, 10)
    runs = [group("newton", starts(10), linesearch=ls) for ls in (True, False)]
    traj = engine.run(surface, runs, 1, dtype=jnp.float64, diagnostics=False)
    before, after = (
        np.linalg.norm(traj.params[:, k] - surface.minimizers[0], axis=-1) for k in (0, 1)
    )
    assert np.all(before > 1) and np.all(after < 1e-10)


def steps_to_reach(params: np.ndarray, point, tol: float) -> int:
    """The first step after which every later iterate stays within `tol` of `point`."""
    far = np.linalg.norm(params - np.asarray(point), axis=-1) >= tol
    assert not far[-1], "never got there"
    return int(np.nonzero(far)[0][-1]) + 1


@pytest.mark.parametrize(("name", "most"), [("newton", 36), ("lbfgs", 99)])
def test_second_order_methods_solve_rosenbrock_from_the_classic_start(name, most):
    """From (−1.2, 1): Newton within 1e-8 of (1, 1) in a few dozen steps, L-BFGS in < 100."""
    traj = engine.run(
        surfaces.get("rosenbrock"),
        [group(name, [[-1.2, 1.0]])],
        100,
        dtype=jnp.float64,
        diagnostics=False,
    )
    assert steps_to_reach(traj.params[0], [1.0, 1.0], 1e-8) <= most
