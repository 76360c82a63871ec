"""Done criterion: every optimizer runs on Rosenbrock and Himmelblau; runs.csv has status and counts."""

from __future__ import annotations

import math

import pytest
from conftest import run_cli
from optimizer_helpers import yaml_names

from optlab import app, records
from optlab.config import build_job

STEPS = 200
STARTS = "start=[[-1.2,1.0],[4.0,-3.0]]"  # the classic start, and a far one where many diverge


@pytest.mark.slow
@pytest.mark.parametrize("surface", ["rosenbrock", "himmelblau"])
def test_every_optimizer_runs_and_records_status_and_evaluation_counts(surface, compose, tmp_path):
    cfg = compose([f"surface={surface}", f"steps={STEPS}", STARTS, "diagnostics=false"])
    cfg.lineup = {name: {"name": name} for name in yaml_names()}
    job = build_job(cfg)
    rows = records.write(tmp_path, job, app.simulate(job))
    written = records.read_csv(tmp_path / "runs.csv")
    assert len(written) == len(rows) == 2 * len(yaml_names())
    for row in written:
        name, taken = row["optimizer"], int(row["steps_taken"])
        f, g, h = (int(row[k]) for k in ("f_evals", "grad_evals", "hessian_evals"))
        assert row["status"] in {"converged", "max_steps", "diverged"}, name
        assert (taken == STEPS) == (row["status"] == "max_steps"), name
        if row["status"] != "diverged":
            assert math.isfinite(float(row["final_loss"])), name
        if name == "lbfgs":  # each zoom line-search trial evaluates f and ∇f
            assert f == g >= 1 + 2 * taken and h == 0
            continue
        assert g == 1 + taken, name  # the engine's gradient at the start and after each step
        if name == "newton":
            assert h == taken and f >= 1 + 2 * taken  # ≥ 1 Armijo trial per step
        else:
            assert f == g and h == 0, name
    by_label = {r["label"]: r for r in written}
    for name in ("newton", "lbfgs"):
        assert float(by_label[f"{name}[0]"]["distance_to_minimizer"]) < 1e-3


def test_lbfgs_and_newton_through_the_command_line(tmp_path):
    """One multirun: both solve Rosenbrock from (−1.2, 1); runs.csv carries status and counts."""
    proc = run_cli(
        [
            "-m",
            "optimizer=lbfgs,newton",
            "surface=rosenbrock",
            f"steps={STEPS}",
            "start=[-1.2,1.0]",
            f"hydra.sweep.dir={tmp_path / 'multirun'}",
        ],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    for job, name in enumerate(("lbfgs", "newton")):
        (row,) = records.read_csv(tmp_path / "multirun" / str(job) / "runs.csv")
        assert row["optimizer"] == name and row["status"] == "converged"
        taken = int(row["steps_taken"])
        assert 5 < taken < 60
        f, g, h = (int(row[k]) for k in ("f_evals", "grad_evals", "hessian_evals"))
        assert f >= 1 + 2 * taken  # ≥ 1 line-search trial per step
        assert (g, h) == ((f, 0) if name == "lbfgs" else (1 + taken, taken))
