"""N-dimensional catalog surfaces (`surface.dim=d`, default 2). Reference values: GUIDE §5.

Every value here is checked numerically in float64 by tests/test_surfaces.py.
"""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
import numpy as np

from optlab.errors import UserError
from optlab.surfaces.base import Surface, SurfaceInfo, box
from optlab.surfaces.registry import register
from optlab.surfaces.validate import vector

SCHWEFEL_CONSTANT = 418.98288727243370628  # max of x sin√|x| on [−500, 500]
SCHWEFEL_ARGMIN = 420.968746359982  # root of sin√x + (√x/2) cos√x = 0
STYBLINSKI_TANG_ARGMIN = -2.903534027771177  # root of 4x³ − 32x + 5 = 0
STYBLINSKI_TANG_MIN = -39.16616570377141  # ½(x⁴ − 16x² + 5x) at the root, per coordinate
SVL = "Surjanovic & Bingham, Virtual Library of Simulation Experiments"
MGH_START = "Moré, Garbow & Hillstrom (1981), ACM TOMS 7(1)"


def _safe_sqrt(a):
    """√a for a ≥ 0 whose JAX derivative is 0 rather than NaN at a = 0."""
    pos = a > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, a, 1.0)), 0.0)


def near_origin(x: np.ndarray, tol: float) -> np.ndarray:
    """Singular predicate: ‖x‖ < tol (a kink at the origin)."""
    return np.linalg.norm(np.asarray(x, dtype=float), axis=-1) < tol


def near_coordinate_plane(x: np.ndarray, tol: float) -> np.ndarray:
    """Singular predicate: some |xᵢ| < tol (√|xᵢ| has an unbounded derivative at 0)."""
    return np.any(np.abs(np.asarray(x, dtype=float)) < tol, axis=-1)


def _nd(name, fn, dim, lo, hi, at, f_min, start=None, **info) -> Surface:
    """On the box [lo, hi]ᵈ, minimizers `at` (k, d), or (at, …, at) for a number."""
    minimizers = np.full((1, dim), at) if np.ndim(at) == 0 else at
    info = SurfaceInfo(**info)
    return Surface(
        name,
        fn,
        dim,
        box(lo, hi, dim),
        minimizers,
        f_min,
        info=info,
        config={"dim": dim},
        start=start,
    )


def rosenbrock_start(dim: int) -> np.ndarray:
    """(−1.2, 1, −1.2, 1, …): the standard start of Moré, Garbow & Hillstrom (1981), problems 1
    (d = 2) and 21 (extended Rosenbrock)."""
    return np.resize([-1.2, 1.0], dim)


def _sphere(x):
    return jnp.sum(x**2)


@register("sphere", min_dim=1, max_dim=None)
def sphere(dim: int = 2) -> Surface:
    """f(x) = Σ xᵢ²: the bowl x² + y² of the classic gradient picture."""
    return _nd(
        "sphere",
        _sphere,
        dim,
        -5.12,
        5.12,
        0.0,
        0.0,
        formula=r"\sum_i x_i^2",
        source="De Jong (1975), PhD thesis, U. Michigan",
    )


def _rosenbrock(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (x[:-1] - 1.0) ** 2)


@register("rosenbrock", min_dim=2, max_dim=None)
def rosenbrock(dim: int = 2) -> Surface:
    """f(x) = Σᵢ₌₁ᵈ⁻¹ [100 (xᵢ₊₁ − xᵢ²)² + (xᵢ − 1)²]: the curved banana valley."""
    return _nd(
        "rosenbrock",
        _rosenbrock,
        dim,
        -5.0,
        10.0,
        1.0,
        0.0,
        formula=r"\sum_{i=1}^{d-1} [100 (x_{i+1} - x_i^2)^2 + (x_i - 1)^2]",
        source="Rosenbrock (1960), The Computer Journal 3(3)",
        start_source=MGH_START + ", problems 1 and 21",
        f_min_note="for d >= 4 there is also a local minimum near (-1, 1, ..., 1)",
        start=rosenbrock_start(dim),
    )


def _rastrigin(x):
    return 10.0 * x.shape[-1] + jnp.sum(x**2 - 10.0 * jnp.cos(2.0 * jnp.pi * x))


