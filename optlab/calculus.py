"""Calculus of a surface, as a student writes it: partials, gradient, directional derivatives,
Hessian, Clairaut symmetry, stationary points and a finite-difference check.

Every function takes `f` (a surface or any JAX function R^d -> R) and a point `x` of shape (d,);
each is compiled once per `f` (a surface's numeric parameters are traced, so they never recompile).

Example:
  >>> import jax.numpy as jnp
  >>> from optlab import calculus, surfaces
  >>> f, x = surfaces.get("sphere"), jnp.array([1.0, 1.0])
  >>> calculus.gradient(f, x)                               # (2, 2)
  >>> calculus.directional_derivative(f, x, [1.0, 1.0])     # |∇f| = 2√2 along the gradient
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optlab.errors import UserError
from optlab.surfaces.base import Surface

Function = Callable[[jax.Array], jax.Array]
STATIONARY_TYPES = ("minimum", "maximum", "saddle", "degenerate", "not_stationary")


def tolerance(dtype: Any, power: float = 1 / 2) -> float:
    """ε^power of `dtype`: √ε (1.5e-8 in float64) is the relative size below which rounding hides
    a difference; ε^(1/3) balances truncation and rounding in central differences."""
    return float(np.finfo(dtype).eps) ** power


def _compiled(fn: Callable) -> Callable:
    """`fn(f, x, ...)` under `jax.jit`: a Surface goes in as a pytree, any other f as a static
    `jax.tree_util.Partial`, so the compiled program is reused for every call with the same f."""
    jitted = jax.jit(fn)

    @functools.wraps(fn)
    def call(f: Function, *args: Any, **kwargs: Any) -> Any:
        return jitted(f if isinstance(f, Surface) else jax.tree_util.Partial(f), *args, **kwargs)

    return call


def _basis(x: jax.Array, i: int) -> jax.Array:
    return jnp.zeros_like(x).at[i].set(1)


@_compiled
def partial(f: Function, x: Any, i: int) -> jax.Array:
    """∂f/∂xᵢ(x) = lim_{h→0} [f(x + h eᵢ) − f(x)] / h: the slope of the slice through x along xᵢ.

    Computed forward-mode: the directional derivative along the unit vector eᵢ, `jvp(f, x, eᵢ)`.
    """
    x = jnp.asarray(x)
    return jax.jvp(f, (x,), (_basis(x, i),))[1]


@_compiled
def gradient(f: Function, x: Any) -> jax.Array:
    """∇f(x) = (∂f/∂x₁, …, ∂f/∂x_d): the direction of steepest ascent, of length the steepest slope."""
    return jax.grad(f)(jnp.asarray(x))


def unit(u: Any) -> jax.Array:
    """u / ‖u‖; a zero or non-finite direction is a `UserError` (it has no direction)."""
    arr = np.asarray(u, dtype=float)
    norm = float(np.linalg.norm(arr))
    if not np.all(np.isfinite(arr)) or norm == 0:
        raise UserError(f"direction={arr.tolist()!r} is invalid: must be finite and non-zero")
    return jnp.asarray(arr / norm)


def directional_derivative(f: Function, x: Any, u: Any) -> jax.Array:
    """D_u f(x) = ∇f(x)·u/‖u‖ = d/dt f(x + t u/‖u‖) at t = 0, via `jax.jvp` (no gradient formed).

    Along the gradient it is ‖∇f‖ (steepest ascent), against it −‖∇f‖, perpendicular to it 0.
    """
    x = jnp.asarray(x)
    return _slope(f, x, unit(u).astype(x.dtype))


@_compiled
def _slope(f: Function, x: jax.Array, u: jax.Array) -> jax.Array:
    return jax.jvp(f, (x,), (u,))[1]


@_compiled
def hessian(f: Function, x: Any) -> jax.Array:
    """H(x)ᵢⱼ = ∂²f/∂xⱼ∂xᵢ, via `jax.hessian` (forward-over-reverse: jacfwd(jacrev(f)))."""
    return jax.hessian(f)(jnp.asarray(x))


@_compiled
def hvp(f: Function, x: Any, v: Any) -> jax.Array:
    """H(x) v = d/dt ∇f(x + t v) at t = 0: forward-over-reverse `jvp(grad f)`, no Hessian formed."""
    x = jnp.asarray(x)
    return jax.jvp(jax.grad(f), (x,), (jnp.asarray(v, x.dtype),))[1]


def _grad_of_partial(f: Function, i: Any) -> Function:
    """x ↦ ∇(∂f/∂xᵢ)(x): the gradient of the i-th partial derivative (nested `jax.grad`)."""
    return jax.grad(lambda y: jax.grad(f)(y)[i])


@_compiled
def mixed_partial(f: Function, x: Any, i: int, j: int) -> jax.Array:
    """∂²f/∂xⱼ∂xᵢ = ∂/∂xⱼ (∂f/∂xᵢ)(x): differentiate f in xᵢ, then that partial in xⱼ."""
    return _grad_of_partial(f, i)(jnp.asarray(x))[j]


@_compiled
def mixed_partials(f: Function, x: Any) -> jax.Array:
    """M with Mᵢⱼ = ∂/∂xⱼ (∂f/∂xᵢ): row i is the gradient of the function ∂f/∂xᵢ (nested `jax.grad`).

    Mᵢⱼ and Mⱼᵢ are the two orders of differentiation, each computed by its own reverse pass,
    so comparing M with Mᵀ tests Clairaut's theorem (∂²f/∂xⱼ∂xᵢ = ∂²f/∂xᵢ∂xⱼ for C² functions).
    """
    x = jnp.asarray(x)
    return jax.vmap(lambda i: _grad_of_partial(f, i)(x))(jnp.arange(x.shape[0]))


@jax.jit
def asymmetry(H: Any) -> jax.Array:
    """max |H − Hᵀ| / max |H| (0 for H = 0): how far the two orders of differentiation disagree."""
    H = jnp.asarray(H)
    scale = jnp.max(jnp.abs(H))
    return jnp.max(jnp.abs(H - H.T)) / jnp.where(scale > 0, scale, 1)


def clairaut_holds(H: Any, tol: float | None = None) -> bool:
    """True when `asymmetry(H)` ≤ tol (default √ε of H's dtype): the mixed partials agree."""
    H = jnp.asarray(H)
    return bool(asymmetry(H) <= (tolerance(H.dtype) if tol is None else tol))


def classify(x, value, grad, H, gtol: float | None = None, etol: float | None = None):
    """Index into STATIONARY_TYPES of the point x with f(x) = value, ∇f = grad, Hessian H
    (−1 when a derivative is not finite: no classification). Jittable; see `classify_stationary`."""
    dtype = jnp.asarray(x).dtype
    gtol = tolerance(dtype, 1 / 3) if gtol is None else gtol
    etol = tolerance(dtype) if etol is None else etol
    scale = jnp.maximum(jnp.abs(x), 1) / jnp.maximum(jnp.abs(value), 1)
    stationary = jnp.max(jnp.abs(grad) * scale) <= gtol
    lam = jnp.linalg.eigvalsh(H)
    zero = etol * jnp.max(jnp.abs(lam))
    pos, neg, flat = jnp.any(lam > zero), jnp.any(lam < -zero), jnp.any(jnp.abs(lam) <= zero)
    index = STATIONARY_TYPES.index
    curvature = jnp.where(
        pos & neg,
        index("saddle"),
        jnp.where(flat, index("degenerate"), jnp.where(pos, index("minimum"), index("maximum"))),
    )
    code = jnp.where(stationary, curvature, index("not_stationary"))
    finite = jnp.isfinite(value) & jnp.all(jnp.isfinite(grad)) & jnp.all(jnp.isfinite(H))
    return jnp.where(finite, code, -1)


def type_name(code: int) -> str | None:
    """The STATIONARY_TYPES name of a `classify` code (None for −1: not differentiable)."""
    return None if code < 0 else STATIONARY_TYPES[code]


def classify_stationary(f: Function, x: Any, gtol: float | None = None, etol: float | None = None):
    """The kind of point x is: `minimum`, `maximum`, `saddle`, `degenerate` or `not_stationary`.

    x is stationary when the relative gradient max_i |∂ᵢf| · max(|xᵢ|, 1) / max(|f|, 1) ≤ gtol
    (default ε^(1/3); Dennis & Schnabel 1983, §7.2). Then the eigenvalues λ of H decide: all > 0
    minimum, all < 0 maximum, both signs saddle, and degenerate when some |λ| ≤ etol · max|λ|
    (default √ε) without both signs. None when a derivative is not finite (f not differentiable).
    """
    return type_name(int(_classify_at(f, jnp.asarray(x), gtol, etol)))


@_compiled
def _classify_at(f: Function, x: jax.Array, gtol: Any, etol: Any) -> jax.Array:
    value, grad = jax.value_and_grad(f)(x)
    return classify(x, value, grad, hessian(f, x), gtol, etol)


def _point_checks(surface, x):
    value, grad = jax.value_and_grad(surface)(x)
    H = jax.hessian(surface)(x)
    return asymmetry(H), classify(x, value, grad, H)


_batch_checks = jax.jit(jax.vmap(_point_checks, in_axes=(None, 0)))


def point_checks(surface, points: Any) -> dict[str, list]:
    """Per row of `points` (R, d): `hessian_asymmetry` and `stationary_type`, in one jitted vmap."""
    points = jnp.asarray(points)
    asym, codes = jax.device_get(_batch_checks(surface.astype(points.dtype), points))
    return {
        "hessian_asymmetry": [float(a) for a in asym],
        "stationary_type": [type_name(int(c)) for c in codes],
    }


@_compiled
def central_differences(f: Function, x: Any, h: float | None = None) -> jax.Array:
    """∇ₕf(x)ᵢ = [f(x + h eᵢ) − f(x − h eᵢ)] / 2h, error O(h²); h defaults to ε^(1/3).

    The step actually taken, (x + h eᵢ) − (x − h eᵢ), replaces 2h so that rounding x ± h does not bias it.
    """
    x = jnp.asarray(x)
    h = tolerance(x.dtype, 1 / 3) if h is None else h
    eye = jnp.eye(x.shape[0], dtype=x.dtype)

    def slope(e):
        up, down = x + h * e, x - h * e
        return (f(up) - f(down)) / jnp.dot(up - down, e)

    return jax.vmap(slope)(eye)


@_compiled
def finite_difference_error(f: Function, x: Any, h: float | None = None) -> jax.Array:
    """‖∇f − ∇ₕf‖∞ / max(‖∇f‖∞, 1): the automatic gradient against central differences."""
    g = gradient(f, x)
    return jnp.max(jnp.abs(g - central_differences(f, x, h))) / jnp.maximum(jnp.max(jnp.abs(g)), 1)
