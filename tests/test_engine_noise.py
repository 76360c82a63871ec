"""The engine's noise hook: the optimizer sees a noisy oracle, the records the truth, and each run
has its own reproducible stream (alone, in a grid, chunked, on 1 or 4 devices)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
from optimizer_helpers import bowl, group

from optlab import engine, surfaces

HERE = Path(__file__).resolve().parent
STARTS = np.random.default_rng(1).uniform(-2, 2, (7, 2))
SEEDS = np.array([3, 1, 4, 1, 5, 9, 2])
TARGETS = (1e-1, 1e-3)


@jax.tree_util.register_pytree_node_class
class Gaussian:
    """Test noise: the optimizer sees f + τ·z₀ and ∇f + σ·z (z ~ N(0, I)); σ, τ traced."""

    def __init__(self, sigma, tau=0.0):
        self.sigma, self.tau = sigma, tau

    def tree_flatten(self):
        return (self.sigma, self.tau), None

    @classmethod
    def tree_unflatten(cls, _, leaves):
        return cls(*leaves)

    def observe(self, surface, key, x, value, grad):
        kv, kg = jax.random.split(key)
        z = jax.random.normal(kg, grad.shape, grad.dtype)
        return value + self.tau * jax.random.normal(kv, (), value.dtype), grad + self.sigma * z

    def value_fn(self, surface, key):
        return lambda x: surface(x) + self.tau * jax.random.normal(key, (), x.dtype)


def _noisy(starts=STARTS, seeds=SEEDS, sigma=0.5, name="adam", **kw):
    g = group(name, starts, learning_rate=0.05)._replace(seeds=np.asarray(seeds))
    return engine.run(
        bowl(),
        [g],
        40,
        dtype=np.float64,
        noise=Gaussian(sigma),
        targets=TARGETS,
        **kw,
    )


def _same(a: engine.Trajectory, b: engine.Trajectory, rows=slice(None)) -> None:
    for field in engine.Trajectory._fields:
        x, y = getattr(a, field), getattr(b, field)
        if field in engine.SHARED or x is None:
            continue
        np.testing.assert_array_equal(np.asarray(x)[rows], np.asarray(y), field)


def test_records_are_the_truth_and_the_optimizer_sees_noise():
    """loss, grad and grad_norm are f and ∇f at the iterates; the path differs from noiseless."""
    s = bowl()
    traj = _noisy()
    quiet = engine.run(s, [group("adam", STARTS, learning_rate=0.05)], 40, dtype=np.float64)
    assert not np.array_equal(traj.params, quiet.params)
    x = traj.params.reshape(-1, 2)
    true_f = jax.vmap(s)(x)
    np.testing.assert_allclose(traj.loss.ravel(), true_f, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(traj.grad.reshape(-1, 2), jax.vmap(jax.grad(s))(x), rtol=1e-13)
    # the step-0 state is the same start with or without noise
    np.testing.assert_array_equal(traj.loss[:, 0], quiet.loss[:, 0])
    # hits use the true gap: the first recorded step with f − f* ≤ t
    gap = traj.loss - s.f_min
    for k, t in enumerate(TARGETS):
        below = gap <= t
        np.testing.assert_array_equal(
            traj.hit_step[:, k], np.where(below.any(1), below.argmax(1), -1)
        )


def test_sigma_zero_is_the_noiseless_run_and_sigma_does_not_recompile():
    quiet = engine.run(
        bowl(), [group("adam", STARTS, learning_rate=0.05)], 40, dtype=np.float64, targets=TARGETS
    )
    zero = _noisy(sigma=0.0)  # the same maths; XLA may fuse it differently (ulps)
    np.testing.assert_allclose(zero.params, quiet.params, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(zero.hit_step, quiet.hit_step)
    np.testing.assert_array_equal(zero.status, quiet.status)
    before = engine.program._cache_size()
    _noisy(sigma=0.3)
    _noisy(sigma=2.0)
    assert engine.program._cache_size() == before  # σ is traced


def test_seeds_give_independent_reproducible_streams():
    traj = _noisy()
    again = _noisy()
    _same(traj, again)
    same_start = _noisy(starts=np.repeat(STARTS[:1], 3, axis=0), seeds=[7, 8, 7])
    np.testing.assert_array_equal(same_start.params[0], same_start.params[2])
    assert not np.array_equal(same_start.params[0], same_start.params[1])


def test_a_run_has_the_same_noise_alone_in_a_grid_and_chunked():
    grid = _noisy()
    for r in (0, 4, 6):
        alone = _noisy(starts=STARTS[r : r + 1], seeds=SEEDS[r : r + 1])
        _same(grid, alone, rows=slice(r, r + 1))
    chunked = _noisy(chunk_size=3, step_chunks=3)
    _same(grid, chunked)


def test_line_search_sees_the_noisy_value_fn():
    """L-BFGS's line search evaluates value_fn: with τ > 0 the path changes, records stay true."""
    s = surfaces.get("rosenbrock")
    g = group("lbfgs", [[-1.2, 1.0]])._replace(seeds=np.array([0]))
    quiet = engine.run(s, [g], 15, dtype=np.float64, diagnostics=False)
    noisy = engine.run(s, [g], 15, dtype=np.float64, diagnostics=False, noise=Gaussian(0.0, 1e-3))
    assert not np.array_equal(noisy.params, quiet.params)
    np.testing.assert_allclose(noisy.loss[0], jax.vmap(s)(noisy.params[0]), rtol=1e-14)


def test_four_devices_give_the_single_device_noise(tmp_path):
    """The same noisy grid sharded over 4 fake CPU devices is bitwise the single-device one."""
    out = tmp_path / "four.npz"
    code = (
        f"import sys; sys.path[:0] = [{str(HERE)!r}];"
        "import jax; jax.config.update('jax_enable_x64', True);"
        "import numpy as np; import test_engine_noise as t;"
        "assert len(jax.devices()) == 4;"
        "tr = t._noisy(devices=jax.devices(), chunk_size=5);"
        f"np.savez({str(out)!r}, **{{k: v for k, v in tr._asdict().items() if v is not None}})"
    )
    env = os.environ | {
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": str(HERE.parent),
    }
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    single = _noisy()
    with np.load(out) as z:
        for field in ("params", "loss", "grad", "curvature", "status", "hit_step", "hit_evals"):
            np.testing.assert_array_equal(z[field], getattr(single, field), field)


def test_no_noise_compiles_no_random_numbers(monkeypatch):
    """noise=None (seeds or not): the program draws no random numbers; with noise it does."""
    texts = []
    program = engine.program

    def spy(*args, **kw):
        texts.append(program.lower(*args, **kw).as_text())
        return program(*args, **kw)

    monkeypatch.setattr(engine, "program", spy)
    g = group("adam", STARTS[:2], learning_rate=0.05)
    engine.run(bowl(), [g], 5, dtype=np.float64)
    engine.run(bowl(), [g._replace(seeds=SEEDS[:2])], 5, dtype=np.float64)
    assert texts[0] == texts[1]
    assert "threefry" not in texts[0]
    engine.run(bowl(), [g._replace(seeds=SEEDS[:2])], 5, dtype=np.float64, noise=Gaussian(0.1))
    assert "threefry" in texts[2]
