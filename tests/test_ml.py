"""The mathematics of optlab.ml against independent references (float64): backpropagation by
hand, finite differences, NumPy's SVD, planes built by construction."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optlab.ml import backprop, landscape, lipschitz, mlp, saliency
from optlab.ml.data import one_hot

ARCH = mlp.Architecture((64, 12, 8, 10), "tanh")
ARCHS = [ARCH, mlp.Architecture((64, 16, 10), "relu")]
# jitted once and shared, so the tests pay few compilations
forward = jax.jit(mlp.forward, static_argnames="arch")
loss = jax.jit(mlp.per_example_loss, static_argnames="arch")
input_gradients = jax.jit(mlp.input_gradients, static_argnames="arch")


def problem(arch: mlp.Architecture = ARCH, n: int = 40, seed: int = 0):
    """Random float64 parameters (biases too), inputs in [0, 1] and one-hot targets."""
    rng = np.random.default_rng(seed)
    theta = jnp.asarray(rng.normal(0.0, 0.4, arch.dim))
    x = jnp.asarray(rng.uniform(0.0, 1.0, (n, arch.sizes[0])))
    y = rng.integers(0, arch.sizes[-1], n)
    return theta, x, jnp.asarray(one_hot(y, arch.sizes[-1])), y


def directional_fd(f, x, v, h=1e-5):
    """(f(x + hv) − f(x − hv)) / 2h: the directional derivative by central differences."""
    return (f(x + h * v) - f(x - h * v)) / (2 * h)


@pytest.mark.parametrize("arch", ARCHS, ids=lambda a: f"{a.sizes}-{a.activation}")
def test_backprop_by_hand_equals_jax_grad(arch):
    theta, x, targets, _ = problem(arch)
    mean_loss = lambda th: jnp.mean(mlp.per_example_loss(arch, th, x, targets))  # noqa: E731
    auto = jax.jit(jax.grad(mean_loss))(theta)
    by_hand = jax.jit(backprop.loss_gradient, static_argnames="arch")(arch, theta, x, targets)
    assert auto.dtype == jnp.float64
    np.testing.assert_allclose(by_hand, auto, rtol=1e-12, atol=1e-15)


def test_flatten_unflatten_roundtrip_and_layer_blocks():
    theta = jnp.arange(ARCH.dim, dtype=jnp.float64)
    layers = ARCH.unflatten(theta)
    assert [W.shape for W, _ in layers] == [(64, 12), (12, 8), (8, 10)]
    np.testing.assert_array_equal(ARCH.flatten(layers), theta)
    assert (
        sum(s.stop - s.start for s in ARCH.slices()) == ARCH.dim == 64 * 12 + 12 + 12 * 8 + 8 + 90
    )


def test_input_gradients_match_finite_differences():
    theta, x, targets, _ = problem()
    g = input_gradients(ARCH, theta, x, targets)
    v = jnp.asarray(np.random.default_rng(0).normal(size=x.shape))
    fd = directional_fd(lambda xs: loss(ARCH, theta, xs, targets), x, v)
    np.testing.assert_allclose(jnp.sum(g * v, axis=-1), fd, rtol=1e-7)


def test_penalized_objective_gradient_by_double_backprop_matches_finite_differences():
    theta, x, targets, _ = problem()
    objective = jax.jit(mlp.Objective(ARCH))
    lam = jnp.asarray(0.3)
    v = jnp.asarray(np.random.default_rng(1).normal(size=ARCH.dim))
    grad = jax.jit(jax.grad(objective))(theta, x, targets, lam)
    fd = directional_fd(lambda th: objective(th, x, targets, lam), theta, v)
    np.testing.assert_allclose(jnp.dot(grad, v), fd, rtol=1e-6)
    # the penalty term is exactly λ E‖∇ₓℓ‖², and λ = 0 leaves the data term alone
    data = np.mean(loss(ARCH, theta, x, targets))
    squared = np.mean(np.sum(np.asarray(input_gradients(ARCH, theta, x, targets)) ** 2, -1))
    np.testing.assert_allclose(objective(theta, x, targets, lam), data + 0.3 * squared, rtol=1e-12)
    np.testing.assert_allclose(objective(theta, x, targets, jnp.asarray(0.0)), data, rtol=1e-12)


def test_surface_starts_are_glorot_uniform_with_zero_biases():
    arch = ARCHS[1]
    box = arch.init_box()
    W1, b1 = arch.unflatten(jnp.asarray(box[:, 1]))[0]
    np.testing.assert_allclose(W1, np.sqrt(6 / (64 + 16)))
    np.testing.assert_array_equal(b1, 0.0)


def test_power_iteration_matches_svd():
    rng = np.random.default_rng(3)
    for shape in [(64, 16), (5, 30)]:
        W = jnp.asarray(rng.normal(size=shape))
        sigma = lipschitz.spectral_norm(W, iters=500)
        np.testing.assert_allclose(sigma, np.linalg.norm(np.asarray(W), 2), rtol=1e-8)


def test_lipschitz_lower_estimate_is_below_upper_bound_and_matches_finite_differences():
    arch = ARCH
    theta, x, targets, _ = problem()
    e = lipschitz.estimates(arch, theta, x, targets)
    assert 0 < e["input_gradient_max"] <= e["spectral_product"]
    layers = arch.unflatten(theta)
    np.testing.assert_allclose(
        e["layer_spectral_norms"], [np.linalg.norm(np.asarray(W), 2) for W, _ in layers], rtol=1e-6
    )
    # ‖∂z/∂x‖₂ at one input from a finite-difference Jacobian
    h, eye = 1e-6, jnp.eye(64)
    cols = (forward(arch, theta, x[0] + h * eye) - forward(arch, theta, x[0] - h * eye)) / (2 * h)
    fd = np.linalg.norm(np.asarray(cols).T, 2)
    np.testing.assert_allclose(lipschitz.jacobian_norms(arch, theta, x[:1])[0], fd, rtol=1e-6)


def test_filter_normalized_direction_matches_filter_norms_and_zeroes_biases():
    arch = ARCH
    theta, *_ = problem()
    d = landscape.filter_normalized(
        arch, theta, jnp.asarray(np.random.default_rng(7).normal(size=arch.dim))
    )
    for (W, _), (D, db) in zip(arch.unflatten(theta), arch.unflatten(d), strict=True):
        np.testing.assert_allclose(np.linalg.norm(D, axis=0), np.linalg.norm(W, axis=0), rtol=1e-12)
        np.testing.assert_array_equal(db, 0.0)
        assert not np.allclose(D, W)


def test_projection_and_pca_recover_a_path_built_in_a_plane():
    rng = np.random.default_rng(0)
    theta, d1, d2 = rng.normal(size=(3, 200))
    coef = np.stack([np.linspace(-2, 0, 30) ** 2, np.sin(np.linspace(0, 3, 30))], axis=1)
    coef -= coef[-1]
    path = theta + coef @ np.stack([d1, d2])
    np.testing.assert_allclose(landscape.project(path, path[-1], d1, d2), coef, atol=1e-10)
    u, v, explained = landscape.pca_directions(path)
    assert explained == pytest.approx(1.0)
    # u, v are orthonormal and span the plane: projecting the path onto them loses nothing
    np.testing.assert_allclose([u @ u, v @ v, u @ v], [1, 1, 0], atol=1e-12)
    back = landscape.project(path, path[-1], u, v) @ np.stack([u, v]) + path[-1]
    np.testing.assert_allclose(back, path, atol=1e-10)


def test_plane_is_the_loss_along_the_two_directions():
    arch = ARCH
    theta, x, targets, _ = problem()
    s = mlp.surface(arch, np.asarray(x), np.asarray(targets))
    d1, d2 = landscape.random_directions(arch, theta, seed=1)
    A, B, Z = landscape.plane(s, theta, d1, d2, 0.5, 5)
    f = jax.jit(lambda th: s(th))
    np.testing.assert_allclose(Z[2, 2], f(theta), rtol=1e-12)
    np.testing.assert_allclose(Z[0, 4], f(theta + 0.5 * d1 - 0.5 * d2), rtol=1e-12)
    assert (A[0, 4], B[0, 4]) == (0.5, -0.5)


def test_saliency_is_the_input_gradient_of_the_class_score():
    theta, x, _, y = problem()
    g = saliency.input_gradient(ARCH, theta, x, jnp.asarray(y))
    v = jnp.asarray(np.random.default_rng(5).normal(size=x.shape))
    score = lambda xs: np.asarray(forward(ARCH, theta, xs))[np.arange(len(y)), y]  # noqa: E731
    np.testing.assert_allclose(jnp.sum(g * v, axis=-1), directional_fd(score, x, v), rtol=1e-7)


def test_masked_replaces_only_the_chosen_pixels():
    x = jnp.arange(6.0)
    out = saliency.masked(x, jnp.asarray([1, 4]), jnp.full(6, -1.0))
    np.testing.assert_array_equal(out, [0, -1, 2, 3, -1, 5])


def test_a_network_landscape_is_evaluated_in_chunks_within_the_memory_budget():
    """A 200×200 plane of the digits MLP's loss: evaluated at once its program would hold every
    point's activations (GiBs); in chunks XLA's own count of its temporaries stays near the budget."""
    from optlab import landscape as views
    from optlab.ml.data import load_digits

    d = load_digits()
    arch = mlp.Architecture((64, 16, 10))
    s = mlp.surface(arch, d.x_train, one_hot(d.y_train)).astype(jnp.float32)
    plane = views.Plane(
        np.zeros(arch.dim, np.float32),
        np.eye(2, arch.dim, dtype=np.float32),
        np.array([[-1.0, 1.0], [-1.0, 1.0]], np.float32),
    )
    args = views._args(plane)
    batch = views.surface_chunk(views._value, s, jnp.float32)
    point = jax.ShapeDtypeStruct((arch.dim,), jnp.float32)
    per_point = views.evaluation_bytes(views._value, (s,), point)
    assert batch >= 1 and batch * per_point <= views.CHUNK_BYTES < (batch + 1) * per_point

    def temp(n, b):
        compiled = views._values.lower(s, *args, n=n, batch=b).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    n = 200
    assert temp(n, batch) <= 2 * views.CHUNK_BYTES
    assert temp(n, n * n) > 10 * views.CHUNK_BYTES  # what evaluating it all at once would hold
    # and the values are the loss at the plane's points
    A, B, Z = views.values(s, plane, 5)
    f = jax.jit(lambda th: s(th))
    np.testing.assert_allclose(Z[1, 3], f(plane.lift(np.array([A[1, 3], B[1, 3]]))), rtol=1e-5)
