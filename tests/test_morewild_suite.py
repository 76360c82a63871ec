"""`experiment=morewild` (optlab/suite.py): the convergence test on hand-worked runs, tuning, and a
small suite end to end (float64)."""

from __future__ import annotations

import numpy as np
import pytest

from optlab import cost, suite
from optlab.config import _member, build_suite
from optlab.errors import UserError
from optlab.records import read_csv


def runs(best, costs, rows, labels, lrs=None) -> suite.Runs:
    best = [np.asarray(b, float) for b in best]
    return suite.Runs(
        np.asarray(rows),
        np.asarray(labels),
        np.asarray(lrs if lrs is not None else [np.nan] * len(rows), float),
        best,
        [np.asarray(c, float) for c in costs],
        np.array([b[0] for b in best]),
    )


def test_convergence_test_by_hand():
    # f₀ = 10, f_L = 0.5: τ = 0.1 needs f ≤ 10 − 0.9·9.5 = 1.45 (cost 6); τ = 10⁻³ needs
    # f ≤ 10 − 0.999·9.5 = 0.5095 (cost 8); a budget of 2·(2 + 1) = 6 units leaves only the first.
    r = runs([[10, 5, 1, 0.5]], [[2, 4, 6, 8]], [7], ["a"])
    low = {7: 0.5}
    assert suite.solve_costs(r, low, 0.1, 100).tolist() == [6.0]
    assert suite.solve_costs(r, low, 1e-3, 100).tolist() == [8.0]
    assert suite.solve_costs(r, low, 1e-3, 2).tolist() == [np.inf]
    assert suite.lowest(r, 2) == {7: 1.0} and suite.lowest(r, 100) == {7: 0.5}


def test_cost_tables_and_best_table_by_hand():
    r = runs(
        [[24.2, 1.0, 1e-3], [24.2, 20.0, 10.0]],
        [[2, 4, 6], [2, 4, 6]],
        [7, 7],
        ["fast", "slow"],
    )
    p = suite.cost_tables(r, ["fast", "slow"], [0.1, 1e-3], 100)
    assert p.problems == [7] and p.dims.tolist() == [2] and p.f_low == {7: 1e-3}
    # slow: 24.2 − 10 = 14.2 < 0.9·(24.2 − 0.001): never; fast: 1.0 passes τ = 0.1 at cost 4
    np.testing.assert_array_equal(p.t[0.1], [[4.0, np.inf]])
    np.testing.assert_array_equal(p.t[1e-3], [[6.0, np.inf]])
    (row,) = suite.best_table(r, 100)
    assert row["best_by"] == "fast" and row["best_f"] == 1e-3 and row["f_star"] == 0.0


def test_tuning_picks_the_rate_that_solves_most():
    r = runs(
        [[10, 9, 9], [10, 0.1, 0.0], [4, 3, 2], [4, 1e-9, 0.0]],
        [[2, 4, 6]] * 4,
        [7, 7, 11, 11],
        ["gd"] * 4,
        [0.1, 0.01, 0.1, 0.01],
    )

    job = suite.SuiteJob(
        (7, 11), (), {"gd": np.array([0.1, 0.01])}, 100.0, (0.1, 1e-3), cost.Cost()
    )
    assert suite.tune(r, job) == {"gd": 0.01}
    kept = suite.lineup_runs(r, {"gd": 0.01})
    assert kept.learning_rates.tolist() == [0.01, 0.01] and kept.rows.tolist() == [7, 11]


def test_bad_suite_options(compose):
    for override, key in (
        ("suite.problems=[0]", "suite.problems"),
        ("suite.taus=[2]", "suite.taus"),
        ("suite.budget=-1", "suite.budget"),
    ):
        with pytest.raises(UserError, match=key):
            build_suite(compose(["experiment=morewild", override]))
    job = build_suite(compose(["experiment=morewild"]))
    assert job.problems == tuple(range(1, 54)) and job.budget == 100
    assert [m.label for m in job.members] == ["gd", "momentum", "adam", "lbfgs", "newton"]
    assert job.taus == (0.1, 1e-3, 1e-5, 1e-7) and set(job.grids) == {"gd", "momentum", "adam"}


@pytest.mark.slow
def test_small_suite_end_to_end():
    members = (_member("gd", {"name": "gd"}, "lineup.gd"), _member("newton", {}, "lineup.newton"))
    job = suite.SuiteJob(
        problems=(7, 8, 17),
        members=members,
        grids={"gd": np.array([1e-4, 1e-3])},
        budget=100.0,
        taus=(0.1, 1e-3),
        cost=cost.Cost(),
    )
    r = suite.run(job, log=lambda _: None)
    assert len(r.rows) == (2 + 1) * 3  # gd at two rates and newton, on three problems
    for row, label, b, c in zip(r.rows, r.labels, r.best, r.cost, strict=True):
        assert np.all(np.diff(b) <= 0) and np.all(np.diff(c) >= 0)
        if label == "gd":  # one f and one ∇f per step, exactly, until a run stops (diverges)
            d = np.diff(c)
            assert c[0] == 2 and set(d) <= {0.0, 2.0} and np.all(np.diff(d) <= 0)
        else:  # Newton: at least f, ∇f and a Hessian (n units) per step
            n = 2 if row in (7, 8) else 4
            assert np.all(np.diff(c)[np.diff(c) > 0] >= 2 + n)
    chosen = suite.tune(r, job)
    p = suite.cost_tables(suite.lineup_runs(r, chosen), ["gd", "newton"], job.taus, job.budget)
    t01, t3 = p.t[0.1], p.t[1e-3]
    assert np.all((t01 <= t3) | ~np.isfinite(t3))  # a tighter test never costs less
    best = {x["problem"]: x for x in suite.best_table(suite.lineup_runs(r, chosen), job.budget)}
    assert best[7]["best_by"] == "newton" and best[7]["best_f"] < 1e-12  # Rosenbrock solved
    assert best[17]["relative_difference"] < 1e-6  # Kowalik–Osborne: MGH's 3.07505e-4


@pytest.mark.slow
def test_experiment_through_the_cli(cli):
    proc, out = cli(
        "experiment=morewild",
        "suite.problems=[7]",
        "suite.tune.gd=[1.0e-4,1.0e-3,2]",
        "~suite.tune.momentum",
        "~suite.tune.adam",
        "~lineup.momentum",
        "~lineup.adam",
        "~lineup.lbfgs",
    )
    assert proc.returncode == 0, proc.stderr
    (row,) = read_csv(out / "best.csv")
    assert row["problem"] == "7" and float(row["f0"]) == pytest.approx(24.2)
    solved = read_csv(out / "solved.csv")
    assert {r["label"] for r in solved} == {"gd", "newton"}
    for tau in ("1e-01", "1e-03", "1e-05", "1e-07"):
        assert (out / f"profiles_tau{tau}.png").read_bytes()[:4] == b"\x89PNG"
    kinds = {r["kind"] for r in read_csv(out / "profiles.csv")}
    assert kinds == {"data", "performance"}
