"""Noise models and finite-sum surfaces as pure functions (float64): moments, minibatches, f*."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize

from optlab import surfaces
from optlab.errors import UserError
from optlab.noise import Noise, batch_indices, run_seeds, sample_costs
from optlab.optimizers.schedules import schedule
from optlab.surfaces import finite_sum

KEYS = jax.random.split(jax.random.key(0), 20_000)
X = jnp.asarray([0.3, -1.2, 2.0])
GRAD = jnp.asarray([1.0, -2.0, 0.5])


def seen_grads(noise: Noise, keys=KEYS) -> np.ndarray:
    """The gradients the optimizer sees at X (true value 1, gradient GRAD) under every key."""
    obs = jax.jit(
        jax.vmap(lambda k: noise.observe(surfaces.get("sphere", dim=3), k, X, 1.0, GRAD)[1])
    )
    return np.asarray(obs(keys))


@pytest.mark.parametrize(
    ("noise", "sd"),
    [
        (Noise("gaussian", 0.7), 0.7 * np.ones(3)),
        (Noise("relative", 0.5), 0.5 * np.abs(np.asarray(GRAD))),
        (Noise("student_t", 0.7, 6.0), 0.7 * np.ones(3)),  # unit-variance t: σ is the sd
    ],
    ids=["gaussian", "relative", "student_t"],
)
def test_noise_is_unbiased_with_the_stated_standard_deviation(noise, sd):
    g = seen_grads(noise)
    n = len(g)
    np.testing.assert_allclose(g.mean(0), GRAD, atol=4 * sd.max() / np.sqrt(n))
    np.testing.assert_allclose(g.std(0), sd, rtol=0.05)
    c = np.corrcoef(g.T)  # independent coordinates
    assert np.abs(c - np.eye(3)).max() < 0.05


def test_student_t_has_heavier_tails_than_gaussian_at_equal_sd():
    """Kurtosis of t_ν is 3 + 6/(ν − 4): ν = 6 gives 6, the normal 3 (Student 1908)."""
    kurt = lambda a: np.mean((a - a.mean()) ** 4) / np.var(a) ** 2  # noqa: E731
    t = seen_grads(Noise("student_t", 1.0, 6.0))[:, 0]
    z = seen_grads(Noise("gaussian", 1.0))[:, 0]
    assert kurt(z) == pytest.approx(3.0, abs=0.3)
    assert kurt(t) > 4.5


def test_the_value_is_exact_unless_value_noise_is_on():
    s = surfaces.get("sphere", dim=3)
    key = jax.random.key(3)
    v, _ = Noise("gaussian", 1.0).observe(s, key, X, s(X), GRAD)
    assert float(v) == float(s(X))
    noisy = Noise("gaussian", 1.0, value=True)
    vals = jax.vmap(lambda k: noisy.observe(s, k, X, s(X), GRAD)[0])(KEYS[:4000])
    assert float(jnp.std(vals)) == pytest.approx(1.0, rel=0.05)
    # a line search's trial points: the same point gives the same value within a step, another
    # point (or another step) a new draw
    f = noisy.value_fn(s, key)
    assert float(f(X)) == float(f(X)) and float(f(X)) != float(f(X + 1e-3))
    assert float(noisy.value_fn(s, jax.random.key(4))(X)) != float(f(X))
    assert float(Noise("gaussian", 1.0).value_fn(s, key)(X)) == float(s(X))


def test_same_key_same_noise_other_key_other_noise():
    n = Noise("gaussian", 1.0)
    a, b = seen_grads(n, KEYS[:2]), seen_grads(n, KEYS[:2])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[0], a[1])


# ---- minibatches ---------------------------------------------------------------------------------


def wine():
    return surfaces.get("logistic", data="wine", l2=1e-2)


def batch_grad(s, idx, w):
    return jax.grad(finite_sum.restrict(s, jnp.asarray(idx)))(w)


def test_a_minibatch_is_the_same_formula_on_fewer_rows():
    s, w = wine(), jnp.linspace(-1, 1, 14)
    x, y = finite_sum.dataset("wine")
    idx = np.array([3, 3, 17, 100])
    by_hand = np.mean(np.logaddexp(0, -y[idx] * (x[idx] @ np.asarray(w)))) + 0.5e-2 * w @ w
    assert float(finite_sum.restrict(s, idx)(w)) == pytest.approx(float(by_hand), rel=1e-13)
    assert float(jnp.mean(finite_sum.per_example(s, w))) == pytest.approx(float(s(w)), rel=1e-13)


def test_shuffle_visits_every_example_once_per_epoch_and_reshuffles():
    s, key = wine(), jax.random.key(7)
    n, b = 178, 8
    m = n // b  # 22 batches per epoch, 2 examples left over
    idx = jax.vmap(lambda t: batch_indices(None, b, "shuffle", s, t, key))(jnp.arange(3 * m))
    epochs = np.asarray(idx).reshape(3, m * b)
    for e in epochs:
        assert len(set(e.tolist())) == m * b  # no example twice within an epoch
    assert not np.array_equal(epochs[0], epochs[1])


def test_the_minibatch_gradient_is_unbiased_over_all_batches():
    """Random reshuffling with B | N: one epoch's batches partition the data, so their mean
    gradient is the full gradient exactly; with replacement, E over the N equally likely
    single examples is (1/N) Σᵢ ∇ℓᵢ = ∇f."""
    s, w, key = wine(), jnp.linspace(-0.5, 0.5, 14), jax.random.key(1)
    full = np.asarray(jax.grad(s)(w))
    steps = jnp.arange(178 // 2)
    g = jax.vmap(lambda t: batch_grad(s, batch_indices(None, 2, "shuffle", s, t, key), w))(steps)
    np.testing.assert_allclose(np.asarray(g).mean(0), full, rtol=1e-12, atol=1e-14)
    singles = jax.vmap(lambda i: batch_grad(s, i[None], w))(jnp.arange(178))
    np.testing.assert_allclose(np.asarray(singles).mean(0), full, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("sampling", ["replacement", "shuffle"])
def test_minibatch_variance_falls_like_one_over_b(sampling):
    """E‖g_B − ∇f‖² = S/B with replacement, S/B · (N − B)/(N − 1) without (the finite-population
    correction; Cochran 1977, Sampling Techniques, Thm 2.2), S = (1/N) Σᵢ ‖∇ℓᵢ − ∇f‖²."""
    s, w = wine(), jnp.linspace(-0.5, 0.5, 14)
    full = jax.grad(s)(w)
    singles = np.asarray(jax.vmap(lambda i: batch_grad(s, i[None], w))(jnp.arange(178)))
    spread = np.mean(np.sum((singles - np.asarray(full)) ** 2, -1))
    keys = jax.random.split(jax.random.key(2), 6000)
    for b in (1, 4, 16):

        def err(k, b=b):
            if sampling == "replacement":
                idx = batch_indices(k, b, sampling, s)
            else:  # a random step of a random epoch
                idx = batch_indices(None, b, sampling, s, jnp.asarray(5), k)
            return jnp.sum((batch_grad(s, idx, w) - full) ** 2)

        measured = float(jnp.mean(jax.jit(jax.vmap(err))(keys)))
        expected = spread / b * (1.0 if sampling == "replacement" else (178 - b) / 177)
        assert measured == pytest.approx(expected, rel=0.08), b


def test_minibatch_noise_then_the_model_on_top():
    s, w, key = wine(), jnp.zeros(14), jax.random.key(5)
    only_batch = Noise(batch_size=4, sampling="replacement")
    v, g = only_batch.observe(s, key, w, s(w), jax.grad(s)(w))
    idx = batch_indices(key, 4, "replacement", s)
    np.testing.assert_allclose(g, batch_grad(s, idx, w), rtol=1e-14)
    assert float(v) == pytest.approx(float(finite_sum.restrict(s, idx)(w)), rel=1e-14)
    both = Noise("gaussian", 0.1, batch_size=4, sampling="replacement")
    _, g2 = both.observe(s, key, w, s(w), jax.grad(s)(w))
    idx2 = batch_indices(jax.random.fold_in(key, 2), 4, "replacement", s)
    assert 0 < float(jnp.abs(g2 - batch_grad(s, idx2, w)).max()) < 1.0


def test_sample_costs_count_examples_and_epochs():
    s = wine()
    costs = sample_costs(s, Noise(batch_size=8), np.array([1, 23]))
    np.testing.assert_array_equal(costs["sample_evals"], [8, 184])
    np.testing.assert_allclose(costs["epochs"], [8 / 178, 184 / 178])
    assert sample_costs(s, None, np.array([3]))["sample_evals"].tolist() == [534]
    assert sample_costs(surfaces.get("rosenbrock"), None, np.array([3])) == {}


def test_run_seeds_are_distinct_and_reproducible():
    seeds, starts = np.repeat(np.arange(64), 8), np.tile(np.arange(8), 64)
    a = run_seeds(seeds, starts)
    assert len(set(a.tolist())) == 512 and a.min() >= 0 and a.max() < 2**31
    np.testing.assert_array_equal(a, run_seeds(seeds, starts))


def test_inverse_time_decay_is_eta0_over_t_plus_t0():
    lr = schedule({"schedule": "inverse_time_decay", "init_value": 0.5, "transition_steps": 10})
    t = np.arange(100)
    np.testing.assert_allclose([float(lr(k)) for k in t], 5.0 / (t + 10.0), rtol=1e-6)


# ---- finite-sum surfaces: data and f* -----------------------------------------------------------


@pytest.mark.parametrize("name", finite_sum.DATASETS)
def test_data_are_standardized_with_an_intercept_and_two_classes(name):
    x, y = finite_sum.dataset(name)
    np.testing.assert_allclose(x[:, :-1].mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(x[:, :-1].std(0), 1.0, rtol=1e-12)
    assert np.all(x[:, -1] == 1.0) and set(np.unique(y)) == {-1.0, 1.0}


def test_least_squares_f_star_is_the_normal_equations_solution():
    s = surfaces.get("least_squares", data="wine", l2=0.1)
    x, y = finite_sum.dataset("wine")
    n, d = x.shape
    w = np.linalg.solve(x.T @ x / n + 0.1 * np.eye(d), x.T @ y / n)
    f = 0.5 * np.mean((x @ w - y) ** 2) + 0.05 * w @ w
    assert s.f_min == pytest.approx(f, rel=1e-13)
    np.testing.assert_allclose(s.minimizers[0], w, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["breast_cancer", "digits"])
def test_logistic_f_star_is_below_every_tight_quasi_newton_solve(name):
    """scipy's L-BFGS with JAX's float64 gradient (an independent solver) ends within 1e-11
    above f*, never below; JAX's gradient at the Newton minimizer vanishes."""
    s = surfaces.get("logistic", data=name)
    vg = jax.jit(jax.value_and_grad(s))
    grad = np.asarray(vg(jnp.asarray(s.minimizers[0]))[1])
    assert np.abs(grad).max() < 1e-12
    res = minimize(
        lambda w: tuple(np.asarray(a) for a in vg(jnp.asarray(w))),
        np.zeros(s.dim),
        jac=True,
        method="L-BFGS-B",
        options={"ftol": 0, "gtol": 1e-12, "maxiter": 20_000, "maxcor": 30},
    )
    assert s.f_min - 1e-14 <= res.fun <= s.f_min + 1e-11


