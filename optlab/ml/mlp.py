"""A multilayer perceptron in plain JAX, its parameters one flat vector θ (a Surface's x).

The training loss over θ is just another surface, in many dimensions, so the engine, the
optimizer catalog and the records apply to it unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from optlab.surfaces.base import Surface, SurfaceInfo

Array = jax.Array
Layer = tuple[Array, Array]  # (W (n_in, n_out), b (n_out,)); a layer computes a @ W + b

ACTIVATIONS = {"tanh": jnp.tanh, "relu": jax.nn.relu}


@dataclasses.dataclass(frozen=True)
class Architecture:
    """Layer sizes (n_in, hidden..., n_out) and the hidden activation; hashable (static)."""

    sizes: tuple[int, ...] = (64, 32, 10)
    activation: str = "tanh"

    @property
    def shapes(self) -> tuple[tuple[int, int], ...]:
        return tuple(zip(self.sizes[:-1], self.sizes[1:], strict=True))

    @property
    def dim(self) -> int:
        """The number of parameters, len(θ)."""
        return sum(i * o + o for i, o in self.shapes)

    @property
    def layer_names(self) -> tuple[str, ...]:
        return tuple(f"layer {k + 1} ({i}→{o})" for k, (i, o) in enumerate(self.shapes))

    def slices(self) -> tuple[slice, ...]:
        """Each layer's block [W, b] of θ."""
        out, start = [], 0
        for i, o in self.shapes:
            out.append(slice(start, start + i * o + o))
            start += i * o + o
        return tuple(out)

    def unflatten(self, theta: Array) -> list[Layer]:
        """θ -> [(W₁, b₁), ...]."""
        layers = []
        for (i, o), s in zip(self.shapes, self.slices(), strict=True):
            block = theta[s]
            layers.append((block[: i * o].reshape(i, o), block[i * o :]))
        return layers

    def flatten(self, layers: Sequence[Layer]) -> Array:
        """[(W₁, b₁), ...] -> θ."""
        return jnp.concatenate([jnp.concatenate([W.ravel(), b]) for W, b in layers])

    def init_box(self) -> np.ndarray:
        """(dim, 2) box whose uniform samples are Glorot-uniform weights and zero biases."""
        rows = []
        for i, o in self.shapes:
            a = np.sqrt(6.0 / (i + o))
            rows += [[-a, a]] * (i * o) + [[0.0, 0.0]] * o
        return np.asarray(rows)


def forward(arch: Architecture, theta: Array, x: Array) -> Array:
    """The scores (logits) z(x) for inputs x (..., n_in)."""
    act = ACTIVATIONS[arch.activation]
    layers = arch.unflatten(theta)
    a = x
    for W, b in layers[:-1]:
        a = act(a @ W + b)
    W, b = layers[-1]
    return a @ W + b


def per_example_loss(arch: Architecture, theta: Array, x: Array, targets: Array) -> Array:
    """Cross-entropy ℓᵢ = logsumexp(zᵢ) − zᵢ·yᵢ for one-hot targets (N, n_out) -> (N,)."""
    z = forward(arch, theta, x)
    return jax.nn.logsumexp(z, axis=-1) - jnp.sum(z * targets, axis=-1)


def input_gradients(arch: Architecture, theta: Array, x: Array, targets: Array) -> Array:
    """∇ₓℓᵢ for every example (N, n_in): examples are independent, so one grad of Σℓᵢ gives all."""
    return jax.grad(lambda xs: jnp.sum(per_example_loss(arch, theta, xs, targets)))(x)


def gradient_penalty(arch: Architecture, theta: Array, x: Array, targets: Array) -> Array:
    """E‖∇ₓℓ‖²: the mean squared input-gradient norm (differentiating it in θ is double backprop)."""
    return jnp.mean(jnp.sum(input_gradients(arch, theta, x, targets) ** 2, axis=-1))


def accuracy(arch: Architecture, theta: Array, x: Array, labels: Array) -> Array:
    """Fraction of examples whose largest score is their label."""
    return jnp.mean(jnp.argmax(forward(arch, theta, x), axis=-1) == labels)


@dataclasses.dataclass(frozen=True)
class Objective:
    """The training loss L(θ) = E ℓ + λ·E‖∇ₓℓ‖² (the penalty by double backpropagation).

    A frozen dataclass, so equal architectures give equal (cache-sharing) surfaces; the data and
    λ are the surface's traced parameters, so changing them never recompiles.
    """

    arch: Architecture

    def __call__(self, theta: Array, inputs: Array, targets: Array, penalty: Array) -> Array:
        data = jnp.mean(per_example_loss(self.arch, theta, inputs, targets))
        # λ is one traced scalar (not vmapped), so the cond stays a branch: λ = 0 skips the
        # second backward pass.
        return data + jax.lax.cond(
            penalty > 0,
            lambda: (penalty * gradient_penalty(self.arch, theta, inputs, targets)).astype(
                data.dtype
            ),
            lambda: jnp.zeros_like(data),
        )


def surface(
    arch: Architecture, inputs: np.ndarray, targets: np.ndarray, penalty: float = 0.0
) -> Surface:
    """The training loss as a Surface in `arch.dim` dimensions; its bounds are the init box (so the
    engine's random starts are Glorot-uniform initializations) and f* = 0 its lower bound."""
    sizes = "-".join(map(str, arch.sizes))
    info = SurfaceInfo(
        formula=r"\frac{1}{N}\sum_i \ell_i(\theta) + \lambda \frac{1}{N}\sum_i \|\nabla_x \ell_i\|^2",
        source=f"{sizes} {arch.activation} MLP, cross-entropy on scikit-learn's digits",
        f_min_note="0 is the infimum of the cross-entropy (approached, not attained); "
        "a lower bound when λ > 0",
    )
    return Surface(
        "mlp",
        Objective(arch),
        arch.dim,
        arch.init_box(),
        np.zeros((0, arch.dim)),
        0.0,
        params={
            "inputs": np.asarray(inputs),
            "targets": np.asarray(targets),
            "penalty": np.asarray(penalty),
        },
        info=info,
        config={"sizes": list(arch.sizes), "activation": arch.activation},
    )
