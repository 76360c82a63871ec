"""The counter-based normal generator of the noise models (`optlab.noise.counter_normal`).

z for run r, step t and coordinate i is a pure function of (r's hash, t, i): the checks here are
statistical (10⁵ draws: Kolmogorov–Smirnov against N(0, 1), moments, tails, the Box–Muller pair's
radius and angle, correlations across coordinates, steps and runs, bit avalanche) and structural
(key or hash, float32 or float64, small or large shapes give the same stream).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from optlab.noise import counter_bits, counter_normal, run_hash

N = 100_000
KEY = jax.random.key(11)


def along_steps(dtype, shape=(2,), n=N) -> np.ndarray:
    """One run's draws at steps 0 … n − 1, (n, *shape)."""
    h = run_hash(KEY)
    return np.asarray(
        jax.jit(jax.vmap(lambda t: counter_normal(h, t, shape, dtype)))(jnp.arange(n))
    )


def across_runs(dtype, shape=(2,), n=N, step=7) -> np.ndarray:
    """Runs with seeds 0 … n − 1 (adjacent seeds) at one step, (n, *shape)."""
    hashes = jax.vmap(lambda s: run_hash(jax.random.key(s)))(jnp.arange(n))
    draw = jax.jit(jax.vmap(lambda h: counter_normal(h, step, shape, dtype)))
    return np.asarray(draw(hashes))


def corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sample", [along_steps, across_runs], ids=["along_steps", "across_runs"])
def test_draws_are_standard_normal(sample, dtype):
    """Each coordinate: KS against N(0, 1), mean and variance within 5 standard errors, kurtosis
    3, the mass beyond 2, 3 and 4 (4.6 %, 0.27 %, 0.0063 %) within sampling error."""
    z = sample(dtype)
    assert z.dtype == dtype
    se = 1 / np.sqrt(N)
    for c in (0, 1):
        x = z[:, c].astype(np.float64)
        assert stats.kstest(x, "norm").pvalue > 1e-3
        assert abs(x.mean()) < 5 * se
        assert abs(x.var() - 1) < 5 * np.sqrt(2) * se
        assert stats.kurtosis(x, fisher=False) == pytest.approx(3.0, abs=0.1)
    pooled = np.abs(z.ravel())
    for k in (2.0, 3.0, 4.0):
        p = 2 * stats.norm.sf(k)
        count = np.sum(pooled > k)
        assert abs(count - p * pooled.size) < 5 * np.sqrt(p * pooled.size) + 2


@pytest.mark.parametrize("sample", [along_steps, across_runs], ids=["along_steps", "across_runs"])
def test_a_pair_has_exponential_radius_and_uniform_angle(sample):
    """(z₀, z₁) ~ N(0, I₂) exactly when z₀² + z₁² ~ Exp(mean 2) and the angle is uniform and
    independent of it (Box & Muller 1958): KS for both, and no correlation between them."""
    z = sample(np.float32).astype(np.float64)
    r2 = z[:, 0] ** 2 + z[:, 1] ** 2
    angle = np.arctan2(z[:, 1], z[:, 0])
    assert stats.kstest(r2, "expon", args=(0, 2)).pvalue > 1e-3
    assert stats.kstest(angle, "uniform", args=(-np.pi, 2 * np.pi)).pvalue > 1e-3
    assert abs(corr(r2, np.cos(4 * angle))) < 0.02  # the octant reflections leave no trace
    assert abs(stats.spearmanr(r2, np.abs(angle)).statistic) < 0.02


def test_no_correlation_across_coordinates_steps_and_runs():
    """|corr| < 0.02 (≈ 6 standard errors at 10⁵ draws) of z and of z² between the coordinates,
    steps 1 and 2 apart, and adjacent runs; and in a 40-dimensional draw between any two."""
    steps, runs = along_steps(np.float32), across_runs(np.float32)
    for z in (steps, runs):
        for f in (lambda a: a, np.square):
            assert abs(corr(f(z[:, 0]), f(z[:, 1]))) < 0.02
            for lag in (1, 2):
                assert abs(corr(f(z[:-lag, 0]), f(z[lag:, 0]))) < 0.02
                assert abs(corr(f(z[:-lag, 0]), f(z[lag:, 1]))) < 0.02
    assert abs(corr(steps[:, 0], runs[:, 0])) < 0.02
    wide = along_steps(np.float32, (40,), n=20_000)
    c = np.corrcoef(wide.T)
    assert np.abs(c - np.eye(40)).max() < 0.045  # 780 pairs, se 0.007
    assert min(stats.kstest(wide[:, i], "norm").pvalue for i in range(40)) > 1e-4


@pytest.mark.parametrize("neighbour", ["step", "run", "word"])
def test_words_avalanche(neighbour):
    """Neighbouring counters (step t vs t + 1, seed s vs s + 1, word i vs i + 1) give words that
    differ in each of the 32 bits with probability ½ (± 0.015 over 20,000 pairs)."""
    n = 20_000
    hashes = jax.vmap(lambda s: run_hash(jax.random.key(s)))(jnp.arange(n + 1))
    t = jnp.arange(n)
    if neighbour == "step":
        a = jax.vmap(lambda s: counter_bits(hashes[0], s, 1))(t)
        b = jax.vmap(lambda s: counter_bits(hashes[0], s + 1, 1))(t)
    elif neighbour == "run":
        a = jax.vmap(lambda h: counter_bits(h, 3, 1))(hashes[:-1])
        b = jax.vmap(lambda h: counter_bits(h, 3, 1))(hashes[1:])
    else:
        w = jax.vmap(lambda s: counter_bits(hashes[0], s, 2))(t)
        a, b = w[:, :1], w[:, 1:]
    diff = np.asarray(a ^ b, np.uint32)[:, 0]
    flips = (diff[:, None] >> np.arange(32, dtype=np.uint32)) & 1
    np.testing.assert_allclose(flips.mean(0), 0.5, atol=0.015)


def test_the_stream_is_the_same_from_key_or_hash_any_shape_any_dtype():
    """A key or its `run_hash`: the same draws; coordinate i does not depend on the dimension or
    the shape; float32 is float64 rounded (its polynomial log, sin and cos are accurate to
    float32)."""
    h, t = run_hash(KEY), jnp.asarray(5)
    by_key, by_hash = (counter_normal(r, t, (3,), np.float32) for r in (KEY, h))
    np.testing.assert_array_equal(by_key, by_hash)
    big = np.asarray(counter_normal(h, t, (41,), np.float32))
    for n in (1, 2, 3, 16, 17):
        np.testing.assert_array_equal(counter_normal(h, t, (n,), np.float32), big[:n])
    grid = counter_normal(h, t, (2, 3), np.float32)
    np.testing.assert_array_equal(grid, big[:6].reshape(2, 3))
    # |Δz| ≤ 1e-6·max(1, r) + 2⁻²³/r, r the pair's radius: the second term is u's float32
    # rounding near u = 1 (r → 0), where r = √(−2 ln u) is steep
    z32 = along_steps(np.float32, (4,), n=50_000).astype(np.float64).reshape(-1, 2, 2)
    z64 = along_steps(np.float64, (4,), n=50_000).reshape(-1, 2, 2)
    r = np.hypot(z64[..., :1], z64[..., 1:])
    assert np.all(np.abs(z32 - z64) <= 1e-6 * np.maximum(1.0, r) + 2.0**-23 / r)
    assert r.max() > 4.0  # the tails are there