@register("rastrigin", min_dim=1, max_dim=None)
def rastrigin(dim: int = 2) -> Surface:
    """f(x) = 10d + Σ [xᵢ² − 10 cos 2πxᵢ]: a bowl covered in a regular grid of local minima."""
    return _nd(
        "rastrigin",
        _rastrigin,
        dim,
        -5.12,
        5.12,
        0.0,
        0.0,
        formula=r"10 d + \sum_i [x_i^2 - 10 \cos(2 \pi x_i)]",
        source="Rastrigin (1974); N-d form: Mühlenbein, Schomisch & Born (1991)",
    )


def _ackley(x):
    r = _safe_sqrt(jnp.mean(x**2))
    return -20.0 * jnp.exp(-0.2 * r) - jnp.exp(jnp.mean(jnp.cos(2.0 * jnp.pi * x))) + 20.0 + jnp.e


@register("ackley", min_dim=1, max_dim=None)
def ackley(dim: int = 2) -> Surface:
    """f(x) = −20 exp(−0.2 √(Σxᵢ²/d)) − exp(Σ cos(2πxᵢ)/d) + 20 + e: a funnel of ripples.

    Not differentiable at 0 (a cone tip); JAX's gradient there is 0, a valid subgradient.
    """
    return _nd(
        "ackley",
        _ackley,
        dim,
        -32.768,
        32.768,
        0.0,
        0.0,
        formula=r"-20 e^{-0.2 \sqrt{\sum_i x_i^2 / d}} - e^{\sum_i \cos(2 \pi x_i) / d} + 20 + e",
        source="Ackley (1987), A Connectionist Machine for Genetic Hillclimbing",
        differentiable=False,
        nondifferentiable_at="x = 0 (a cone tip; JAX returns the subgradient 0 there)",
        singular=near_origin,
    )


def _griewank(x):
    i = jnp.arange(1, x.shape[-1] + 1, dtype=x.dtype)
    return jnp.sum(x**2) / 4000.0 - jnp.prod(jnp.cos(x / jnp.sqrt(i))) + 1.0


@register("griewank", min_dim=1, max_dim=None)
def griewank(dim: int = 2) -> Surface:
    """f(x) = Σ xᵢ²/4000 − Π cos(xᵢ/√i) + 1: a shallow bowl with many shallow local minima."""
    return _nd(
        "griewank",
        _griewank,
        dim,
        -600.0,
        600.0,
        0.0,
        0.0,
        formula=r"\sum_i x_i^2 / 4000 - \prod_i \cos(x_i / \sqrt{i}) + 1",
        source="Griewank (1981), J. Optim. Theory Appl. 34(1)",
    )


def _styblinski_tang(x):
    return 0.5 * jnp.sum(x**4 - 16.0 * x**2 + 5.0 * x)


@register("styblinski_tang", min_dim=1, max_dim=None)
def styblinski_tang(dim: int = 2) -> Surface:
    """f(x) = ½ Σ (xᵢ⁴ − 16xᵢ² + 5xᵢ): 2ᵈ local minima; f* = −39.16616570·d (not −39.16599·d)."""
    return _nd(
        "styblinski_tang",
        _styblinski_tang,
        dim,
        -5.0,
        5.0,
        STYBLINSKI_TANG_ARGMIN,
        STYBLINSKI_TANG_MIN * dim,
        formula=r"\frac{1}{2} \sum_i (x_i^4 - 16 x_i^2 + 5 x_i)",
        source="Styblinski & Tang (1990), Neural Networks 3(4)",
    )


def _zakharov(x):
    s = jnp.sum(0.5 * jnp.arange(1, x.shape[-1] + 1, dtype=x.dtype) * x)
    return jnp.sum(x**2) + s**2 + s**4


@register("zakharov", min_dim=1, max_dim=None)
def zakharov(dim: int = 2) -> Surface:
    """f(x) = Σ xᵢ² + (Σ ½ i xᵢ)² + (Σ ½ i xᵢ)⁴: a plate-shaped valley, unimodal."""
    return _nd(
        "zakharov",
        _zakharov,
        dim,
        -5.0,
        10.0,
        0.0,
        0.0,
        formula=r"\sum_i x_i^2 + (\sum_i \frac{i}{2} x_i)^2 + (\sum_i \frac{i}{2} x_i)^4",
        source=SVL,
    )


def _dixon_price(x):
    i = jnp.arange(2, x.shape[-1] + 1, dtype=x.dtype)
    return (x[0] - 1.0) ** 2 + jnp.sum(i * (2.0 * x[1:] ** 2 - x[:-1]) ** 2)


