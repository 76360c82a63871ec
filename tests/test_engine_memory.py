"""The memory guard: a job too large for memory is refused at once, before anything is allocated."""

from __future__ import annotations

import resource
import time

import pytest

from optlab.config import build_job
from optlab.errors import UserError


@pytest.mark.parametrize(
    "overrides",
    [
        ["surface=rosenbrock", "surface.dim=100000000"],
        ["surface=rosenbrock", "start_grid=3000"],
        ["experiment=rosenbrock", "starts=4000000", "steps=2000"],
    ],
)
def test_oversized_jobs_are_refused_at_once(compose, overrides):
    cfg = compose(overrides)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    with pytest.raises(UserError, match=r"^the records of \d+ runs × \d+ steps need .* GiB") as e:
        build_job(cfg)
    assert time.perf_counter() - began < 2.0
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 100  # a 10⁸-D surface's bounds alone would be 1.5 GiB
    assert "\n" not in str(e.value)


def test_a_job_that_fits_is_built(compose):
    job = build_job(compose(["surface=rosenbrock", "surface.dim=1000", "steps=10"]))
    assert job.surface.dim == 1000


def test_the_guard_counts_the_recorded_padding_lanes(monkeypatch):
    """17 runs record 2 × engine.LANES lanes (padding included): refused before anything is
    allocated where 21 runs' records fit; a group smaller than the lanes (a lone run) records
    itself only: its padding lanes are computed, not recorded."""
    import numpy as np
    from optimizer_helpers import group

    from optlab import devices, engine, surfaces

    one = engine.bytes_per_run(2, 1000, 1, engine.DEFAULT_RECORD, True, 4)
    have = int(21 * one / 0.8)  # room for 21 runs' records
    monkeypatch.setattr(devices, "host_memory", lambda: have)
    s = surfaces.get("rosenbrock")
    many = group("gd", np.zeros((17, 2)), learning_rate=1e-3)
    with pytest.raises(UserError, match=r"the records of 17 runs × 1000 steps need"):
        engine.run(s, [many], 1000)
    assert engine.run(s, [many], 1000, lanes=4).loss.shape == (17, 1001)  # 20 lanes
    for n in (1, 15):  # 16 lanes computed
        few = group("gd", np.zeros((n, 2)), learning_rate=1e-3)
        assert engine.run(s, [few], 1000).loss.shape == (n, 1001)
    assert [engine.recorded_runs(r) for r in (1, 15, 16, 17)] == [1, 15, 16, 32]
    assert engine.recorded_runs(1, n_dev=2) == 2 * engine.LANES
