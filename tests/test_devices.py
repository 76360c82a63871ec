"""Devices: `device=` resolution, sharding the run axis over 4 (fake) CPU devices, CPU threads."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from optlab import devices
from optlab.app import simulate
from optlab.config import build_job
from optlab.errors import UserError

# 2 optimizers × 3 learning rates × 13 starts = 78 runs: not a multiple of 4 devices × 8 lanes,
# and more than one chunk of 20 runs (padded to 32), so padding and run chunks are exercised.
GRID = [
    "experiment=rosenbrock",
    "~lineup.gd",
    "surface=himmelblau",
    "start=null",
    "starts=13",
    "grid.learning_rate=[0.001,0.003,0.01]",
    "steps=25",
    "dtype=float64",
    "plot_bounds=null",
]


def _absent_kind() -> str:
    for kind in ("tpu", "gpu"):
        try:
            jax.devices(kind)
        except RuntimeError:
            return kind
    pytest.fail("this machine has every device kind")


def test_auto_is_every_device_of_the_best_backend():
    assert devices.resolve("auto") == jax.devices()
    assert devices.resolve("cpu") == jax.devices("cpu")


def test_a_missing_kind_is_one_line_saying_what_is_available():
    kind = _absent_kind()
    with pytest.raises(UserError) as e:
        devices.resolve(kind)
    n = len(jax.devices("cpu"))
    assert str(e.value).startswith(f"device={kind!r} is not available on this machine; available:")
    assert f"cpu ({n} device" in str(e.value) and "\n" not in str(e.value)


def test_four_cpu_devices_give_the_single_device_numbers(cli, compose):
    proc, out = cli(
        *GRID,
        "device=cpu",
        "chunk_size=20",
        env={"XLA_FLAGS": "--xla_force_host_platform_device_count=4"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "optlab: 78 runs × 25 steps on cpu ×4 (device=cpu)" in proc.stdout
    single = simulate(build_job(compose(GRID)))
    assert len(jax.devices("cpu")) == 1
    with np.load(out / "trajectory.npz") as z:
        for field in ("params", "loss", "grad", "curvature", "status", "steps_taken"):
            np.testing.assert_array_equal(z[field], getattr(single, field), field)


def test_joblib_workers_get_single_threaded_xla(monkeypatch):
    monkeypatch.setattr(devices, "backend_started", lambda: False)
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    assert not devices.limit_cpu_threads(1)
    assert devices.limit_cpu_threads(4)
    assert devices.os.environ["XLA_FLAGS"].split() == [
        "--xla_force_host_platform_device_count=2",
        devices.SINGLE_THREAD_FLAG,
    ]
    assert not devices.limit_cpu_threads(4)  # set once; a user's own setting is kept
