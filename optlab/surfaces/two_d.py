"""Two-dimensional catalog surfaces f(x, y). Reference values: GUIDE §5.

Every minimizer, f* and stationary point here is checked numerically in float64 by
tests/test_surfaces.py (value, gradient, Hessian signs, dense sampling, local solves).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from optlab.surfaces.base import Surface, SurfaceInfo, box
from optlab.surfaces.nd import MGH_START, SVL
from optlab.surfaces.registry import register

PI = math.pi
JAMIL_YANG = "Jamil & Yang (2013), Int. J. Math. Model. Numer. Optim. 4(2)"


def _plane(name, fn, bounds, minimizers, f_min, start=None, **info) -> Surface:
    info = SurfaceInfo(**info)
    return Surface(name, fn, 2, bounds, minimizers, f_min, info=info, config={}, start=start)


def _himmelblau(v):
    x, y = v[0], v[1]
    return (x**2 + y - 11.0) ** 2 + (x + y**2 - 7.0) ** 2


@register("himmelblau")
def himmelblau(dim: int = 2) -> Surface:
    """f(x, y) = (x² + y − 11)² + (x + y² − 7)²: four global minima, one local maximum."""
    minimizers = [
        [3.0, 2.0],
        [-2.805118086952745, 3.131312518250573],
        [-3.779310253377747, -3.283185991286170],
        [3.584428340330492, -1.848126526964404],
    ]
    stationary = (
        ("maximum", (-0.2708445906673476, -0.9230385564799816), 181.6165215225827),
        ("saddle", (0.08667750455539634, 2.884254701174776), 67.71915008752613),
        ("saddle", (-3.0730257507643897, -0.08135304428796751), 104.01516291755811),
        ("saddle", (3.385154183607021, 0.07385187983774928), 13.311926270405587),
        ("saddle", (-0.12796134673068005, -1.9537149802445766), 178.33723920192745),
    )
    return _plane(
        "himmelblau",
        _himmelblau,
        box(-5.0, 5.0, 2),
        minimizers,
        0.0,
        formula=r"(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        source="Himmelblau (1972), Applied Nonlinear Programming",
        stationary_points=stationary,
    )


def _beale(v):
    x, y = v[0], v[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


@register("beale")
def beale(dim: int = 2) -> Surface:
    """f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²: flat arms, sharp ridges."""
    return _plane(
        "beale",
        _beale,
        box(-4.5, 4.5, 2),
        [[3.0, 0.5]],
        0.0,
        formula=r"(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        source="Beale (1958), On an iterative method for finding a local minimum (Princeton)",
        start_source=MGH_START + ", problem 5",
        stationary_points=(("saddle", (0.0, 1.0), 14.203125),),
        start=(1.0, 1.0),
    )


def _booth(v):
    x, y = v[0], v[1]
    return (x + 2.0 * y - 7.0) ** 2 + (2.0 * x + y - 5.0) ** 2


@register("booth")
def booth(dim: int = 2) -> Surface:
    """f(x, y) = (x + 2y − 7)² + (2x + y − 5)²: a convex quadratic, minimum at (1, 3)."""
    return _plane(
        "booth",
        _booth,
        box(-10.0, 10.0, 2),
        [[1.0, 3.0]],
        0.0,
        formula=r"(x + 2y - 7)^2 + (2x + y - 5)^2",
        source=JAMIL_YANG,
    )


def _matyas(v):
    x, y = v[0], v[1]
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


@register("matyas")
def matyas(dim: int = 2) -> Surface:
    """f(x, y) = 0.26 (x² + y²) − 0.48 xy: a flat, ill-conditioned (κ = 25) convex quadratic."""
    return _plane(
        "matyas",
        _matyas,
        box(-10.0, 10.0, 2),
        [[0.0, 0.0]],
        0.0,
        formula=r"0.26 (x^2 + y^2) - 0.48 x y",
        source=JAMIL_YANG,
    )


def _three_hump_camel(v):
    x, y = v[0], v[1]
    return 2.0 * x**2 - 1.05 * x**4 + x**6 / 6.0 + x * y + y**2


@register("three_hump_camel")
def three_hump_camel(dim: int = 2) -> Surface:
    """f(x, y) = 2x² − 1.05x⁴ + x⁶/6 + xy + y²: one global and two local minima (the humps)."""
    x1, y1, f1 = 1.7475523458302893, -0.8737761729151446, 0.2986384422368604
    xs, ys, fs = 1.0705422918236598, -0.5352711459118299, 0.8773615577631402
    return _plane(
        "three_hump_camel",
        _three_hump_camel,
        box(-5.0, 5.0, 2),
        [[0.0, 0.0]],
        0.0,
        formula=r"2 x^2 - 1.05 x^4 + x^6 / 6 + x y + y^2",
        source=SVL,
        stationary_points=(
            ("local minimum", (x1, y1), f1),
            ("local minimum", (-x1, -y1), f1),
            ("saddle", (xs, ys), fs),
            ("saddle", (-xs, -ys), fs),
        ),
    )


def _six_hump_camel(v):
    x, y = v[0], v[1]
    return (4.0 - 2.1 * x**2 + x**4 / 3.0) * x**2 + x * y + (-4.0 + 4.0 * y**2) * y**2


@register("six_hump_camel")
def six_hump_camel(dim: int = 2) -> Surface:
    """f(x, y) = (4 − 2.1x² + x⁴/3) x² + xy + (−4 + 4y²) y²: two global minima among six."""
    xm, ym = 0.08984201310031806, -0.7126564030207396
    x2, y2, f2 = 1.7036067149699807, -0.7960835686726252, -0.21546382438371725
    x3, y3, f3 = 1.6071047529201974, 0.5686514548841314, 2.1042503103112584
    return _plane(
        "six_hump_camel",
        _six_hump_camel,
        np.array([[-3.0, 3.0], [-2.0, 2.0]]),
        [[xm, ym], [-xm, -ym]],
        -1.0316284534898774,
        formula=r"(4 - 2.1 x^2 + x^4 / 3) x^2 + x y + (-4 + 4 y^2) y^2",
        source="Dixon & Szegő (1978), Towards Global Optimisation 2",
        stationary_points=(
            ("local minimum", (x2, y2), f2),
            ("local minimum", (-x2, -y2), f2),
            ("local minimum", (x3, y3), f3),
            ("local minimum", (-x3, -y3), f3),
        ),
    )


def _goldstein_price(v):
    x, y = v[0], v[1]
    a = 1.0 + (x + y + 1.0) ** 2 * (
        19.0 - 14.0 * x + 3.0 * x**2 - 14.0 * y + 6.0 * x * y + 3.0 * y**2
    )
    b = 30.0 + (2.0 * x - 3.0 * y) ** 2 * (
        18.0 - 32.0 * x + 12.0 * x**2 + 48.0 * y - 36.0 * x * y + 27.0 * y**2
    )
    return a * b


@register("goldstein_price")
def goldstein_price(dim: int = 2) -> Surface:
    """f(x, y) = [1 + (x+y+1)²(19 − 14x + 3x² − 14y + 6xy + 3y²)]
    · [30 + (2x−3y)²(18 − 32x + 12x² + 48y − 36xy + 27y²)]: values spanning six decades.
    """
    return _plane(
        "goldstein_price",
        _goldstein_price,
        box(-2.0, 2.0, 2),
        [[0.0, -1.0]],
        3.0,
        formula=r"[1 + (x+y+1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2)]"
        r" [30 + (2x-3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2)]",
        source="Goldstein & Price (1971), Math. Comp. 25(115)",
        stationary_points=(
            ("local minimum", (-0.6, -0.4), 30.0),
            ("local minimum", (1.8, 0.2), 84.0),
            ("local minimum", (1.2, 0.8), 840.0),
        ),
    )


def _branin(v):
    x, y = v[0], v[1]
    b, c, t = 5.1 / (4.0 * PI**2), 5.0 / PI, 1.0 / (8.0 * PI)
    return (y - b * x**2 + c * x - 6.0) ** 2 + 10.0 * (1.0 - t) * jnp.cos(x) + 10.0


@register("branin")
def branin(dim: int = 2) -> Surface:
    """f(x, y) = (y − 5.1x²/4π² + 5x/π − 6)² + 10(1 − 1/8π) cos x + 10: three minima, f* = 5/4π."""
    return _plane(
        "branin",
        _branin,
        np.array([[-5.0, 10.0], [0.0, 15.0]]),
        [[-PI, 12.275], [PI, 2.275], [3.0 * PI, 2.475]],
        5.0 / (4.0 * PI),
        formula=r"(y - \frac{5.1}{4\pi^2} x^2 + \frac{5}{\pi} x - 6)^2"
        r" + 10 (1 - \frac{1}{8\pi}) \cos x + 10",
        source="Branin (1972), IBM J. Res. Dev. 16(5); constants of Dixon & Szegő (1978)",
        f_min_note="f* is global; the minimizers listed are those in the box (x = (2k+1)π recur)",
    )


def _mccormick(v):
    x, y = v[0], v[1]
    return jnp.sin(x + y) + (x - y) ** 2 - 1.5 * x + 2.5 * y + 1.0


@register("mccormick")
def mccormick(dim: int = 2) -> Surface:
    """f(x, y) = sin(x + y) + (x − y)² − 1.5x + 2.5y + 1; minimum (½ − π/3, −½ − π/3) in its box.

    f* = −√3/2 − π/3 is the minimum over the box; along x = y, f → −∞.
    """
    return _plane(
        "mccormick",
        _mccormick,
        np.array([[-1.5, 4.0], [-3.0, 4.0]]),
        [[0.5 - PI / 3.0, -0.5 - PI / 3.0]],
        -math.sqrt(3.0) / 2.0 - PI / 3.0,
        formula=r"\sin(x + y) + (x - y)^2 - 1.5 x + 2.5 y + 1",
        source="McCormick (1976), Math. Program. 10; box of Adorio (2005)",
        f_min_note="minimum over the box; unbounded below outside it",
        stationary_points=(
            ("saddle", (0.5 + PI / 3.0, -0.5 + PI / 3.0), math.sqrt(3.0) / 2.0 + PI / 3.0),
            (
                "local minimum",
                (0.5 + 2.0 * PI / 3.0, -0.5 + 2.0 * PI / 3.0),
                -math.sqrt(3.0) / 2.0 + 2.0 * PI / 3.0,
            ),
        ),
        unbounded_below=True,
    )


def _easom(v):
    x, y = v[0], v[1]
    return -jnp.cos(x) * jnp.cos(y) * jnp.exp(-((x - PI) ** 2) - (y - PI) ** 2)


@register("easom")
def easom(dim: int = 2) -> Surface:
    """f(x, y) = −cos x cos y exp(−(x − π)² − (y − π)²): a needle in a flat plain."""
    return _plane(
        "easom",
        _easom,
        box(-100.0, 100.0, 2),
        [[PI, PI]],
        -1.0,
        formula=r"-\cos x \cos y \, e^{-(x - \pi)^2 - (y - \pi)^2}",
        source="Easom (1990), A survey of global optimization techniques (U. Louisville)",
    )


def _levy13(v):
    x, y = v[0], v[1]
    s = lambda t: jnp.sin(t) ** 2  # noqa: E731
    return (
        s(3.0 * PI * x)
        + (x - 1.0) ** 2 * (1.0 + s(3.0 * PI * y))
        + (y - 1.0) ** 2 * (1.0 + s(2.0 * PI * y))
    )


@register("levy13")
def levy13(dim: int = 2) -> Surface:
    """f(x, y) = sin²3πx + (x − 1)²(1 + sin²3πy) + (y − 1)²(1 + sin²2πy): rugged, minimum (1, 1)."""
    return _plane(
        "levy13",
        _levy13,
        box(-10.0, 10.0, 2),
        [[1.0, 1.0]],
        0.0,
        formula=r"\sin^2(3\pi x) + (x-1)^2 (1 + \sin^2(3\pi y)) + (y-1)^2 (1 + \sin^2(2\pi y))",
        source="Levy & Montalvo (1985), SIAM J. Sci. Stat. Comput. 6(1); form N.13 of " + SVL,
    )


def _saddle(v):
    return v[0] ** 2 - v[1] ** 2


@register("saddle")
def saddle(dim: int = 2) -> Surface:
    """f(x, y) = x² − y²: no minimum (unbounded below); a saddle at 0, Hessian eigenvalues ±2."""
    return _plane(
        "saddle",
        _saddle,
        box(-2.0, 2.0, 2),
        np.zeros((0, 2)),
        None,
        formula=r"x^2 - y^2",
        source="the hyperbolic paraboloid (classical)",
        f_min_note="no minimum: unbounded below",
        stationary_points=(("saddle", (0.0, 0.0), 0.0),),
        unbounded_below=True,
    )


def _monkey_saddle(v):
    return v[0] ** 3 - 3.0 * v[0] * v[1] ** 2


@register("monkey_saddle")
def monkey_saddle(dim: int = 2) -> Surface:
    """f(x, y) = x³ − 3xy²: no minimum; a degenerate saddle at 0 (zero Hessian, three valleys)."""
    return _plane(
        "monkey_saddle",
        _monkey_saddle,
        box(-2.0, 2.0, 2),
        np.zeros((0, 2)),
        None,
        formula=r"x^3 - 3 x y^2",
        source="the monkey saddle (classical)",
        f_min_note="no minimum: unbounded below",
        stationary_points=(("degenerate saddle", (0.0, 0.0), 0.0),),
        unbounded_below=True,
    )
