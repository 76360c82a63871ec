"""Moré & Wild's 53 benchmark problems: the 22 Moré–Garbow–Hillstrom residual functions.

Each problem is f(x) = Σᵢ Fᵢ(x)² for a residual vector F: Rⁿ → Rᵐ (`Surface.residuals`),
started at x₀ = 10ˢ · xₛ, the standard start xₛ of the function. The rows of `PROBLEMS` are the
rows of `dfo.dat` in Moré & Wild (2009), "Benchmarking derivative-free optimization algorithms",
SIAM J. Optim. 20(1):172–191; functions 1–18 are those of Moré, Garbow & Hillstrom (1981),
"Testing unconstrained optimization software", ACM TOMS 7(1):17–41 (MGH below, numbered as
there: 32, 33, 34, 1, 7, 13, 2, 8, 15, 10, 20, 12, 6, 16, 35, 27, 17, 19), and 19–22 are the four
problems Moré & Wild added (Bdqrtic, Cube, Mancino, Heart8). Written from the definitions; f(x₀)
of every row agrees with the benchmark's published test output (tests/test_morewild.py).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optlab.errors import UserError
from optlab.surfaces.base import SumOfSquares, Surface, SurfaceInfo
from optlab.surfaces.registry import register

Array = jax.Array
MGH = "Moré, Garbow & Hillstrom (1981), ACM TOMS 7(1)"
MW = "Moré & Wild (2009), SIAM J. Optim. 20(1)"

# ---- data of the fitting problems (MGH's tables) ------------------------------------------------

BARD_Y = (0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39)
KOWALIK_Y = (0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323, 0.0235, 0.0246)
KOWALIK_U = (4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625)
MEYER_Y = (
    34780.0, 28610.0, 23650.0, 19630.0, 16370.0, 13720.0, 11540.0, 9744.0,
    8261.0, 7030.0, 6005.0, 5147.0, 4427.0, 3820.0, 3307.0, 2872.0,
)  # fmt: skip
OSBORNE1_Y = (
    0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784, 0.751,
    0.718, 0.685, 0.658, 0.628, 0.603, 0.580, 0.558, 0.538, 0.522, 0.506, 0.490,
    0.478, 0.467, 0.457, 0.448, 0.438, 0.431, 0.424, 0.420, 0.414, 0.411, 0.406,
)  # fmt: skip
OSBORNE2_Y = (
    1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725, 0.746,
    0.679, 0.608, 0.655, 0.616, 0.606, 0.602, 0.626, 0.651, 0.724, 0.649, 0.649,
    0.694, 0.644, 0.624, 0.661, 0.612, 0.558, 0.533, 0.495, 0.500, 0.423, 0.395,
    0.375, 0.372, 0.391, 0.396, 0.405, 0.428, 0.429, 0.523, 0.562, 0.607, 0.653,
    0.672, 0.708, 0.633, 0.668, 0.645, 0.632, 0.591, 0.559, 0.597, 0.625, 0.739,
    0.710, 0.729, 0.720, 0.636, 0.581, 0.428, 0.292, 0.162, 0.098, 0.054,
)  # fmt: skip


def _i(m: int, dtype) -> Array:
    """1, 2, …, m."""
    return jnp.arange(1, m + 1, dtype=dtype)


# ---- the 22 residual functions F(x) ∈ Rᵐ --------------------------------------------------------


def linear_full_rank(x: Array, m: int) -> Array:
    """Fᵢ = xᵢ − (2/m) Σⱼ xⱼ − 1 (i ≤ n), −(2/m) Σⱼ xⱼ − 1 (i > n)."""
    t = 2.0 * jnp.sum(x) / m + 1.0
    return jnp.zeros(m, x.dtype).at[: x.shape[0]].set(x) - t


def linear_rank_one(x: Array, m: int) -> Array:
    """Fᵢ = i Σⱼ j xⱼ − 1."""
    return _i(m, x.dtype) * jnp.sum(_i(x.shape[0], x.dtype) * x) - 1.0


def linear_rank_one_zero(x: Array, m: int) -> Array:
    """Fᵢ = (i − 1) Σⱼ₌₂ⁿ⁻¹ j xⱼ − 1 for i < m, F₁ = F_m = −1."""
    n = x.shape[0]
    s = jnp.sum(_i(n, x.dtype)[1:-1] * x[1:-1])
    i = _i(m, x.dtype)
    return jnp.where(i < m, (i - 1.0) * s - 1.0, -1.0)


def rosenbrock(x: Array, m: int) -> Array:
    """F = (10 (x₂ − x₁²), 1 − x₁)."""
    return jnp.stack([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]])


def _safe_norm(a: Array, b: Array) -> Array:
    """√(a² + b²) with a finite (zero) derivative at the origin."""
    r2 = a**2 + b**2
    pos = r2 > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, r2, 1.0)), 0.0)


def helical_valley(x: Array, m: int) -> Array:
    """F = (10 (x₃ − 10θ), 10 (r − 1), x₃), r = ‖(x₁, x₂)‖, 2πθ = arctan(x₂/x₁) (+π if x₁ < 0).

    θ = 1/4 at x₁ = 0, where θ jumps (MGH's definition): f is discontinuous on that plane.
    """
    x1, x2, x3 = x[0], x[1], x[2]
    safe = jnp.where(x1 == 0, 1.0, x1)
    theta = jnp.arctan(x2 / safe) / (2.0 * jnp.pi) + jnp.where(x1 < 0, 0.5, 0.0)
    theta = jnp.where(x1 == 0, 0.25, theta)
    return jnp.stack([10.0 * (x3 - 10.0 * theta), 10.0 * (_safe_norm(x1, x2) - 1.0), x3])


def powell_singular(x: Array, m: int) -> Array:
    """F = (x₁ + 10x₂, √5 (x₃ − x₄), (x₂ − 2x₃)², √10 (x₁ − x₄)²)."""
    return jnp.stack(
        [
            x[0] + 10.0 * x[1],
            math.sqrt(5.0) * (x[2] - x[3]),
            (x[1] - 2.0 * x[2]) ** 2,
            math.sqrt(10.0) * (x[0] - x[3]) ** 2,
        ]
    )


def freudenstein_roth(x: Array, m: int) -> Array:
    """F = (−13 + x₁ + ((5 − x₂) x₂ − 2) x₂, −29 + x₁ + ((x₂ + 1) x₂ − 14) x₂)."""
    x1, x2 = x[0], x[1]
    return jnp.stack(
        [-13.0 + x1 + ((5.0 - x2) * x2 - 2.0) * x2, -29.0 + x1 + ((x2 + 1.0) * x2 - 14.0) * x2]
    )


def bard(x: Array, m: int) -> Array:
    """Fᵢ = yᵢ − (x₁ + uᵢ / (vᵢ x₂ + wᵢ x₃)), uᵢ = i, vᵢ = 16 − i, wᵢ = min(uᵢ, vᵢ)."""
    u = _i(15, x.dtype)
    v = 16.0 - u
    w = jnp.minimum(u, v)
    return jnp.asarray(BARD_Y, x.dtype) - (x[0] + u / (v * x[1] + w * x[2]))


def kowalik_osborne(x: Array, m: int) -> Array:
    """Fᵢ = yᵢ − x₁ (uᵢ² + uᵢ x₂) / (uᵢ² + uᵢ x₃ + x₄)."""
    u = jnp.asarray(KOWALIK_U, x.dtype)
    y = jnp.asarray(KOWALIK_Y, x.dtype)
    return y - x[0] * u * (u + x[1]) / (u * (u + x[2]) + x[3])


def meyer(x: Array, m: int) -> Array:
    """Fᵢ = x₁ exp(x₂ / (tᵢ + x₃)) − yᵢ, tᵢ = 45 + 5i."""
    t = 45.0 + 5.0 * _i(16, x.dtype)
    return x[0] * jnp.exp(x[1] / (t + x[2])) - jnp.asarray(MEYER_Y, x.dtype)


def watson(x: Array, m: int) -> Array:
    """Fᵢ = Σⱼ₌₂ⁿ (j−1) xⱼ tᵢʲ⁻² − (Σⱼ₌₁ⁿ xⱼ tᵢʲ⁻¹)² − 1, tᵢ = i/29 (i ≤ 29); F₃₀ = x₁, F₃₁ = x₂ − x₁² − 1."""
    n = x.shape[0]
    t = _i(29, x.dtype) / 29.0
    powers = t[:, None] ** jnp.arange(n, dtype=x.dtype)  # (29, n): tᵢʲ⁻¹
    s1 = powers[:, : n - 1] @ (jnp.arange(1, n, dtype=x.dtype) * x[1:])
    s2 = powers @ x
    return jnp.concatenate([s1 - s2**2 - 1.0, jnp.stack([x[0], x[1] - x[0] ** 2 - 1.0])])


def box_3d(x: Array, m: int) -> Array:
    """Fᵢ = e^{−tᵢx₁} − e^{−tᵢx₂} − x₃ (e^{−tᵢ} − e^{−10tᵢ}), tᵢ = i/10."""
    t = _i(m, x.dtype) / 10.0
    return jnp.exp(-t * x[0]) - jnp.exp(-t * x[1]) - x[2] * (jnp.exp(-t) - jnp.exp(-10.0 * t))


def jennrich_sampson(x: Array, m: int) -> Array:
    """Fᵢ = 2 + 2i − (e^{i x₁} + e^{i x₂})."""
    i = _i(m, x.dtype)
    return 2.0 + 2.0 * i - (jnp.exp(i * x[0]) + jnp.exp(i * x[1]))


def brown_dennis(x: Array, m: int) -> Array:
    """Fᵢ = (x₁ + tᵢx₂ − e^{tᵢ})² + (x₃ + x₄ sin tᵢ − cos tᵢ)², tᵢ = i/5."""
    t = _i(m, x.dtype) / 5.0
    return (x[0] + t * x[1] - jnp.exp(t)) ** 2 + (x[2] + x[3] * jnp.sin(t) - jnp.cos(t)) ** 2


def chebyquad(x: Array, m: int) -> Array:
    """Fᵢ = (1/n) Σⱼ Tᵢ(2xⱼ − 1) − ∫₀¹ Tᵢ(2t − 1) dt, Tᵢ the Chebyshev polynomials (∫ = −1/(i²−1), i even)."""
    y = 2.0 * x - 1.0
    previous, current, rows = jnp.ones_like(y), y, []
    for i in range(1, m + 1):
        integral = -1.0 / (i**2 - 1.0) if i % 2 == 0 else 0.0
        rows.append(jnp.mean(current) - integral)
        previous, current = current, 2.0 * y * current - previous
    return jnp.stack(rows)


def brown_almost_linear(x: Array, m: int) -> Array:
    """Fᵢ = xᵢ + Σⱼ xⱼ − (n + 1) (i < n), Fₙ = Πⱼ xⱼ − 1."""
    n = x.shape[0]
    return jnp.concatenate([x[:-1] + jnp.sum(x) - (n + 1.0), jnp.prod(x)[None] - 1.0])


def osborne1(x: Array, m: int) -> Array:
    """Fᵢ = yᵢ − (x₁ + x₂ e^{−tᵢx₄} + x₃ e^{−tᵢx₅}), tᵢ = 10 (i − 1)."""
    t = 10.0 * jnp.arange(33, dtype=x.dtype)
    model = x[0] + x[1] * jnp.exp(-t * x[3]) + x[2] * jnp.exp(-t * x[4])
    return jnp.asarray(OSBORNE1_Y, x.dtype) - model


def osborne2(x: Array, m: int) -> Array:
    """Fᵢ = yᵢ − (x₁ e^{−tᵢx₅} + Σₖ₌₂⁴ xₖ e^{−x₄₊ₖ (tᵢ − x₇₊ₖ)²}), tᵢ = (i − 1)/10."""
    t = jnp.arange(65, dtype=x.dtype) / 10.0
    bumps = x[1:4] * jnp.exp(-x[5:8] * (t[:, None] - x[8:11]) ** 2)
    return jnp.asarray(OSBORNE2_Y, x.dtype) - (x[0] * jnp.exp(-t * x[4]) + jnp.sum(bumps, axis=1))


def bdqrtic(x: Array, m: int) -> Array:
    """Fᵢ = 3 − 4xᵢ, Fₙ₋₄₊ᵢ = xᵢ² + 2xᵢ₊₁² + 3xᵢ₊₂² + 4xᵢ₊₃² + 5xₙ² (i = 1…n−4)."""
    n, sq = x.shape[0], x**2
    k = n - 4
    quartic = (
        sq[:k] + 2.0 * sq[1 : k + 1] + 3.0 * sq[2 : k + 2] + 4.0 * sq[3 : k + 3] + 5.0 * sq[-1]
    )
    return jnp.concatenate([3.0 - 4.0 * x[:k], quartic])


def cube(x: Array, m: int) -> Array:
    """F₁ = x₁ − 1, Fᵢ = 10 (xᵢ − xᵢ₋₁³)."""
    return jnp.concatenate([x[:1] - 1.0, 10.0 * (x[1:] - x[:-1] ** 3)])


def _mancino_sum(x: Array) -> Array:
    """Σⱼ vᵢⱼ (sin⁵ log vᵢⱼ + cos⁵ log vᵢⱼ), vᵢⱼ = √(xᵢ² + i/j)."""
    i = _i(x.shape[0], x.dtype)
    v = jnp.sqrt(x[:, None] ** 2 + i[:, None] / i[None, :])
    lv = jnp.log(v)
    return jnp.sum(v * (jnp.sin(lv) ** 5 + jnp.cos(lv) ** 5), axis=1)


def mancino(x: Array, m: int) -> Array:
    """Fᵢ = 1400 xᵢ + (i − 50)³ + Σⱼ vᵢⱼ (sin⁵ log vᵢⱼ + cos⁵ log vᵢⱼ), vᵢⱼ = √(xᵢ² + i/j)."""
    i = _i(x.shape[0], x.dtype)
    return 1400.0 * x + (i - 50.0) ** 3 + _mancino_sum(x)


def heart8(x: Array, m: int) -> Array:
    """The 8 equations of the heart dipole problem (Dennis, Gay & Vu 1985), as in Moré & Wild."""
    a, b, c, d, t, u, v, w = (x[k] for k in range(8))
    return jnp.stack(
        [
            a + b + 0.69,
            c + d + 0.044,
            t * a + u * b - v * c - w * d + 1.57,
            v * a + w * b + t * c + u * d + 1.31,
            a * (t**2 - v**2) - 2.0 * c * t * v + b * (u**2 - w**2) - 2.0 * d * u * w + 2.65,
            c * (t**2 - v**2) + 2.0 * a * t * v + d * (u**2 - w**2) + 2.0 * b * u * w - 2.0,
            a * t * (t**2 - 3.0 * v**2)
            + c * v * (v**2 - 3.0 * t**2)
            + b * u * (u**2 - 3.0 * w**2)
            + d * w * (w**2 - 3.0 * u**2)
            + 12.6,
            c * t * (t**2 - 3.0 * v**2)
            - a * v * (v**2 - 3.0 * t**2)
            + d * u * (u**2 - 3.0 * w**2)
            - b * w * (w**2 - 3.0 * u**2)
            - 9.48,
        ]
    )


# ---- standard starts xₛ -------------------------------------------------------------------------


def _mancino_start(n: int) -> np.ndarray:
    """xₛ,ᵢ = −8.710996·10⁻⁴ ((i − 50)³ + Σⱼ √(i/j) (sin⁵ log √(i/j) + cos⁵ log √(i/j)))."""
    i = np.arange(1, n + 1, dtype=float)
    v = np.sqrt(i[:, None] / i[None, :])
    s = np.sum(v * (np.sin(np.log(v)) ** 5 + np.cos(np.log(v)) ** 5), axis=1)
    return -8.710996e-4 * ((i - 50.0) ** 3 + s)


def _fixed(*values: float) -> Callable[[int], np.ndarray]:
    return lambda n: np.array(values, dtype=float)


def _constant(value: float) -> Callable[[int], np.ndarray]:
    return lambda n: np.full(n, value)


@dataclasses.dataclass(frozen=True)
class Function:
    """One of the 22 residual functions: its name, F, standard start xₛ(n) and source."""

    name: str
    residual: Callable[[Array, int], Array]
    start: Callable[[int], np.ndarray]
    source: str


FUNCTIONS: dict[int, Function] = {
    1: Function("linear function - full rank", linear_full_rank, _constant(1.0), f"{MGH}, no. 32"),
    2: Function("linear function - rank 1", linear_rank_one, _constant(1.0), f"{MGH}, no. 33"),
    3: Function(
        "linear function - rank 1 with zero columns and rows",
        linear_rank_one_zero,
        _constant(1.0),
        f"{MGH}, no. 34",
    ),
    4: Function("Rosenbrock", rosenbrock, _fixed(-1.2, 1.0), f"{MGH}, no. 1"),
    5: Function("helical valley", helical_valley, _fixed(-1.0, 0.0, 0.0), f"{MGH}, no. 7"),
    6: Function("Powell singular", powell_singular, _fixed(3.0, -1.0, 0.0, 1.0), f"{MGH}, no. 13"),
    7: Function("Freudenstein and Roth", freudenstein_roth, _fixed(0.5, -2.0), f"{MGH}, no. 2"),
    8: Function("Bard", bard, _constant(1.0), f"{MGH}, no. 8"),
    9: Function(
        "Kowalik and Osborne",
        kowalik_osborne,
        _fixed(0.25, 0.39, 0.415, 0.39),
        f"{MGH}, no. 15",
    ),
    10: Function("Meyer", meyer, _fixed(0.02, 4000.0, 250.0), f"{MGH}, no. 10"),
    11: Function("Watson", watson, _constant(0.5), f"{MGH}, no. 20"),
    12: Function("Box three-dimensional", box_3d, _fixed(0.0, 10.0, 20.0), f"{MGH}, no. 12"),
    13: Function("Jennrich and Sampson", jennrich_sampson, _fixed(0.3, 0.4), f"{MGH}, no. 6"),
    14: Function("Brown and Dennis", brown_dennis, _fixed(25.0, 5.0, -5.0, -1.0), f"{MGH}, no. 16"),
    15: Function(
        "Chebyquad",
        chebyquad,
        lambda n: np.arange(1, n + 1) / (n + 1.0),
        f"{MGH}, no. 35",
    ),
    16: Function("Brown almost-linear", brown_almost_linear, _constant(0.5), f"{MGH}, no. 27"),
    17: Function("Osborne 1", osborne1, _fixed(0.5, 1.5, 1.0, 0.01, 0.02), f"{MGH}, no. 17"),
    18: Function(
        "Osborne 2",
        osborne2,
        _fixed(1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5),
        f"{MGH}, no. 19",
    ),
    19: Function(
        "Bdqrtic", bdqrtic, _constant(1.0), f"{MW}; Conn, Gould, Lescrenier & Toint (1994)"
    ),
    20: Function("Cube", cube, _constant(0.5), f"{MW}; Leon (1966)"),
    21: Function("Mancino", mancino, _mancino_start, f"{MW}; Spedicato (1975)"),
    22: Function(
        "Heart8",
        heart8,
        _fixed(-0.3, -0.39, 0.3, -0.344, -1.2, 2.69, 1.59, -1.5),
        f"{MW}; Dennis, Gay & Vu (1985)",
    ),
}

# ---- the 53 problems: Moré & Wild's dfo.dat (function, n, m, s) ---------------------------------

PROBLEMS: tuple[tuple[int, int, int, int], ...] = (
    (1, 9, 45, 0), (1, 9, 45, 1), (2, 7, 35, 0), (2, 7, 35, 1), (3, 7, 35, 0), (3, 7, 35, 1),
    (4, 2, 2, 0), (4, 2, 2, 1), (5, 3, 3, 0), (5, 3, 3, 1), (6, 4, 4, 0), (6, 4, 4, 1),
    (7, 2, 2, 0), (7, 2, 2, 1), (8, 3, 15, 0), (8, 3, 15, 1), (9, 4, 11, 0), (10, 3, 16, 0),
    (11, 6, 31, 0), (11, 6, 31, 1), (11, 9, 31, 0), (11, 9, 31, 1), (11, 12, 31, 0),
    (11, 12, 31, 1), (12, 3, 10, 0), (13, 2, 10, 0), (14, 4, 20, 0), (14, 4, 20, 1),
    (15, 6, 6, 0), (15, 7, 7, 0), (15, 8, 8, 0), (15, 9, 9, 0), (15, 10, 10, 0), (15, 11, 11, 0),
    (16, 10, 10, 0), (17, 5, 33, 0), (18, 11, 65, 0), (18, 11, 65, 1), (19, 8, 8, 0),
    (19, 10, 12, 0), (19, 11, 14, 0), (19, 12, 16, 0), (20, 5, 5, 0), (20, 6, 6, 0),
    (20, 8, 8, 0), (21, 5, 5, 0), (21, 5, 5, 1), (21, 8, 8, 0), (21, 10, 10, 0),
    (21, 12, 12, 0), (21, 12, 12, 1), (22, 8, 8, 0), (22, 8, 8, 1),
)  # fmt: skip
COUNT = len(PROBLEMS)

# ---- optima -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Optimum:
    """f* of a (function, n, m): our float64 value, the published digits and where they are."""

    f_min: float | None  # None: no published optimum (`note` says why)
    published: str  # the value as printed in the source ("" where none)
    source: str
    note: str = ""
    minimizers: tuple[tuple[float, ...], ...] = ()  # exact minimizers where the source gives them


def _mgh(no: int, published: str, value: float, note: str = "", x=()) -> Optimum:
    return Optimum(value, published, f"{MGH}, no. {no}", note, tuple(map(tuple, x)))


def optimum(nprob: int, n: int, m: int) -> Optimum:
    """The optimum of function `nprob` at (n, m), from MGH (1981) §3, checked by a float64 solve.

    Values with 15 digits are our float64 solves (scipy Levenberg–Marquardt, then Newton's
    method with a trust region, from the standard starts); each agrees with every digit MGH print.
    """
    ones = (1.0,) * n
    if nprob == 1:
        return _mgh(32, "m − n", float(m - n), x=[(-1.0,) * n])
    if nprob == 2:
        v = m * (m - 1) / (2.0 * (2 * m + 1))
        return _mgh(33, "m(m − 1)/(2(2m + 1))", v, "minimal on the hyperplane Σ j xⱼ = 3/(2m + 1)")
    if nprob == 3:
        v = (m**2 + 3 * m - 6) / (2.0 * (2 * m - 3))
        return _mgh(
            34,
            "(m² + 3m − 6)/(2(2m − 3))",
            v,
            "minimal on the hyperplane Σⱼ₌₂ⁿ⁻¹ j xⱼ = 3/(2m − 3)",
        )
    if nprob == 4:
        return _mgh(1, "0 at (1, 1)", 0.0, x=[(1.0, 1.0)])
    if nprob == 5:
        return _mgh(7, "0 at (1, 0, 0)", 0.0, x=[(1.0, 0.0, 0.0)])
    if nprob == 6:
        return _mgh(13, "0 at the origin", 0.0, "the Hessian is singular at x*", x=[(0.0,) * 4])
    if nprob == 7:
        local = "also f = 48.9842… at (11.41…, −0.8968…), a local minimum (48.98425367924 here)"
        return _mgh(2, "0 at (5, 4)", 0.0, local, x=[(5.0, 4.0)])
    if nprob == 8:
        local = "also f = 17.4286… at (0.8406…, −∞, −∞) (17.4286933333333 here)"
        return _mgh(8, "8.21487…·10⁻³", 8.21487730657897e-3, local)
    if nprob == 9:
        local = "also f = 1.02734…·10⁻³ at (+∞, −14.07…, −∞, −∞)"
        return _mgh(15, "3.07505…·10⁻⁴", 3.07505603849238e-4, local)
    if nprob == 10:
        note = "the variables differ by six orders of magnitude (x* ≈ (0.0056, 6181, 345))"
        return _mgh(10, "87.9458…", 87.9458551706675, note)
    if nprob == 11:
        watson = {
            6: ("2.28767…·10⁻³", 2.28767005355235e-3),
            9: ("1.39976…·10⁻⁶", 1.39976013808481e-6),
        }
        watson[12] = ("4.72238…·10⁻¹⁰", 4.72238109992527e-10)
        if n not in watson:
            return Optimum(
                None, "", f"{MGH}, no. 20", f"MGH give f* for n = 6, 9, 12, 20 only, not {n}"
            )
        text, value = watson[n]
        return _mgh(20, text, value)
    if nprob == 12:
        note = "also 0 at (10, 1, −1) and wherever x₁ = x₂, x₃ = 0"
        return _mgh(12, "0 at (1, 10, 1)", 0.0, note, x=[(1.0, 10.0, 1.0), (10.0, 1.0, -1.0)])
    if nprob == 13:
        if m != 10:
            return Optimum(None, "", f"{MGH}, no. 6", f"MGH give f* for m = 10 only, not {m}")
        return _mgh(6, "124.362… at x₁ = x₂ = 0.2578… (m = 10)", 124.362182355615)
    if nprob == 14:
        if m != 20:
            return Optimum(None, "", f"{MGH}, no. 16", f"MGH give f* for m = 20 only, not {m}")
        return _mgh(16, "85822.2… (m = 20)", 85822.2016263563)
    if nprob == 15:
        chebyquad = {
            8: ("3.51687…·10⁻³", 3.51687372567793e-3),
            10: ("6.50395…·10⁻³", 6.50395480088231e-3),
        }
        if m == n and (n <= 7 or n == 9):
            return _mgh(35, "0 (m = n ≤ 7 and m = n = 9)", 0.0)
        if m == n and n in chebyquad:
            return _mgh(35, *chebyquad[n])
        note = f"MGH give f* for m = n ≤ 7, 8, 9, 10 only, not n = {n}, m = {m}" + (
            " (our float64 solve from the start reaches 2.79976155186576e-3)"
            if n == m == 11
            else ""
        )
        return Optimum(None, "", f"{MGH}, no. 35", note)
    if nprob == 16:
        note = "also 0 at (α, …, α, α¹⁻ⁿ), nαⁿ − (n + 1)αⁿ⁻¹ + 1 = 0; f = 1 at (0, …, 0, n + 1)"
        return _mgh(27, "0 at (1, …, 1)", 0.0, note, x=[ones])
    if nprob == 17:
        return _mgh(17, "5.46489…·10⁻⁵", 5.46489469748273e-5)
    if nprob == 18:
        note = "from 10·xₛ the solves stop at the stationary value 1.78981358688109 instead"
        return _mgh(19, "4.01377…·10⁻²", 4.01377362935477e-2, note)
    if nprob == 19:
        ours = {
            8: 10.2389734213174,
            10: 18.2811617535935,
            11: 22.2605917348838,
            12: 26.272766396794,
        }
        note = (
            f"not in MGH (a CUTE problem); our float64 solve from the start reaches {ours.get(n)}"
        )
        return Optimum(None, "", FUNCTIONS[19].source, note)
    if nprob == 20:
        note = "not in MGH; exact: F(1, …, 1) = 0 and f ≥ 0"
        return Optimum(0.0, "0 at (1, …, 1)", FUNCTIONS[20].source, note, (ones,))
    if nprob in (21, 22):
        note = (
            "not in MGH; F has a zero (a system of equations): our float64 solve from the start "
            "reaches f < 10⁻²¹, and f ≥ 0"
        )
        return Optimum(0.0, "0 (a zero of F)", FUNCTIONS[nprob].source, note)
    raise ValueError(f"no function {nprob}")


# ---- the surface --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Residuals:
    """F of function `nprob` with m residuals, as a hashable callable x ↦ F(x) ∈ Rᵐ."""

    nprob: int
    m: int

    def __call__(self, x: Array) -> Array:
        return FUNCTIONS[self.nprob].residual(x, self.m)


def start(problem: int) -> np.ndarray:
    """x₀ = 10ˢ · xₛ of row `problem` (1–53) of dfo.dat."""
    nprob, n, _, s = PROBLEMS[problem - 1]
    return 10.0**s * FUNCTIONS[nprob].start(n)


def bounds(x0: np.ndarray, minimizers: np.ndarray) -> np.ndarray:
    """A box for pictures and random starts: x₀ᵢ ± max(1, |x₀ᵢ|), widened to hold every listed
    minimizer ± 1 (the start and the answer are both in view; so is the unscaled start 10⁻ˢ x₀)."""
    half = np.maximum(1.0, np.abs(x0))
    lo, hi = x0 - half, x0 + half
    if len(minimizers):
        lo = np.minimum(lo, minimizers.min(axis=0) - 1.0)
        hi = np.maximum(hi, minimizers.max(axis=0) + 1.0)
    return np.stack([lo, hi], axis=1)


def _problem(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= COUNT:
        raise UserError(
            f"surface.problem={value!r} is invalid: must be an integer from 1 to {COUNT} "
            "(a row of Moré & Wild's dfo.dat)"
        )
    return value


@register("morewild", min_dim=2, max_dim=12)
def morewild(problem: int = 1) -> Surface:
    """Problem `problem` (1–53) of Moré & Wild (2009): f(x) = Σᵢ Fᵢ(x)², started at 10ˢ · xₛ."""
    problem = _problem(problem)
    nprob, n, m, s = PROBLEMS[problem - 1]
    fn, opt = FUNCTIONS[nprob], optimum(nprob, n, m)
    x0 = start(problem)
    minimizers = np.asarray(opt.minimizers, dtype=float).reshape(-1, n)
    scale = "" if s == 0 else f", start 10·xₛ (s = {s})"
    note = "; ".join(t for t in (f"f* = {opt.published}" if opt.published else "", opt.note) if t)
    info = SurfaceInfo(
        formula=rf"\sum_{{i=1}}^{{{m}}} F_i(x)^2",
        source=f"{MW}, problem {problem} (function {nprob}, n = {n}, m = {m}{scale}); f*: {opt.source}",
        f_min_note=note,
        name=fn.name,
        m=m,
        start_source=f"{fn.source} (standard start xₛ); {MW} (10ˢ · xₛ)",
    )
    return Surface(
        "morewild",
        SumOfSquares(Residuals(nprob, m)),
        n,
        bounds(x0, minimizers),
        minimizers,
        opt.f_min,
        info=info,
        config={"problem": problem},
        start=x0,
    )
