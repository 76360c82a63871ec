"""The notebook calculus API against closed forms (float64)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import optimize

from optlab import calculus, surfaces
from optlab.errors import UserError
from optlab.surfaces.base import Surface

SQRT2 = np.sqrt(2.0)


def himmelblau_grad(x, y):
    """Closed form ∇f of (x² + y − 11)² + (x + y² − 7)²."""
    return np.array(
        [4 * x * (x**2 + y - 11) + 2 * (x + y**2 - 7), 2 * (x**2 + y - 11) + 4 * y * (x + y**2 - 7)]
    )


def himmelblau_hessian(x, y):
    """Closed form Hessian of Himmelblau's function."""
    return np.array([[12 * x**2 + 4 * y - 42, 4 * (x + y)], [4 * (x + y), 4 * x + 12 * y**2 - 26]])


def surface(fn, name="custom") -> Surface:
    """A 2-D test surface from a plain JAX function."""
    return Surface(name, fn, 2, [[-2, 2], [-2, 2]], [], None)


@pytest.fixture
def sphere():
    return surfaces.get("sphere")


@pytest.fixture
def himmelblau():
    return surfaces.get("himmelblau")


ONE = jnp.array([1.0, 1.0])


def test_classic_sphere_partials_and_gradient(sphere):
    assert float(calculus.partial(sphere, ONE, 0)) == 2.0
    assert float(calculus.partial(sphere, ONE, 1)) == 2.0
    np.testing.assert_array_equal(calculus.gradient(sphere, ONE), [2.0, 2.0])
    np.testing.assert_array_equal(calculus.hessian(sphere, ONE), [[2.0, 0.0], [0.0, 2.0]])


@pytest.mark.parametrize(
    "u, expected",
    [
        ([1.0, 1.0], 2 * SQRT2),  # along ∇f: the maximum ‖∇f‖
        ([-1.0, -1.0], -2 * SQRT2),  # against it: the minimum
        ([-1.0, 1.0], 0.0),  # along the level curve
        ([1.0, -1.0], 0.0),
        ([3.0, 0.0], 2.0),  # not unit: normalized first, so D_u f = ∂f/∂x
        ([0.0, -0.5], -2.0),
    ],
)
def test_classic_sphere_directional_derivatives(sphere, u, expected):
    assert float(calculus.directional_derivative(sphere, ONE, u)) == pytest.approx(
        expected, abs=1e-15
    )


@pytest.mark.parametrize("u", [[0.0, 0.0], [np.nan, 1.0], [np.inf, 0.0]])
def test_directional_derivative_rejects_a_direction_without_direction(sphere, u):
    with pytest.raises(UserError, match=r"^direction=.* is invalid: must be finite and non-zero$"):
        calculus.directional_derivative(sphere, ONE, u)


def test_himmelblau_first_and_second_derivatives_match_closed_forms(himmelblau):
    for p in ([1.0, 2.0], [-3.3, 0.7], [2.5, -4.1]):
        x = jnp.array(p)
        g, H = himmelblau_grad(*p), himmelblau_hessian(*p)
        np.testing.assert_allclose(calculus.gradient(himmelblau, x), g, rtol=1e-13)
        for i in range(2):
            assert float(calculus.partial(himmelblau, x, i)) == pytest.approx(g[i], rel=1e-13)
        np.testing.assert_allclose(calculus.hessian(himmelblau, x), H, rtol=1e-13, atol=1e-12)
        np.testing.assert_allclose(
            calculus.mixed_partials(himmelblau, x), H, rtol=1e-13, atol=1e-12
        )
        # both orders of the mixed partial, each against 4(x + y)
        assert float(calculus.mixed_partial(himmelblau, x, 0, 1)) == pytest.approx(4 * sum(p))
        assert float(calculus.mixed_partial(himmelblau, x, 1, 0)) == pytest.approx(4 * sum(p))
        v = np.array([0.3, -1.7])
        np.testing.assert_allclose(calculus.hvp(himmelblau, x, v), H @ v, rtol=1e-12)


def test_mixed_partials_are_not_symmetric_by_construction():
    """The two orders come from different reverse passes: a function whose derivative rule
    breaks symmetry (a wrong custom JVP) shows up as a Clairaut failure."""

    @jax.custom_jvp
    def g(x):
        return x[0] * x[1]

    @g.defjvp
    def g_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return g(x), 3.0 * x[1] * t[0] + x[0] * t[1]  # ∂/∂x is wrong: 3y instead of y

    f = surface(g)
    x = jnp.array([0.5, 0.25])
    M = calculus.mixed_partials(f, x)
    assert float(M[0, 1]) == pytest.approx(3.0) and float(M[1, 0]) == pytest.approx(1.0)
    assert float(calculus.asymmetry(M)) == pytest.approx(2.0 / 3.0)
    assert not calculus.clairaut_holds(M)
    # and central differences catch the wrong gradient: ∂f/∂x = 0.25, not 0.75
    assert float(calculus.finite_difference_error(f, x)) == pytest.approx(0.5, rel=1e-6)


