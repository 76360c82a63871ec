"""The engine's fast blocks (unmasked steps, redone exactly when a run stops) change no number: every
field of every case is bitwise what the exact step alone gives, and the fast blocks really run."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from optimizer_helpers import group

from optlab import engine, surfaces
from optlab.noise import Noise

STARTS = [[-1.2, 1.0], [0.5, 0.5], [1.0, 1.0], [2.0, -1.0], [np.nan, 0.0], [1e30, 1e30], [3.0, 3.0]]
CASES = {
    "converging": dict(tol_grad=1e-2, targets=(1e-1, 1e-3, 1e-6)),
    "every 3, chunked": dict(tol_grad=1e-3, record_every=3, chunk_size=3, targets=(1e-2,)),
    "every 20 > BLOCK": dict(record_every=20, targets=(1e-2, 1e-4)),
    "target, step chunks": dict(target=1e-4, step_chunks=2, diagnostics=False, targets=(1e-2,)),
    "params only, targets": dict(record=("params",), targets=(1e-2, 1e-5)),
    "loss only": dict(record=("loss",), diagnostics=False, tol_grad=1e-4),
}


def _pair(surface, groups, steps, **kw):
    exact = engine.run(surface, groups, steps, fast=False, **kw)
    fast = engine.run(surface, groups, steps, fast=True, **kw)
    return exact, fast


def _same(a: engine.Trajectory, b: engine.Trajectory) -> None:
    for field, x in a._asdict().items():
        y = getattr(b, field)
        if x is None:
            assert y is None, field
        else:
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=field)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_blocks_give_the_exact_steps_numbers(case, dtype):
    """Converging, diverging (gd at 0.01 from (3, 3)), non-finite and padded starts, targets hit
    inside blocks, record_every below and above the block, step and run chunks."""
    s = surfaces.get("rosenbrock")
    groups = [group("adam", STARTS, learning_rate=0.05), group("gd", STARTS, learning_rate=0.01)]
    exact, fast = _pair(s, groups, 120, dtype=dtype, **CASES[case])
    _same(exact, fast)
    statuses = set(exact.status.tolist())
    assert engine.DIVERGED in statuses and engine.MAX_STEPS in statuses


def test_fast_blocks_with_noise_and_seeds():
    s = surfaces.get("rosenbrock")
    g = group("adam", STARTS * 2, learning_rate=0.05)._replace(seeds=np.arange(2 * len(STARTS)))
    _same(*_pair(s, [g], 100, noise=Noise("gaussian", 0.5), tol_grad=1e-1, targets=(1e-1,)))


def test_many_runs_stopping_at_different_steps():
    """A grid in which some run stops in most blocks: redos and the back-off keep it exact."""
    s = surfaces.get("quadratic", dim=2)
    starts = np.random.default_rng(0).uniform(-3, 3, (64, 2))
    lrs = np.geomspace(1e-3, 0.5, 64)
    spec = group("gd", starts, learning_rate=0.1)
    g = spec._replace(hparams={"learning_rate": lrs})
    exact, fast = _pair(s, [g], 400, tol_grad=1e-3, targets=(1e-2, 1e-4, 1e-8))
    _same(exact, fast)
    converged = exact.steps_taken[exact.status == engine.CONVERGED]
    assert len(np.unique(converged)) > 20  # stops spread over many blocks


@pytest.mark.parametrize("case", ["converging", "every 3, chunked", "target, step chunks"])
def test_staged_blocks_give_the_in_place_numbers(case, monkeypatch):
    """The form the fast blocks take on accelerators (known trip counts inside `lax.cond`, a
    block's buffer copied into the job's; `engine._staged`) gives the CPU form's bits."""
    s = surfaces.get("rosenbrock")
    groups = [group("adam", STARTS, learning_rate=0.05), group("gd", STARTS, learning_rate=0.01)]
    kw = dict(fast=True, **CASES[case])
    in_place = engine.run(s, groups, 120, **kw)
    calls = []
    program = engine.program

    def spy(*args, **kwargs):
        calls.append(kwargs["staged"])
        return program(*args, **kwargs)

    monkeypatch.setattr(engine, "_staged", lambda devices: True)
    monkeypatch.setattr(engine, "program", spy)
    _same(in_place, engine.run(s, groups, 120, **kw))
    assert calls and all(calls)


def test_staged_blocks_when_runs_stop_in_most_blocks(monkeypatch):
    s = surfaces.get("quadratic", dim=2)
    starts = np.random.default_rng(1).uniform(-3, 3, (64, 2))
    g = group("gd", starts, learning_rate=0.1)._replace(
        hparams={"learning_rate": np.geomspace(1e-3, 0.5, 64)}
    )
    kw = dict(fast=True, tol_grad=1e-3, targets=(1e-2, 1e-4, 1e-8))
    in_place = engine.run(s, [g], 400, **kw)
    monkeypatch.setattr(engine, "_staged", lambda devices: True)
    _same(in_place, engine.run(s, [g], 400, **kw))


def test_blocks_are_staged_on_accelerators_only():
    cpu = jax.devices("cpu")
    assert not engine._staged(cpu)
    fake = type("Device", (), {"platform": "gpu"})()
    assert engine._staged([fake])


@pytest.fixture
def fresh_traces():
    """Programs traced inside the test are dropped before and after it."""
    jax.clear_caches()
    yield
    jax.clear_caches()


def test_the_fast_blocks_run(monkeypatch, fresh_traces):
    """With the exact step sabotaged (x += 1 per step), a job without stops keeps the true numbers
    on every block but the last (the one crossing the end, always exact): those came from the
    fast blocks. With fast=False the sabotage shows from the first step."""
    s = surfaces.get("rosenbrock")
    g = group("adam", [[-1.2, 1.0], [0.0, 0.0]], learning_rate=0.01)
    kw = dict(record=("params", "loss"), diagnostics=False)
    steps = 5 * engine.BLOCK + 3
    truth = engine.run(s, [g], steps, fast=False, **kw)
    exact_step = engine._step

    def sabotaged(*args, **kwargs):
        new, out = exact_step(*args, **kwargs)
        return new._replace(x=new.x + 1), out

    monkeypatch.setattr(engine, "_step", sabotaged)
    jax.clear_caches()
    fast = engine.run(s, [g], steps, fast=True, **kw)
    exact = engine.run(s, [g], steps, fast=False, **kw)
    kept = 5 * engine.BLOCK + 1  # records 0 … 5·BLOCK come from fast blocks
    np.testing.assert_array_equal(fast.params[:, :kept], truth.params[:, :kept])
    assert not np.array_equal(fast.params[:, kept:], truth.params[:, kept:])
    assert not np.array_equal(exact.params[:, 1], truth.params[:, 1])


def test_jobs_compile_the_fast_blocks_only_when_large():
    s = surfaces.get("rosenbrock")
    few = group("adam", [[-1.2, 1.0]], learning_rate=0.01)
    many = group("adam", np.zeros((engine.FAST_WORK // 64, 2)), learning_rate=0.01)
    calls = []
    program = engine.program

    def spy(*args, **kwargs):
        calls.append(kwargs["fast"])
        return program(*args, **kwargs)

    engine.program = spy
    try:
        engine.run(s, [few], 64, diagnostics=False, record=("loss",))
        engine.run(s, [many], 64, diagnostics=False, record=())
    finally:
        engine.program = program
    assert calls == [False, True]
