"""The catalog of test surfaces. Reference values: ../shared/GUIDE.md §5, each verified in tests."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from optlab.surfaces.base import Surface, SurfaceInfo
from optlab.surfaces.registry import register


def _box(lo: float, hi: float, dim: int) -> np.ndarray:
    return np.tile([lo, hi], (dim, 1))


def _sphere(x):
    return jnp.sum(x**2)


@register("sphere", max_dim=None, min_dim=1)
def sphere(dim: int = 2) -> Surface:
    """f(x) = Σ xᵢ²: the bowl x² + y² of the classic gradient picture."""
    return Surface(
        "sphere",
        _sphere,
        dim,
        _box(-5.12, 5.12, dim),
        np.zeros((1, dim)),
        0.0,
        info=SurfaceInfo(formula=r"\sum_i x_i^2", source="De Jong (1975)"),
        config={"dim": dim},
    )


def _rosenbrock(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (x[:-1] - 1.0) ** 2)


@register("rosenbrock", max_dim=None)
def rosenbrock(dim: int = 2) -> Surface:
    """f(x) = Σ [100 (xᵢ₊₁ − xᵢ²)² + (xᵢ − 1)²]: the curved banana valley."""
    return Surface(
        "rosenbrock",
        _rosenbrock,
        dim,
        _box(-5.0, 10.0, dim),
        np.ones((1, dim)),
        0.0,
        info=SurfaceInfo(
            formula=r"\sum_{i=1}^{d-1} [100 (x_{i+1} - x_i^2)^2 + (x_i - 1)^2]",
            source="Rosenbrock (1960), The Computer Journal 3(3)",
            f_min_note="for d >= 4 there is also a local minimum near (-1, 1, ..., 1)",
        ),
        config={"dim": dim},
    )


def _himmelblau(x):
    return (x[0] ** 2 + x[1] - 11.0) ** 2 + (x[0] + x[1] ** 2 - 7.0) ** 2


@register("himmelblau")
def himmelblau(dim: int = 2) -> Surface:
    """f(x, y) = (x² + y − 11)² + (x + y² − 7)²: four global minima, one local maximum."""
    minimizers = [
        [3.0, 2.0],
        [-2.805118086952745, 3.131312518250573],
        [-3.779310253377747, -3.283185991286170],
        [3.584428340330492, -1.848126526964404],
    ]
    return Surface(
        "himmelblau",
        _himmelblau,
        2,
        _box(-5.0, 5.0, 2),
        minimizers,
        0.0,
        info=SurfaceInfo(
            formula=r"(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
            source="Himmelblau (1972), Applied Nonlinear Programming",
            stationary_points=(("maximum", (-0.270844590667, -0.923038556480), 181.616522),),
        ),
        config={},
    )
