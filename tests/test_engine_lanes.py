"""A run's numbers are the same bits alone and in a grid, on surfaces of any dimension, and whether
or not XLA:CPU runs small loops as one kernel (`optlab.xla`): the setting changes speed only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from optimizer_helpers import group

from optlab import engine, surfaces, xla

ROOT = Path(__file__).resolve().parents[1]
SURFACES = [("himmelblau", 2), ("styblinski_tang", 3), ("zakharov", 5), ("rosenbrock", 7)]
OPTIMIZERS = [("adam", 1e-2), ("gd", 1e-3), ("momentum", 1e-3), ("rmsprop", 1e-3)]
STEPS = 60


def _starts(dim: int) -> np.ndarray:
    return np.random.default_rng(dim).uniform(-2, 2, (40, dim))


def _run(name: str, dim: int, opt: str, lr: float, starts, steps=STEPS, **kw) -> engine.Trajectory:
    return engine.run(
        surfaces.get(name, dim=dim), [group(opt, starts, learning_rate=lr)], steps, **kw
    )


def _same_run(one: engine.Trajectory, i: int, many: engine.Trajectory, where: str, j=0) -> None:
    """Run j of `one` is bitwise run i of `many`."""
    for field in engine.Trajectory._fields:
        a = getattr(one, field)
        if a is not None and field not in engine.SHARED:
            b = np.asarray(getattr(many, field))[i]
            np.testing.assert_array_equal(np.asarray(a)[j], b, err_msg=f"{where}: {field}")


@pytest.mark.parametrize(("name", "dim"), SURFACES)
@pytest.mark.parametrize("every", [1, 3])
def test_a_run_alone_equals_it_in_a_grid(name, dim, every):
    """Every field, four optimizers, 40-run grids (d = 2 … 7; with 2 lanes d ≥ 3 differed)."""
    starts = _starts(dim)
    kw = dict(record_every=every, tol_grad=1e-3, targets=(1e-1,))
    for opt, lr in OPTIMIZERS:
        grid = _run(name, dim, opt, lr, starts, **kw)
        for i in (0, 13, 39):
            _same_run(_run(name, dim, opt, lr, starts[i : i + 1], **kw), i, grid, f"{opt} run {i}")


def test_import_raises_the_small_loop_threshold():
    """This process (the test suite imports optlab first) runs small loops as one kernel."""
    assert xla.SMALL_LOOP_FLAG in os.environ.get("XLA_FLAGS", "")


@pytest.mark.parametrize(
    ("env", "started", "expected"),
    [
        ({}, False, True),
        ({"OPTLAB_SMALL_LOOPS": "0"}, False, False),
        ({"XLA_FLAGS": "--xla_backend_extra_options=mine=1"}, False, False),
        ({}, True, False),
    ],
)
def test_the_flag_is_left_to_the_user(monkeypatch, env, started, expected):
    """Not set when asked not to, when the user passes backend options, or too late."""
    monkeypatch.delenv("OPTLAB_SMALL_LOOPS", raising=False)
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(xla, "backend_started", lambda: started)
    before = os.environ["XLA_FLAGS"]
    assert xla.fast_small_loops() is expected
    after = os.environ["XLA_FLAGS"]
    assert after == (f"{before} {xla.SMALL_LOOP_FLAG}" if expected else before)


CHILD = """
import json, sys, numpy as np
sys.path.insert(0, "tests")
from optimizer_helpers import group
from optlab import engine, surfaces, xla
import os
assert xla.SMALL_LOOP_FLAG not in os.environ.get("XLA_FLAGS", "")
t = engine.run(surfaces.get("rosenbrock", dim=3), [group("adam", [json.loads(sys.argv[1])],
               learning_rate=1e-2)], 200)
print(json.dumps({k: np.asarray(getattr(t, k)).tolist() for k in ("params", "curvature")}))
"""


def test_one_kernel_loops_change_no_number():
    """A lone run in a process with XLA's default threshold (OPTLAB_SMALL_LOOPS=0, loops
    dispatched op by op) equals the same run in a grid here (small loops as one kernel)."""
    starts = _starts(3)
    grid = engine.run(
        surfaces.get("rosenbrock", dim=3), [group("adam", starts, learning_rate=1e-2)], 200
    )
    env = os.environ | {"OPTLAB_SMALL_LOOPS": "0", "XLA_FLAGS": ""}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(starts[7].tolist())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lone = json.loads(out.stdout.strip().splitlines()[-1])
    for k, v in lone.items():
        np.testing.assert_array_equal(np.asarray(v, np.float32)[0], getattr(grid, k)[7], k)


def test_zero_takes_out_an_inherited_flag(monkeypatch):
    """A child of an optlab process inherits the flag in XLA_FLAGS: OPTLAB_SMALL_LOOPS=0 still
    keeps XLA's threshold there."""
    monkeypatch.setenv("XLA_FLAGS", f"--xla_cpu_multi_thread_eigen=false {xla.SMALL_LOOP_FLAG}")
    monkeypatch.setenv("OPTLAB_SMALL_LOOPS", "0")
    monkeypatch.setattr(xla, "backend_started", lambda: False)
    assert xla.fast_small_loops() is False
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_multi_thread_eigen=false"


@pytest.mark.parametrize("value", ["yes", "2", ""])
def test_a_bad_switch_is_one_line(cli, value):
    """OPTLAB_SMALL_LOOPS other than 0 or 1: one line naming it, exit 2, no run directory."""
    proc, out = cli("experiment=rosenbrock", env={"OPTLAB_SMALL_LOOPS": value})
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0] == (
        f"optlab: error: OPTLAB_SMALL_LOOPS={value} is invalid: 1 (default, lone runs ~7× faster) "
        "or 0"
    )
    assert not out.exists()


@pytest.mark.parametrize("fast", [False, True])
def test_a_lone_run_records_its_own_lane_only_and_keeps_its_bits(fast):
    """A group smaller than the lanes records its own runs only (the padding lanes are computed,
    not recorded): alone, with or without the fast blocks, every field equals the run's in a grid."""
    starts = _starts(3)
    kw = dict(tol_grad=1e-3, targets=(1e-1,), fast=fast, steps=64)  # 4 fast blocks
    grid = _run("rosenbrock", 3, "adam", 1e-2, starts, **kw)
    for rows in ([7], [3, 5, 11]):
        few = _run("rosenbrock", 3, "adam", 1e-2, starts[rows], **kw)
        assert few.params.shape == (len(rows), 65, 3)
        for j, i in enumerate(rows):
            _same_run(few, i, grid, f"run {i} of {rows}", j)
