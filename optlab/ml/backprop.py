"""Backpropagation written out by hand: the chain rule, layer by layer (checked against jax.grad).

For zₗ = aₗ₋₁Wₗ + bₗ, aₗ = σ(zₗ) and the mean cross-entropy L = (1/N) Σᵢ ℓᵢ:

    δ_L = (softmax(z_L) − Y) / N                 (∂L/∂z at the output)
    ∂L/∂Wₗ = aₗ₋₁ᵀ δₗ,   ∂L/∂bₗ = Σᵢ δₗ        (each layer's gradient)
    δₗ₋₁ = (δₗ Wₗᵀ) ⊙ σ′(zₗ₋₁)                  (the error sent one layer back)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from optlab.ml.mlp import ACTIVATIONS, Architecture

Array = jax.Array

DERIVATIVES = {
    "tanh": lambda z: 1.0 - jnp.tanh(z) ** 2,
    "relu": lambda z: (z > 0).astype(z.dtype),
}


def forward_cache(arch: Architecture, theta: Array, x: Array) -> tuple[list[Array], list[Array]]:
    """The forward pass keeping every layer's input aₗ₋₁ and pre-activation zₗ."""
    act = ACTIVATIONS[arch.activation]
    inputs, pre = [], []
    a = x
    for k, (W, b) in enumerate(arch.unflatten(theta)):
        inputs.append(a)
        z = a @ W + b
        pre.append(z)
        a = act(z) if k < len(arch.shapes) - 1 else z
    return inputs, pre


def loss_gradient(arch: Architecture, theta: Array, x: Array, targets: Array) -> Array:
    """∇_θ of the mean cross-entropy by the backward pass above (flat, like θ)."""
    inputs, pre = forward_cache(arch, theta, x)
    layers = arch.unflatten(theta)
    delta = (jax.nn.softmax(pre[-1], axis=-1) - targets) / x.shape[0]
    grads = []
    for k in reversed(range(len(layers))):
        grads.append((inputs[k].T @ delta, jnp.sum(delta, axis=0)))
        if k:
            delta = (delta @ layers[k][0].T) * DERIVATIVES[arch.activation](pre[k - 1])
    return arch.flatten(grads[::-1])
