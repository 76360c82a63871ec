"""The gradient at a point, in JAX (jitted once: the point and the direction are traced)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from optlab.surfaces.base import Surface

Array = jax.Array


class Probe(NamedTuple):
    """f, ∇f, |∇f|, the direction of ∇f (degrees from the x-axis), and for a unit u: D_u f = ∇f·u
    and the angle θ between u and ∇f (degrees), so that D_u f = |∇f| cos θ."""

    value: Array
    grad: Array
    norm: Array
    direction: Array
    d_u: Array
    angle: Array


@jax.jit
def probe(surface: Surface, x: Array, u: Array) -> Probe:
    """Probe f at x (2,) along u (2,), normalized here; D_u f by a jvp (forward mode)."""
    u = u / jnp.linalg.norm(u)
    value, grad = jax.value_and_grad(surface)(x)
    _, d_u = jax.jvp(surface, (x,), (u,))
    norm = jnp.linalg.norm(grad)
    cos = jnp.clip(d_u / jnp.where(norm > 0, norm, 1.0), -1.0, 1.0)
    return Probe(
        value,
        grad,
        norm,
        jnp.degrees(jnp.arctan2(grad[1], grad[0])),
        d_u,
        jnp.degrees(jnp.arccos(cos)),
    )


@jax.jit
def _grad_norms(surface: Surface, points: Array) -> Array:
    return jnp.linalg.norm(jax.vmap(jax.grad(surface))(points), axis=-1)


def typical_gradient(surface: Surface, bounds: np.ndarray, dtype, n: int = 21) -> float:
    """The median of |∇f| over an n×n grid of `bounds` (it sets the arrows' scale)."""
    b = np.asarray(bounds, dtype=float)
    xs, ys = (np.linspace(lo, hi, n) for lo, hi in b)
    points = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    norms = np.asarray(_grad_norms(surface.astype(dtype), jnp.asarray(points, dtype)))
    finite = norms[np.isfinite(norms) & (norms > 0)]
    return float(np.median(finite)) if finite.size else 1.0
