"""Shared test setup: float64 available (explicit dtypes keep float32 tests float32), the
persistent compilation cache on, helpers."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import jax
import pytest

from optlab import cache

jax.config.update("jax_enable_x64", True)
# Programs compiled in the test processes persist in the user cache dir, as the CLI's do: a rerun
# of the suite loads them instead of compiling again (about half the time of a serial run).
cache.enable(cache.AUTO)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="module")
def _release_programs():
    """After each test module, its compiled programs and figures are released: a long-lived xdist
    worker otherwise keeps every program it compiled (over 2 GiB each by the end of the suite);
    the persistent cache reloads any that a later module needs."""
    yield
    jax.clear_caches()
    import matplotlib.pyplot as plt

    plt.close("all")
    gc.collect()


@pytest.fixture
def compose():
    """compose(overrides) -> DictConfig, through Hydra's compose API on the live conf/."""
    from hydra import compose as _compose
    from hydra import initialize_config_dir

    from optlab.config import conf_dir

    def run(overrides=(), hydra=False):
        with initialize_config_dir(version_base="1.3", config_dir=str(conf_dir())):
            return _compose(
                config_name="config", overrides=list(overrides), return_hydra_config=hydra
            )

    return run


def run_cli(args, cwd, env=None, timeout=240):
    """Run `python -m optlab ARGS` in a subprocess; return the CompletedProcess."""
    full_env = os.environ | {"PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "optlab", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def cli(tmp_path):
    """cli(*args) runs optlab with its output in a fresh tmp dir; returns (proc, out_dir)."""

    def run(*args, env=None):
        out = tmp_path / "run"
        proc = run_cli([*args, f"hydra.run.dir={out}"], cwd=tmp_path, env=env)
        return proc, out

    return run


def build_wheel(out: Path) -> Path:
    """The project's wheel, built into `out` (no dependencies, no build isolation)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    return next(out.glob("optlab-*.whl"))


def simulate_and_store(store, job):
    """Run `job` in-process and append its rows to the results `store`; return the trajectory."""
    from optlab import app, results

    traj = app.simulate(job)
    key = results.job_key(job)
    store.append(key, results.rows_for(job, traj, job_hash=key))
    return traj