def dixon_price_minimizers(dim: int) -> np.ndarray:
    """Both global minimizers: xᵢ = 2^{−(2ⁱ−2)/2ⁱ} = 2^{2^{1−i} − 1}, the last sign free."""
    x = 2.0 ** (2.0 ** (1.0 - np.arange(1, dim + 1)) - 1.0)
    flipped = x.copy()
    flipped[-1] = -flipped[-1]
    return np.stack([x, flipped]) if dim > 1 else x[None]


@register("dixon_price", min_dim=1, max_dim=None)
def dixon_price(dim: int = 2) -> Surface:
    """f(x) = (x₁ − 1)² + Σᵢ₌₂ᵈ i (2xᵢ² − xᵢ₋₁)²: two global minima (the last coordinate's sign)."""
    return _nd(
        "dixon_price",
        _dixon_price,
        dim,
        -10.0,
        10.0,
        dixon_price_minimizers(dim),
        0.0,
        formula=r"(x_1 - 1)^2 + \sum_{i=2}^d i (2 x_i^2 - x_{i-1})^2",
        source="Dixon & Price (1989), J. Optim. Theory Appl. 60(2)",
    )


def _schwefel(x):
    return SCHWEFEL_CONSTANT * x.shape[-1] - jnp.sum(x * jnp.sin(_safe_sqrt(jnp.abs(x))))


@register("schwefel", min_dim=1, max_dim=None)
def schwefel(dim: int = 2) -> Surface:
    """f(x) = 418.98288727243370628·d − Σ xᵢ sin√|xᵢ|: the best minimum far from the next best.

    f* = 0 is the minimum over the box [−500, 500]ᵈ; outside it f is unbounded below.
    """
    return _nd(
        "schwefel",
        _schwefel,
        dim,
        -500.0,
        500.0,
        SCHWEFEL_ARGMIN,
        0.0,
        formula=r"418.98288727243370628\,d - \sum_i x_i \sin\sqrt{|x_i|}",
        source="Schwefel (1981), Numerical Optimization of Computer Models",
        nondifferentiable_at="x_i = 0: f is C1 there but its second derivative is unbounded",
        f_min_note="minimum over the box; unbounded below outside it",
        singular=near_coordinate_plane,
        unbounded_below=True,
    )


def _quadratic(x, eigenvalues, center):
    return 0.5 * jnp.sum(eigenvalues * (x - center) ** 2)


def quadratic_eigenvalues(dim: int, condition_number: float) -> np.ndarray:
    """Hessian eigenvalues 1 … κ, log-spaced: μ = 1, L = κ."""
    return np.geomspace(1.0, condition_number, dim)


@register("quadratic", min_dim=1, max_dim=None)
def quadratic(dim: int = 2, condition_number: float = 10.0, center: Any = None) -> Surface:
    """f(x) = ½ (x − c)ᵀ A (x − c), A = diag(λ), λ log-spaced from 1 to κ (μ = 1, L = κ).

    `params["eigenvalues"]` and `params["center"]` are traced: changing κ does not recompile.
    Rotate it with `rotation_seed` (A becomes Rᵀ diag(λ) R).
    """
    kappa = condition_number
    number = isinstance(kappa, int | float) and not isinstance(kappa, bool)
    if not number or not 1 <= kappa < math.inf or (dim == 1 and kappa != 1):
        raise UserError(
            f"surface.condition_number={kappa!r} is invalid: must be a finite number >= 1 "
            "(exactly 1 when dim=1)"
        )
    c = np.zeros(dim) if center is None else vector("surface.center", center, dim)
    info = SurfaceInfo(
        formula=r"\frac{1}{2} (x - c)^T \mathrm{diag}(\lambda) (x - c),"
        r" \lambda_i = \kappa^{(i-1)/(d-1)}",
        source="Nesterov (2004), Introductory Lectures on Convex Optimization, §2.1",
    )
    params = {"eigenvalues": quadratic_eigenvalues(dim, float(kappa)), "center": c}
    config = {
        "dim": dim,
        "condition_number": kappa,
        "center": None if center is None else c.tolist(),
    }
    bounds = c[:, None] + box(-5.0, 5.0, dim)
    return Surface("quadratic", _quadratic, dim, bounds, c[None], 0.0, params, info, config)
