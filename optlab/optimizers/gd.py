"""Plain gradient descent, written here in optax's shape."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax


class GDState(NamedTuple):
    """Step counter (drives a learning-rate schedule)."""

    count: jax.Array


def gd(learning_rate: optax.ScalarOrSchedule) -> optax.GradientTransformationExtraArgs:
    """Gradient descent: x ← x − η ∇f(x), with η a number or a schedule η(t).

    Args:
      learning_rate: the step size η, a scalar (may be traced) or a schedule.

    Returns:
      An optax `GradientTransformationExtraArgs`.
    """

    def init(params: optax.Params) -> GDState:
        del params
        return GDState(count=jnp.zeros([], jnp.int32))

    def update(updates, state: GDState, params=None, **extra_args):
        del params, extra_args
        eta = learning_rate(state.count) if callable(learning_rate) else learning_rate
        updates = jax.tree.map(lambda g: -eta * g, updates)
        return updates, GDState(count=optax.safe_int32_increment(state.count))

    return optax.GradientTransformationExtraArgs(init, update)
