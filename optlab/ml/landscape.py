"""The loss on a plane through a solution θ*: L(θ* + α δ₁ + β δ₂), with random filter-normalized
directions δ (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets")."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from optlab import landscape as views
from optlab.ml.mlp import Architecture
from optlab.surfaces.base import Surface

Array = jax.Array


@partial(jax.jit, static_argnames="arch")
def filter_normalized(arch: Architecture, theta: Array, noise: Array) -> Array:
    """The Gaussian direction `noise` (shaped like θ) rescaled so each filter (a unit's incoming
    weights, one column of W) has the norm of the same filter of θ; bias directions are zero, as
    in Li et al."""
    layers = []
    for (W, b), (D, _) in zip(arch.unflatten(theta), arch.unflatten(noise), strict=True):
        scale = jnp.linalg.norm(W, axis=0) / jnp.linalg.norm(D, axis=0)
        layers.append((D * scale, jnp.zeros_like(b)))
    return arch.flatten(layers)


def random_directions(arch: Architecture, theta: Array, seed: int) -> tuple[Array, Array]:
    """Two filter-normalized directions from Gaussian noise drawn (on the host) from `seed`."""
    noise = np.random.default_rng(seed).standard_normal((2, arch.dim))
    d1, d2 = (filter_normalized(arch, theta, jnp.asarray(n, theta.dtype)) for n in noise)
    return d1, d2


def plane(
    loss: Surface, theta: Array, d1: Array, d2: Array, span: float, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A, B, Z): Z = loss(θ + α δ₁ + β δ₂) (a Surface: its data stay traced) on an n×n grid of
    α, β ∈ [−span, span], evaluated in memory-bounded chunks (`optlab.landscape.values`)."""
    dtype = np.asarray(theta).dtype
    box = np.asarray([[-span, span], [-span, span]], dtype=dtype)
    on = views.Plane(np.asarray(theta), np.stack([np.asarray(d1), np.asarray(d2)]), box)
    return views.values(loss, on, n)


def project(path: np.ndarray, theta: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Coordinates (α, β) of the points θₜ (T, d) projected onto the plane: least squares for
    θₜ − θ* ≈ α δ₁ + β δ₂ (δ₁, δ₂ are not exactly orthogonal)."""
    D = np.stack([d1, d2], axis=1)
    coef, *_ = np.linalg.lstsq(D, (np.asarray(path) - theta).T, rcond=None)
    return coef.T


def pca_directions(path: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The top two principal directions of θₜ − θ* along a trajectory (T, d) (Li et al. §7: random
    directions are nearly orthogonal to a trajectory, which then projects to almost a point),
    and the fraction of ‖θₜ − θ*‖² they capture."""
    X = np.asarray(path, dtype=np.float64) - path[-1]
    _, s, vt = np.linalg.svd(X, full_matrices=False)
    return vt[0], vt[1], float((s[:2] ** 2).sum() / (s**2).sum())
