"""Newton's method with adaptive damping and an optional Armijo line search, in optax's shape."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree


class ScaleByNewtonState(NamedTuple):
    """The damping λ of the last step (0 while the Hessian is safely positive definite)."""

    damping: jax.Array


def scale_by_newton(
    damping: float = 0.0, min_eig_rtol: float = 1e-6
) -> optax.GradientTransformationExtraArgs:
    """Precondition by the damped Hessian: u ← (H + λI)⁻¹ u with H = ∇²f(params).

    λ = max(damping, min_eig_rtol·max|eig H| − λ_min(H)) is the smallest shift (at least
    `damping`) that leaves H + λI positive definite with eigenvalues ≥ min_eig_rtol·max|eig H|:
    λ = 0 (the pure Newton step) where H is safely positive definite, and a Levenberg–Marquardt
    shift where it is not. The system is solved (never inverted); H comes from `value_fn`.

    Args:
      damping: the least damping λ₀ ≥ 0 (Levenberg–Marquardt's λ); 0 for pure Newton.
      min_eig_rtol: the least eigenvalue of H + λI relative to the largest |eigenvalue| of H.

    Returns:
      An optax `GradientTransformationExtraArgs`; `update` needs the keyword `value_fn`.
    """

    def init(params: optax.Params) -> ScaleByNewtonState:
        return ScaleByNewtonState(jnp.zeros([], jax.tree.leaves(params)[0].dtype))

    def update(
        updates: optax.Updates,
        state: ScaleByNewtonState,
        params: optax.Params,
        *,
        value_fn: Callable[..., jax.Array],
        **extra_args: Any,
    ) -> tuple[optax.Updates, ScaleByNewtonState]:
        del extra_args
        u, unravel = ravel_pytree(updates)
        x, unravel_params = ravel_pytree(params)
        hessian = jax.hessian(lambda z: value_fn(unravel_params(z)))(x)
        eigs = jnp.linalg.eigvalsh(hessian)  # ascending
        scale = jnp.maximum(-eigs[0], eigs[-1])
        lam = jnp.maximum(damping, min_eig_rtol * scale - eigs[0])
        step = jnp.linalg.solve(hessian + lam * jnp.eye(x.size, dtype=hessian.dtype), u)
        return unravel(step), ScaleByNewtonState(lam.astype(state.damping.dtype))

    return optax.GradientTransformationExtraArgs(init, update)


def newton(
    learning_rate: optax.ScalarOrSchedule = 1.0,
    damping: float = 0.0,
    min_eig_rtol: float = 1e-6,
    linesearch: bool = True,
    max_backtracking_steps: int = 30,
    slope_rtol: float = 1e-4,
    decrease_factor: float = 0.5,
) -> optax.GradientTransformationExtraArgs:
    """Damped Newton: x ← x − t·η·(H + λI)⁻¹∇f(x), H = ∇²f(x), λ adaptive (`scale_by_newton`).

    With `linesearch`, t is the first of 1, β, β², … (β = `decrease_factor`) that satisfies
    Armijo's sufficient decrease f(x + t·d) ≤ f(x) + c·t·⟨∇f(x), d⟩ (c = `slope_rtol`), found by
    `optax.scale_by_backtracking_linesearch` restarted from t = 1 at every step; otherwise t = 1.
    Like `optax.lbfgs`, `update` needs the keywords `value`, `grad` and `value_fn`.

    Args:
      learning_rate: η, a number or a schedule (1: Newton's step).
      damping: the least Levenberg–Marquardt damping λ₀ ≥ 0.
      min_eig_rtol: H + λI keeps eigenvalues ≥ min_eig_rtol·max|eig H|.
      linesearch: whether to backtrack until Armijo's condition holds.
      max_backtracking_steps: the most halvings (one f evaluation each, plus the first trial).
      slope_rtol: Armijo's constant c.
      decrease_factor: β, the backtracking factor.

    Returns:
      An optax `GradientTransformationExtraArgs`.

    References:
      Nocedal & Wright, Numerical Optimization (2nd ed.), §3.1 and §3.4, Springer 2006.
    """
    transforms = [
        scale_by_newton(damping, min_eig_rtol),
        optax.scale_by_learning_rate(learning_rate),
    ]
    if linesearch:
        transforms.append(
            optax.scale_by_backtracking_linesearch(
                max_backtracking_steps,
                slope_rtol=slope_rtol,
                decrease_factor=decrease_factor,
                increase_factor=math.inf,  # every step tries t = 1 first
                max_learning_rate=1.0,
            )
        )
    return optax.chain(*transforms)
