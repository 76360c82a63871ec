"""Property tests (hypothesis) of the calculus on every surface of the catalog, float64.

Random points inside each surface's bounds, away from the points it declares non-differentiable
(`info.singular`), and random unit directions. One compiled program per surface.
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from optlab import calculus, surfaces
from optlab.surfaces.registry import entry

EPS = float(np.finfo(np.float64).eps)


def buildable() -> list[str]:
    """Catalog surfaces (not user-defined ones) whose builder needs no argument."""
    params = lambda n: inspect.signature(entry(n).build).parameters.values()  # noqa: E731
    catalog = [n for n in surfaces.available() if n not in surfaces.USER_DEFINED]
    return [n for n in catalog if all(p.default is not p.empty for p in params(n))]


@jax.jit
def derivatives(s, x, u):
    value, g = jax.value_and_grad(s)(x)
    norm = jnp.linalg.norm(g)
    return {
        "value": value,
        "grad": g,
        "jvp": jax.jvp(s, (x,), (u,))[1],
        "along_grad": jax.jvp(s, (x,), (g / jnp.where(norm > 0, norm, 1),))[1],
        "hessian": jax.hessian(s)(x),
        "hvp": calculus.hvp(s, x, u),
        "central": calculus.central_differences(s, x),
    }


@st.composite
def point_and_direction(draw, s):
    """A point of the box `s.bounds` away from declared singular points, and a unit vector."""
    x = np.array([draw(st.floats(lo, hi)) for lo, hi in s.bounds])
    width = float(np.max(s.bounds[:, 1] - s.bounds[:, 0]))
    if s.info.singular is not None:
        assume(not s.info.singular(x, 1e-4 * width))
    v = np.array([draw(st.floats(-1, 1)) for _ in range(s.dim)])
    assume(np.linalg.norm(v) > 1e-3)
    return x, v / np.linalg.norm(v)


@pytest.mark.parametrize("name", buildable())
def test_derivative_identities(name):
    s = surfaces.get(name).astype(jnp.float64)

    @settings(max_examples=25, deadline=None, database=None, derandomize=True)
    @given(point_and_direction(s))
    def check(case):
        x, u = case
        r = jax.device_get(derivatives(s, jnp.asarray(x), jnp.asarray(u)))
        f, g, H = float(r["value"]), r["grad"], r["hessian"]
        gnorm, hmax = float(np.linalg.norm(g)), float(np.abs(H).max())
        assert np.isfinite(f) and np.all(np.isfinite(g)) and np.all(np.isfinite(H)), (x, g)
        scale = 1 + gnorm + abs(f)  # rounding grows with the terms f and ∇f are sums of
        # D_u f by jvp equals ∇f·u by grad
        assert abs(r["jvp"] - g @ u) <= 1e-12 * scale
        # Clairaut in float64: the Hessian is symmetric within the float64 tolerance √ε
        assert calculus.clairaut_holds(H), calculus.asymmetry(H)
        # the gradient matches central differences: truncation O(h²) + rounding O(ε|f|/h)
        h = EPS ** (1 / 3)
        tol = 1e-6 * (1 + np.abs(g).max()) + 100 * EPS * abs(f) / h
        np.testing.assert_allclose(r["central"], g, atol=tol, rtol=0)
        # forward-over-reverse HVP equals the Hessian times the vector
        np.testing.assert_allclose(r["hvp"], H @ u, atol=1e-11 * (1 + hmax), rtol=0)
        # Cauchy–Schwarz: D_u f ≤ ‖∇f‖, with equality along the gradient
        assert r["jvp"] <= gnorm + 1e-12 * scale
        assert abs(r["along_grad"] - gnorm) <= 1e-12 * scale

    check()