def test_asymmetry_and_clairaut_tolerance():
    assert float(calculus.asymmetry(jnp.array([[1.0, 2.0], [0.0, 4.0]]))) == 0.5
    assert float(calculus.asymmetry(jnp.zeros((2, 2)))) == 0.0
    H = jnp.array([[2.0, 1.0 + 1e-12], [1.0, 2.0]])
    assert calculus.clairaut_holds(H)  # rounding-sized difference in float64
    assert not calculus.clairaut_holds(H.astype(jnp.float64) + jnp.array([[0.0, 1e-6], [0, 0]]))
    assert calculus.clairaut_holds(jnp.array([[2.0, 1.0 + 1e-6], [1.0, 2.0]], jnp.float32))
    assert calculus.tolerance(np.float64) == pytest.approx(1.4901161193847656e-08)


@pytest.mark.parametrize(
    "fn, point, expected",
    [
        (lambda x: x[0] ** 2 + x[1] ** 2, [0.0, 0.0], "minimum"),
        (lambda x: -(x[0] ** 2) - 3 * x[1] ** 2, [0.0, 0.0], "maximum"),
        (lambda x: x[0] ** 2 - x[1] ** 2, [0.0, 0.0], "saddle"),
        (lambda x: x[0] ** 4 + x[1] ** 4, [0.0, 0.0], "degenerate"),  # H = 0
        (lambda x: x[0] ** 2 + x[1] ** 4, [0.0, 0.0], "degenerate"),  # one zero eigenvalue
        (lambda x: x[0] ** 2 + x[1] ** 2, [1.0, 1.0], "not_stationary"),
        (lambda x: jnp.sqrt(x[0] ** 2 + x[1] ** 2), [0.0, 0.0], None),  # cone tip: NaN gradient
    ],
)
def test_classify_stationary_closed_forms(fn, point, expected):
    assert calculus.classify_stationary(surface(fn), jnp.array(point)) == expected


def test_classify_himmelblau_stationary_points(himmelblau):
    """Minima and the local maximum from the catalog; the four saddles found independently
    (scipy root of the closed-form gradient, signs of the closed-form Hessian's eigenvalues)."""
    for m in himmelblau.minimizers:
        assert calculus.classify_stationary(himmelblau, jnp.asarray(m)) == "minimum"
    kinds = {kind for kind, _, _ in himmelblau.info.stationary_points}
    assert kinds == {"maximum", "saddle"}
    for kind, x, _ in himmelblau.info.stationary_points:
        assert calculus.classify_stationary(himmelblau, jnp.asarray(x)) == kind
    for guess in ([0.1, 2.9], [-3.1, -0.1], [3.4, 0.1], [-0.1, -1.9]):
        root = optimize.root(lambda p: himmelblau_grad(*p), guess, tol=1e-14).x
        assert np.prod(np.linalg.eigvalsh(himmelblau_hessian(*root))) < 0
        assert calculus.classify_stationary(himmelblau, jnp.asarray(root)) == "saddle"


def test_classify_uses_a_relative_gradient_tolerance(himmelblau):
    m = himmelblau.minimizers[0] + 1e-4  # near, not at, a minimizer
    assert calculus.classify_stationary(himmelblau, jnp.asarray(m)) == "not_stationary"
    assert calculus.classify_stationary(himmelblau, jnp.asarray(m), gtol=1e-1) == "minimum"


def test_central_differences_match_the_closed_form_gradient(himmelblau):
    x = jnp.array([-1.3, 2.2])
    fd = calculus.central_differences(himmelblau, x)
    np.testing.assert_allclose(fd, himmelblau_grad(-1.3, 2.2), rtol=1e-8)
    assert float(calculus.finite_difference_error(himmelblau, x)) < 1e-9


def test_point_checks_agree_with_the_single_point_functions(himmelblau):
    (xmax,) = [x for kind, x, _ in himmelblau.info.stationary_points if kind == "maximum"]
    pts = np.array([himmelblau.minimizers[0], xmax, [1.0, 2.0]])
    checks = calculus.point_checks(himmelblau, pts)
    assert checks["stationary_type"] == ["minimum", "maximum", "not_stationary"]
    for p, a in zip(pts, checks["hessian_asymmetry"], strict=True):
        assert a == float(calculus.asymmetry(calculus.hessian(himmelblau, jnp.asarray(p))))
        assert 0 <= a <= calculus.tolerance(np.float64)
