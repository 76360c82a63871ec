"""Importable functions for `surface=custom` tests (pytest puts tests/ on sys.path)."""

import jax.numpy as jnp


def log_cosh_bowl(x):
    """Σ log cosh(xᵢ − 1): minimum 0 at (1, ..., 1)."""
    return jnp.sum(jnp.log(jnp.cosh(x - 1.0)))


def vector_valued(x):
    """Not a surface: returns a vector."""
    return jnp.sin(x)


def broken(x):
    """Not a surface: fails on any input."""
    raise RuntimeError("this function always fails")
