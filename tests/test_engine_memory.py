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


def test_the_guard_counts_the_padding_lanes(monkeypatch):
    """A lone run occupies engine.LANES runs on the device: records that fit for one run but not
    for LANES are refused before anything is allocated."""
    import numpy as np
    from optimizer_helpers import group

    from optlab import devices, engine, surfaces

    one = engine.bytes_per_run(2, 1000, 1, engine.DEFAULT_RECORD, True, 4)
    have = int(5 * one / 0.8)  # room for 5 runs' records
    monkeypatch.setattr(devices, "host_memory", lambda: have)
    g = group("gd", np.zeros((1, 2)), learning_rate=1e-3)
    with pytest.raises(UserError, match=r"the records of 1 runs × 1000 steps need"):
        engine.run(surfaces.get("rosenbrock"), [g], 1000)
    assert engine.run(surfaces.get("rosenbrock"), [g], 1000, lanes=4).loss.shape == (1, 1001)
