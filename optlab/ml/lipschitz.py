"""Lipschitz estimates of the score map x ↦ z(x) of a trained network.

Lower estimate: the largest input-gradient norm over the data, maxₓ ‖∂z/∂x‖₂ (the spectral norm of
the input Jacobian = the largest ‖∇ₓ(uᵀz)‖ over unit readouts u). Upper bound: Πₗ σ_max(Wₗ), each
σ_max by power iteration as spectral normalization computes it (Miyato et al. 2018); it holds
because tanh and ReLU are 1-Lipschitz.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from optlab.ml.mlp import Architecture, forward, gradient_penalty

Array = jax.Array


def spectral_norm(W: Array, iters: int = 200, seed: int = 0) -> Array:
    """σ_max(W) by power iteration on WᵀW: v ← WᵀWv / ‖WᵀWv‖, σ = ‖Wv‖ (v₀ Gaussian)."""
    v = jnp.asarray(np.random.default_rng(seed).standard_normal(W.shape[1]), W.dtype)

    def step(_, v):
        w = W.T @ (W @ v)
        return w / jnp.linalg.norm(w)

    v = jax.lax.fori_loop(0, iters, step, v / jnp.linalg.norm(v))
    return jnp.linalg.norm(W @ v)


def spectral_norms(arch: Architecture, theta: Array, iters: int = 200) -> Array:
    """σ_max of every layer's weight matrix (L,)."""
    return jnp.stack(
        [spectral_norm(W, iters, seed=k) for k, (W, _) in enumerate(arch.unflatten(theta))]
    )


def jacobian_norms(arch: Architecture, theta: Array, x: Array) -> Array:
    """‖∂z/∂x‖₂ at every input x (N,): the spectral norm of each (n_out, n_in) Jacobian."""
    J = jax.vmap(jax.jacrev(lambda xi: forward(arch, theta, xi)))(x)
    return jnp.linalg.norm(J, ord=2, axis=(-2, -1))


@partial(jax.jit, static_argnames="arch")
def estimates(arch: Architecture, theta: Array, x: Array, targets: Array) -> dict[str, Array]:
    """Both Lipschitz estimates, the layers' σ_max and E‖∇ₓℓ‖² on (x, targets), in one call."""
    sigma = spectral_norms(arch, theta)
    return {
        "input_gradient_max": jnp.max(jacobian_norms(arch, theta, x)),
        "spectral_product": jnp.prod(sigma),
        "layer_spectral_norms": sigma,
        "gradient_penalty": gradient_penalty(arch, theta, x, targets),
    }
