"""The engine's fused per-coordinate reductions give exactly what jnp's reductions give."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optlab import engine


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [1, 2, 3, 4, 5, 6, 7, 8, 9])
def test_norm_and_finiteness_are_bitwise_jnps(dim, dtype):
    rng = np.random.default_rng(dim)
    a = (rng.standard_normal((512, dim)) * 10.0 ** rng.integers(-20, 20, (512, 1))).astype(dtype)
    a[:8] = [
        np.inf,
        -np.inf,
        np.nan,
        0.0,
        1e30,
        -1e-30,
        3e38 if dtype == np.float32 else 1e300,
        5.0,
    ][:8][0]
    a[1, -1], a[2, 0] = np.nan, np.inf
    mine = jax.jit(jax.vmap(lambda v: (engine._norm2(v), engine._all_finite(v))))(a)
    ref = jax.jit(jax.vmap(lambda v: (jnp.linalg.norm(v), jnp.all(jnp.isfinite(v)))))(a)
    np.testing.assert_array_equal(mine[0], ref[0])
    np.testing.assert_array_equal(mine[1], ref[1])
    assert not mine[1][:3].any() and mine[1][3:].any()