def test_an_unknown_data_set_names_the_available_ones():
    with pytest.raises(UserError, match="available: breast_cancer, wine, digits"):
        surfaces.get("logistic", data="iris")
    with pytest.raises(UserError, match=r"surface\.l2=0\.0 is invalid"):
        surfaces.get("logistic", l2=0.0)


# ---- the counter-based generator of the fast path (its statistics: test_noise_counter.py) ----


def test_the_fast_path_and_the_key_path_are_both_the_model():
    """Given the step and the run's key or its `run_hash`, the gradient's noise comes from the
    counter generator (the same draws either way); without them from the key: ∇f + σz."""
    from optlab.noise import counter_normal, run_hash

    s, rk, t = surfaces.get("sphere", dim=3), jax.random.key(5), jnp.asarray(12)
    n = Noise("gaussian", 0.5)
    _, fast = n.observe(s, jax.random.fold_in(rk, t), X, 1.0, GRAD, step=t, run_key=rk)
    np.testing.assert_allclose(fast, GRAD + 0.5 * counter_normal(rk, t, (3,), X.dtype), rtol=1e-12)
    _, hashed = n.observe(s, jax.random.fold_in(rk, t), X, 1.0, GRAD, step=t, run_hash=run_hash(rk))
    np.testing.assert_array_equal(hashed, fast)
    _, rel = Noise("relative", 0.5).observe(s, rk, X, 1.0, GRAD, step=t, run_hash=run_hash(rk))
    np.testing.assert_allclose(rel, GRAD * (1 + 0.5 * counter_normal(rk, t, (3,), X.dtype)))
    _, slow = n.observe(s, jax.random.fold_in(rk, t), X, 1.0, GRAD)
    z = jax.random.normal(jax.random.fold_in(rk, t), (3,), X.dtype)
    np.testing.assert_allclose(slow, GRAD + 0.5 * z, rtol=1e-12)


def test_noisy_loss_plot_draws_median_and_interquartile_band(tmp_path, monkeypatch):
    """plots.loss_spread: per optimizer one line at the median f − f* and a band from the 25th to
    the 75th percentile over its runs (hand-made runs: f − f* = 1, 2, 3, 4, 5 at every step)."""
    import importlib

    # the package exports a function `loss` under the module's name
    loss_plot = importlib.import_module("optlab.plots.loss")

    drawn = {}
    monkeypatch.setattr(loss_plot.style, "save", lambda fig, path, dpi: drawn.setdefault("f", fig))
    runs = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0], [5.0, 5.0]]) + 10.0
    loss_plot.spread(tmp_path / "x.png", [runs, runs[:2]], ["adam", "sgd"], title="t", f_min=10.0)
    ax = drawn["f"].axes[0]
    lines = {ln.get_gid(): ln for ln in ax.get_lines()}
    np.testing.assert_allclose(lines["adam"].get_ydata(), [3.0, 3.0])
    np.testing.assert_allclose(lines["sgd"].get_ydata(), [1.5, 1.5])
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(2.0) and band.max() == pytest.approx(4.0)
    assert lines["adam"].get_label() == "adam (5 runs)"
