"""Surface values on a grid (JAX, one vmapped evaluation) for the plots, which stay NumPy-only."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from optlab.surfaces.base import Surface


@partial(jax.jit, static_argnames=("n",))
def _grid(surface: Surface, lo, hi, n: int):
    xs = jnp.linspace(lo[0], hi[0], n)
    ys = jnp.linspace(lo[1], hi[1], n)
    X, Y = jnp.meshgrid(xs, ys)
    Z = jax.vmap(surface)(jnp.stack([X.ravel(), Y.ravel()], axis=-1)).reshape(n, n)
    return X, Y, Z


def grid(surface: Surface, bounds: np.ndarray, n: int = 200) -> tuple[np.ndarray, ...]:
    """(X, Y, Z) with Z = f(x, y) on an n×n grid over `bounds` [[xlo, xhi], [ylo, yhi]] (2-D)."""
    b = np.asarray(bounds, dtype=float)
    X, Y, Z = _grid(surface, jnp.asarray(b[:, 0]), jnp.asarray(b[:, 1]), n)
    return np.asarray(X), np.asarray(Y), np.asarray(Z)
