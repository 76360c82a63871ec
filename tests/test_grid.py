"""Grid axes: parsing, the Cartesian product of runs, one compiled program, per-run coordinates."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from optlab import engine, grid, records
from optlab.app import simulate
from optlab.cli import precheck
from optlab.config import build_job, random_starts
from optlab.errors import UserError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("logspace(-3, 0, 4)", [1e-3, 1e-2, 1e-1, 1.0]),
        ("linspace(0.1,0.4,4)", [0.1, 0.2, 0.3, 0.4]),
        (" linspace( 2 , 2 , 1 ) ", [2.0]),
        ("range(3)", [0, 1, 2]),
        ("range(2, 9, 3)", [2, 5, 8]),
    ],
)
def test_range_specs(text, expected):
    np.testing.assert_allclose(grid.values("grid.x", text), expected, rtol=1e-12)


def test_lists_and_single_numbers():
    np.testing.assert_array_equal(grid.values("grid.x", [0.5, 2]), [0.5, 2.0])
    np.testing.assert_array_equal(grid.values("grid.x", 0.25), [0.25])


@pytest.mark.parametrize(
    "value",
    [
        [],
        ["a", "b"],
        [0.1, None],
        True,
        "logspace(-3, 0)",
        "logspace(-3, 0, 2.5)",
        "linspace(0, 1, 0)",
        "geomspace(1, 2, 3)",
        "range(0.5, 3)",
        "logspace(-3, 0, 16",
        "__import__('os').getcwd()",
        "linspace(0, 1, __import__('os'))",
        "[0.1, nan]",
    ],
)
def test_bad_axis_is_one_line_naming_the_key(value):
    with pytest.raises(UserError, match=r"^grid\.learning_rate=.* is invalid") as e:
        grid.values("grid.learning_rate", value)
    assert "\n" not in str(e.value)


def test_product_varies_the_last_axis_fastest():
    i, j = grid.product([2, 3])
    assert list(zip(i, j, strict=True)) == list(itertools.product(range(2), range(3)))


def test_issue_example_is_one_batch_of_all_coordinates(compose):
    """16 learning rates × 64 random starts = 1,024 runs of one group, every pair exactly once."""
    cfg = compose(
        [
            "surface=himmelblau",
            "optimizer=adam",
            'grid.learning_rate="logspace(-3,0,16)"',
            "starts=64",
            "steps=3",
        ]
    )
    job = build_job(cfg, single_optimizer=True)
    (group,) = job.groups
    assert len(job.labels) == len(group.starts) == 1024
    starts = random_starts(job.surface.bounds, 64, 0)
    expected = {(lr, tuple(s)) for lr in np.logspace(-3, 0, 16) for s in starts}
    got = {
        (lr, tuple(s)) for lr, s in zip(group.hparams["learning_rate"], group.starts, strict=True)
    }
    assert got == expected
    before = engine.program._cache_size()
    traj = simulate(job)
    assert engine.program._cache_size() == before + 1  # one compiled program for the whole grid
    assert traj.loss.shape == (1024, 4)
    rows = records.run_rows(job, traj)
    assert {(r["learning_rate"], tuple(r["start"])) for r in rows} == expected
    assert all(r["hp.learning_rate"] == r["learning_rate"] for r in rows)


def test_grid_runs_equal_the_same_runs_one_by_one(compose):
    base = ["surface=himmelblau", "optimizer=adam", "dtype=float64", "steps=30", "tol_grad=0"]
    cfg = compose([*base, "grid.learning_rate=[0.05,0.2]", "starts=3", "seed=3"])
    job = build_job(cfg, single_optimizer=True)
    batch = simulate(job)
    pts = job.points
    for r in range(len(job.labels)):
        lr, (x, y) = pts["learning_rate"][r].item(), pts["start"][r].tolist()
        alone = build_job(
            compose([*base, f"optimizer.learning_rate={lr!r}", f"start=[{x!r},{y!r}]"]),
            single_optimizer=True,
        )
        one = simulate(alone)
        for field in engine.Trajectory._fields:
            if field not in engine.SHARED:  # the same by construction
                np.testing.assert_array_equal(
                    getattr(batch, field)[r], getattr(one, field)[0], field
                )


def test_lineup_runs_every_member_on_the_grid(compose):
    cfg = compose(["experiment=rosenbrock", "grid.learning_rate=[0.001,0.002]", "steps=5"])
    job = build_job(cfg)
    assert [len(g.starts) for g in job.groups] == [2, 2, 2]
    for g in job.groups:
        np.testing.assert_array_equal(g.hparams["learning_rate"], [0.001, 0.002])
    traj = simulate(job)
    rows = records.run_rows(job, traj)
    assert [(r["optimizer"], r["learning_rate"]) for r in rows] == [
        (o, lr) for o in ("gd", "momentum", "adam") for lr in (0.001, 0.002)
    ]
    assert {r["hp.momentum"] for r in rows if r["optimizer"] == "momentum"} == {0.9}


def test_two_axes_multiply(compose):
    cfg = compose(
        ["optimizer=momentum", "grid.learning_rate=[0.1,0.2]", "grid.momentum=[0,0.5,0.9]"]
    )
    job = build_job(cfg, single_optimizer=True)
    pts = job.points
    assert list(zip(pts["learning_rate"], pts["momentum"], strict=True)) == list(
        itertools.product([0.1, 0.2], [0.0, 0.5, 0.9])
    )


def test_seed_axis_draws_the_random_starts_once_per_seed(compose):
    job = build_job(compose(["surface=himmelblau", "grid.seed=[3,5]", "starts=2", "steps=2"]))
    pts = job.points
    np.testing.assert_array_equal(pts["seed"], [3, 3, 5, 5])
    for s in (3, 5):
        np.testing.assert_array_equal(
            pts["start"][pts["seed"] == s], random_starts(job.surface.bounds, 2, s)
        )
    rows = records.run_rows(job, simulate(job))
    assert [r["seed"] for r in rows] == [3, 3, 5, 5]


def test_start_grid_is_a_lattice_over_the_bounds(compose):
    job = build_job(compose(["surface=himmelblau", "start_grid=3"]))
    lo, hi = job.surface.bounds[0]
    assert job.starts.shape == (9, 2)
    for axis in range(2):
        np.testing.assert_allclose(np.unique(job.starts[:, axis]), [lo, (lo + hi) / 2, hi])
    assert len({tuple(s) for s in job.starts}) == 9


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["experiment=rosenbrock", "grid.b1=[0.5]"], r"grid\.b1 does not apply to optimizer 'gd'"),
        (["optimizer=momentum", "grid.momentum=[0.5,1.5]"], r"grid\.momentum=1\.5 is invalid"),
        (["grid.learning_rate=[]"], r"grid\.learning_rate=\[\] is invalid: .*empty"),
        (["grid.learning_rate=[a,b]"], r"grid\.learning_rate=\['a', 'b'\] is invalid"),
        (
            ["grid.learning_rate='logspace(1,2)'"],
            r"grid\.learning_rate='logspace\(1,2\)' is invalid",
        ),
        (["grid.seed=[0.5]"], r"grid\.seed=\[0\.5\] is invalid"),
        (["grid.seed=[1,2]", "start_grid=3"], r"grid\.seed varies random starts only"),
        (["grid.seed=[1,2]", "start=[0,0]"], r"grid\.seed varies random starts only"),
        (["starts=4", "start_grid=3"], r"starts=4 and start_grid=3 exclude each other"),
        (["start_grid=1"], r"start_grid=1 is invalid"),
        (["record=[loss,hessian]"], r"record=\['loss', 'hessian'\] is invalid"),
        (["record_every=0"], r"record_every=0 is invalid"),
        (["chunk_size=0"], r"chunk_size=0 is invalid"),
        (["chunk_size=-5"], r"chunk_size=-5 is invalid"),
        (["device=quantum"], r"device='quantum' is invalid: allowed: auto, cpu, gpu, tpu"),
        (["progress=sometimes"], r"progress='sometimes' is invalid"),
    ],
)
def test_bad_scale_settings(compose, overrides, message):
    with pytest.raises(UserError, match=message):
        build_job(compose(overrides), single_optimizer=any("optimizer" in o for o in overrides))


def test_cli_rejects_a_bad_grid_in_one_line(cli):
    proc, _ = cli("grid.learning_rate=[]")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "optlab: error: grid.learning_rate=[] is invalid: the axis is empty"
    ]


def test_unquoted_range_spec_is_caught_before_hydra(capsys):
    with pytest.raises(SystemExit) as e:
        precheck(["optimizer=adam", "grid.learning_rate=logspace(-3,0,16)"])
    assert e.value.code == 2
    assert "'grid.learning_rate=\"logspace(-3,0,16)\"'" in capsys.readouterr().err
    precheck(["optimizer=adam", 'grid.learning_rate="logspace(-3,0,16)"'])  # quoted: passes
