"""Fair tuning: equal budgets, log grids, choice on tuning starts only, one program per optimizer."""

from __future__ import annotations

import numpy as np
import pytest

from optlab import app, results, tuning
from optlab.config import build_job
from optlab.engine import program
from optlab.errors import UserError


def _job(lineup, **overrides):
    cfg = {
        "surface": {"name": "sphere", "dim": 2},
        "lineup": lineup,
        "steps": 30,
        "starts": 3,
        "seed": 4,
        "dtype": "float64",
        "tol_grad": 0.0,
    }
    return build_job(cfg | overrides)


def test_log_grid_is_log_spaced_between_the_bounds():
    g = tuning.log_grid(1e-5, 1.0, 6)
    assert g[0] == pytest.approx(1e-5) and g[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(np.diff(np.log10(g)), 1.0)
    assert tuning.log_grid(1e-4, 1e-2, 1)[0] == pytest.approx(1e-3)


def test_every_optimizer_gets_the_same_budget():
    opts = tuning.Options(budget=12, learning_rate=(1e-3, 1.0), other=(0.5, 0.9, 0.99))
    job = _job({"gd": {"name": "gd"}, "momentum": {"name": "momentum"}, "adam": {"name": "adam"}})
    gd, mom, adam = (tuning.settings(m, opts) for m in job.members)
    assert len(gd) == len(mom) == len(adam) == 12
    np.testing.assert_allclose([s["learning_rate"] for s in gd], tuning.log_grid(1e-3, 1.0, 12))
    assert {s["momentum"] for s in mom} == {0.5, 0.9, 0.99}  # heavy ball: its momentum
    assert {s["b1"] for s in adam} == {0.5, 0.9, 0.99}  # Adam: β₁
    lrs = sorted({s["learning_rate"] for s in mom})
    np.testing.assert_allclose(lrs, tuning.log_grid(1e-3, 1.0, 4))


def test_choose_takes_the_lowest_median_and_the_first_on_ties():
    scores = np.array([[0.0, 5.0, 9.0], [1.0, 1.0, 1.0], [np.inf, -9.0, -9.0], [1.0, 1.0, 1.0]])
    best, med = tuning.choose(scores)
    np.testing.assert_array_equal(med, [5.0, 1.0, -9.0, 1.0])
    assert best == 2  # a diverged start (inf) counts, but the median is robust to one
    assert tuning.choose(np.array([[2.0], [1.0], [1.0]]))[0] == 1


def test_score_is_mean_log_gap_with_floor_and_inf_when_diverged():
    loss = np.array([[1.0, 1e-2, 1e-12], [1.0, 1.0, 1.0]])
    s = tuning.scores(loss + 3.0, np.array([2, 3]), 3.0, 1e-8)
    assert s[0] == pytest.approx((0.0 - 2.0 - 8.0) / 3) and s[1] == np.inf


def test_gd_on_the_sphere_chooses_the_fastest_contraction():
    """On x² + y², gd contracts by |1 − 2η| per step; the best grid point minimises that."""
    opts = tuning.Options(budget=12, learning_rate=(1e-3, 1.0), starts=4, floor=1e-8)
    job = _job({"gd": {"name": "gd"}})
    plan = tuning.plan(job, opts)
    compiled = program._cache_size()
    result = tuning.run(plan, app.simulate)
    assert program._cache_size() == compiled + 1  # every setting × start in ONE program
    grid = tuning.log_grid(1e-3, 1.0, 12)
    expect = grid[np.argmin(np.abs(1 - 2 * grid))]
    assert result.job.members[0].hparams["learning_rate"] == pytest.approx(expect)
    chosen = [r for r in result.table if r["chosen"]]
    assert len(chosen) == 1 and chosen[0]["learning_rate"] == pytest.approx(expect)


def test_choice_uses_tuning_starts_only_and_reports_evaluation_starts():
    opts = tuning.Options(budget=6, learning_rate=(1e-2, 0.6), starts=5)
    job = _job({"gd": {"name": "gd"}, "momentum": {"name": "momentum"}})
    plan = tuning.plan(job, opts)
    assert not set(map(tuple, plan.tune_starts)) & set(map(tuple, job.starts))
    assert tuning.chunks(plan) == [[0, 1]] and tuning.chunks(plan, max_bytes=1) == [[0], [1]]
    compiled = program._cache_size()
    result = tuning.run(plan, app.simulate)
    assert program._cache_size() == compiled + 1  # both optimizers, every setting: one program
    np.testing.assert_array_equal(result.job.starts, job.starts)
    n_tune = len(result.tune_job.starts)
    np.testing.assert_allclose(result.traj.params[:, 0], np.tile(job.starts, (2, 1)))
    np.testing.assert_allclose(result.tune_traj.params[:, 0], np.tile(plan.tune_starts, (12, 1)))
    for i, member in enumerate(result.job.members):
        per = result.tune_scores[i * 6 * n_tune : (i + 1) * 6 * n_tune].reshape(6, n_tune)
        best = int(np.argmin(np.median(per, axis=1)))
        setting = plan.settings[i][best]
        assert all(member.hparams[k] == v for k, v in setting.items())
        mask = result.chosen_mask[i * 6 * n_tune : (i + 1) * 6 * n_tune].reshape(6, n_tune)
        assert mask[best].all() and mask.sum() == n_tune


def test_tune_task_records_settings_and_store(compose, tmp_path):
    db = tmp_path / "results.sqlite"
    cfg = compose(
        [
            "experiment=rosenbrock",
            "task=tune",
            "starts=3",
            "steps=20",
            "tuning={budget: 3, starts: 2}",
            f"results={db}",
        ]
    )
    app.tune(cfg, tmp_path / "run", [])
    rows = results.load(db)
    tune = [r for r in rows if r["role"] == "tune"]
    evals = [r for r in rows if r["role"] == "eval"]
    assert len(tune) == 3 * 3 * 2 and len(evals) == 3 * 3
    for label in ("gd", "momentum", "adam"):
        chosen = {str(r["hparams"]) for r in tune if r["label"] == label and r["chosen"]}
        used = {str(r["hparams"]) for r in evals if r["label"] == label}
        assert len(chosen) == 1 and chosen == used
    assert (tmp_path / "run" / "tuning.csv").read_text().count("\n") == 1 + 9
    assert app.tune(cfg, tmp_path / "again", []) == []  # resume: the job is stored


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ({"budget": 0}, "tuning.budget=0 is invalid"),
        ({"learning_rate": [1.0, 0.1]}, "tuning.learning_rate=[1.0, 0.1] is invalid"),
        ({"other": [1.5]}, "tuning.other=[1.5] is invalid"),
        ({"starts": -1}, "tuning.starts=-1 is invalid"),
        ({"grid": 3}, "tuning.grid=3 is unknown"),
        ({"budget": 2}, "tuning.budget=2 is invalid: must be >= the 3 values"),
        ({"floor": 0}, "tuning.floor=0 is invalid"),
    ],
)
def test_bad_tuning_options_one_line(value, needle):
    with pytest.raises(UserError) as e:
        tuning.options(value, results.TARGETS)
    assert "\n" not in str(e.value) and needle in str(e.value)


def test_options_defaults_and_floor():
    opts = tuning.options({"budget": 6, "learning_rate": [1e-3, 1]}, [1e-3, 1e-6])
    assert opts == tuning.Options(6, (1e-3, 1.0), (0.5, 0.9, 0.99), 8, 1e-6)
    assert tuning.options({"floor": 1e-4}, results.TARGETS).floor == 1e-4


def test_tuning_refuses_a_grid_sweep():
    job = _job({"gd": {"name": "gd"}}, grid={"learning_rate": [0.1, 0.2]})
    with pytest.raises(UserError) as e:
        tuning.plan(job, tuning.Options())
    assert "\n" not in str(e.value) and "grid.learning_rate cannot be combined" in str(e.value)
