"""benchmarks/gpu.py, the check run once on a lent GPU: its bound arithmetic and its baseline."""

import importlib.util
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optlab import engine, surfaces

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "gpu.py"
spec = importlib.util.spec_from_file_location("optlab_gpu_bench", PATH)
gpu = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu)


def test_bound_counts_the_loop_state_read_and_written_once_per_step():
    # d = 2: x, m, v, ∇f (2 floats each) + f = 9 float32 = 36 B; 4 int32 = 16 B
    assert gpu.state_bytes(2) == 52
    assert gpu.state_bytes(3) == 68
    assert gpu.bound(1.04e12, 2) == pytest.approx(1e10)  # 104 B per run-step


def test_block_scan_records_what_the_engine_records_every_k_steps():
    s = surfaces.get("rosenbrock", dim=2)
    x0 = gpu.starts(16)
    steps, every = 40, 10
    got = jax.device_get(gpu.block_scan(s, steps, every, gpu.ALL)(jnp.asarray(x0, jnp.float32)))
    traj = engine.run(
        s,
        [gpu.bench.adam_group(x0)],
        steps,
        diagnostics=False,
        record=gpu.ALL,
        record_every=every,
    )
    assert got["loss"].shape == traj.loss.shape == (16, steps // every + 1)
    for k in gpu.ALL:  # ulp-level differences only: the two programs fuse differently
        np.testing.assert_allclose(got[k], getattr(traj, k), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="multiple"):
        gpu.block_scan(s, 45, every, gpu.LOSS)
