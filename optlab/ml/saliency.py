"""Saliency maps |∂z_c/∂x| (Simonyan et al. 2014), gradient × input, and a masking check."""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from optlab.ml.mlp import Architecture, forward

Array = jax.Array


def score(arch: Architecture, theta: Array, x: Array, c: Array) -> Array:
    """The score (logit) z_c(x) of class c for one input x (n_in,)."""
    return forward(arch, theta, x)[c]


@partial(jax.jit, static_argnames="arch")
def input_gradient(arch: Architecture, theta: Array, x: Array, classes: Array) -> Array:
    """∂z_c/∂x for each image x (n, n_in) and its class c (n,): a vmapped jax.grad in x."""
    return jax.vmap(jax.grad(score, argnums=2), in_axes=(None, None, 0, 0))(arch, theta, x, classes)


def masked(x: Array, pixels: Array, baseline: Array) -> Array:
    """x with the pixels whose indices are `pixels` (k,) replaced by the baseline's."""
    return x.at[pixels].set(baseline[pixels])


@partial(jax.jit, static_argnames=("arch", "k", "draws"))
def masking_effect(
    arch: Architecture,
    theta: Array,
    x: Array,
    classes: Array,
    baseline: Array,
    key: Array,
    k: int = 8,
    draws: int = 32,
) -> tuple[Array, Array]:
    """|Δz_c| when the k most salient pixels are masked, and the mean |Δz_c| over `draws` random
    sets of k pixels, per image (n,) each. Masked pixels take the baseline's values (the mean
    training image), so masking changes background pixels too."""
    grads = input_gradient(arch, theta, x, classes)

    def one(xi, c, gi, ki):
        z = score(arch, theta, xi, c)
        change = lambda px: jnp.abs(score(arch, theta, masked(xi, px, baseline), c) - z)  # noqa: E731
        top = jnp.argsort(-jnp.abs(gi))[:k]
        rand = jax.vmap(lambda kk: jax.random.permutation(kk, xi.shape[0])[:k])(
            jax.random.split(ki, draws)
        )
        return change(top), jnp.mean(jax.vmap(change)(rand))

    keys = jax.random.split(key, x.shape[0])
    return jax.vmap(one)(x, classes, grads, keys)


class Explanation(NamedTuple):
    """Per image (n,): the class explained, its probability, ∂z_c/∂x (n, n_in), and |Δz_c| when
    the most salient / random pixels are masked."""

    classes: np.ndarray
    probability: np.ndarray
    grads: np.ndarray
    masked_top: np.ndarray
    masked_random: np.ndarray
    predicted: np.ndarray


def explain(
    arch: Architecture,
    theta: Array,
    x: Array,
    baseline: Array,
    key: Array,
    class_index: int | None = None,
    k: int = 8,
    draws: int = 32,
) -> Explanation:
    """Saliency of class `class_index` (None: each image's predicted class) for every image of
    x (n, n_in), with the masking check; host arrays."""
    c = -1 if class_index is None else class_index
    return Explanation(*map(np.asarray, _explain(arch, theta, x, baseline, key, c, k, draws)))


@partial(jax.jit, static_argnames=("arch", "k", "draws"))
def _explain(arch, theta, x, baseline, key, class_index, k, draws):
    probs = jax.nn.softmax(forward(arch, theta, x), axis=-1)
    predicted = jnp.argmax(probs, axis=-1)
    classes = jnp.where(class_index < 0, predicted, class_index)
    grads = input_gradient(arch, theta, x, classes)
    top, rand = masking_effect(arch, theta, x, classes, baseline, key, k, draws)
    p = jnp.take_along_axis(probs, classes[:, None], axis=-1)[:, 0]
    return classes, p, grads, top, rand, predicted
