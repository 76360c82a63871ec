"""Reports: profile maths against hand-computed examples, tables against the trajectories, CLI errors."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from optlab import app, results
from optlab.config import build_job
from optlab.engine import DIVERGED
from optlab.errors import UserError
from optlab.report import profiles, tables, write

INF = np.inf
# 3 problems × 2 solvers: evaluations to the target (inf: never reached)
T = np.array([[1.0, 2.0], [4.0, 2.0], [INF, 3.0]])


def test_performance_ratios_by_hand():
    np.testing.assert_array_equal(profiles.ratios(T), [[1, 2], [2, 1], [INF, 1]])
    np.testing.assert_array_equal(profiles.ratios(np.array([[INF, INF]])), [[INF, INF]])


def test_performance_profile_by_hand():
    rho = profiles.performance_profile(T, np.array([1.0, 1.5, 2.0, 1e9, INF]))
    # solver A: ratios 1, 2, inf; solver B: 2, 1, 1
    np.testing.assert_allclose(rho[:, 0], [1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(rho[:, 1], [2 / 3, 2 / 3, 1, 1, 1])
    # a problem nobody solves stays in the denominator
    both_fail = np.vstack([T, [INF, INF]])
    np.testing.assert_allclose(profiles.performance_profile(both_fail, [INF])[0], [2 / 4, 3 / 4])


def test_data_profile_by_hand():
    dims = np.array([2, 2, 5])  # budgets in simplex gradients: t / (n + 1)
    # A: 1/3, 4/3, inf; B: 2/3, 2/3, 1/2
    d = profiles.data_profile(T, dims, np.array([0.4, 0.5, 2 / 3, 1.0, 4 / 3, INF]))
    np.testing.assert_allclose(d[:, 0], [1 / 3, 1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(d[:, 1], [0, 1 / 3, 1, 1, 1, 1])


def test_ecdf_pools_problems_and_targets_by_hand():
    t = np.array(
        [
            [[1.0, 5.0], [2.0, INF]],  # problem 1: solver A reaches both targets, B one
            [[3.0, INF], [1.0, 1.0]],
        ]
    )  # (P=2, S=2, K=2)
    e = profiles.ecdf(t, np.array([0.5, 1.0, 3.0, 5.0, INF]))
    np.testing.assert_allclose(e[:, 0], [0, 1 / 4, 2 / 4, 3 / 4, 3 / 4])
    np.testing.assert_allclose(e[:, 1], [0, 2 / 4, 3 / 4, 3 / 4, 3 / 4])
    assert len(profiles.COCO_TARGETS) == 51
    assert profiles.COCO_TARGETS[0] == 1e2 and profiles.COCO_TARGETS[-1] == pytest.approx(1e-8)


def _store(db, surfaces=("sphere", "himmelblau")):
    """Three optimizers on two surfaces from the same 4 starts; returns {surface: (job, traj)}."""
    lineup = {
        "gd": {"name": "gd", "learning_rate": 0.01},
        "momentum": {"name": "momentum", "learning_rate": 0.01, "momentum": 0.9},
        "adam": {"name": "adam", "learning_rate": 0.1},
        "gd_diverges": {"name": "gd", "learning_rate": 3.0},
    }
    runs = {}
    with results.Store(db) as store:
        for name in surfaces:
            cfg = {"surface": {"name": name}, "lineup": lineup, "steps": 150, "starts": 4}
            job = build_job(cfg | {"dtype": "float64", "tol_grad": 0.0, "seed": 1})
            traj = app.simulate(job)
            key = results.job_key(job)
            store.append(key, results.rows_for(job, traj, job_hash=key))
            runs[name] = (job, traj)
    return runs


def _parse(md, heading):
    """The markdown table under `heading`: {optimizer: cells}."""
    part = md.split(heading, 1)[1]
    lines = [ln for ln in part.split("\n\n")[2].splitlines() if ln.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    out = {}
    for ln in lines[1:]:
        cells = dict(zip(header, (c.strip() for c in ln.strip("|").split("|")), strict=True))
        out[cells["optimizer"]] = cells
    return out


def test_report_tables_match_the_trajectories(tmp_path):
    db = tmp_path / "results.sqlite"
    runs = _store(db)
    path = write(tmp_path, tmp_path / "report")
    md = path.read_text()
    for name, (job, traj) in runs.items():
        table = _parse(md, f"### {name} 2-D")
        gap = traj.loss - job.surface.f_min
        for m, member in enumerate(job.members):
            g = gap[m * 4 : (m + 1) * 4]
            final = np.where(traj.status[m * 4 : (m + 1) * 4] == DIVERGED, np.inf, g[:, -1])
            cells = table[member.label]
            assert cells["runs"] == "4"
            median = np.sort(final)[1:3].mean()  # of 4 runs
            assert cells["median f − f*"] == ("∞" if np.isinf(median) else f"{median:.1e}")
            for t in results.TARGETS:
                hit = [np.flatnonzero(row <= t) for row in g]
                ok = [h[0] for h in hit if len(h)]
                rate, evals = cells[results.target_name(t)].split(" · ")
                assert rate == f"{100 * len(ok) / 4:.0f}%"
                # gd, heavy ball, Adam: 2 evaluations at the start, then 2 per step
                assert evals == ("—" if not ok else f"{np.median([2 + 2 * k for k in ok]):,.0f}")
        ranks = [int(c["rank"]) for c in table.values()]
        assert sorted(ranks) == [1, 2, 3, 4]
        assert table["gd_diverges"]["rank"] == "4"
        best = next(c for c in table.values() if c["rank"] == "1")
        rates = [int(c["1e-08"].split("%")[0]) for c in table.values()]
        assert int(best["1e-08"].split("%")[0]) == max(rates)
    for png in ("performance_profiles", "data_profiles", "ecdf"):
        assert (tmp_path / "report" / f"{png}.png").read_bytes()[:4] == b"\x89PNG"
    for name in ("sphere_2d", "himmelblau_2d"):
        for kind in ("loss", "contour"):
            assert f"({kind}_{name}.png)" in md
            assert (tmp_path / "report" / f"{kind}_{name}.png").stat().st_size > 10_000


def test_cost_table_keeps_problems_every_solver_ran(tmp_path):
    rows = [
        {"role": "run", "label": s, "hparams": {}, "surface": "sphere", "instance": {"dim": 2},
         "dim": 2, "start": [float(p), 0.0], "status": "max_steps", "gap": 0.0, "f_min": 0.0,
         "curve": np.array([1.0, 0.0], np.float32), "steps_taken": 1, "evals": 4,
         "steps": 1, "record_every": 1}
        for s, p in [("a", 0), ("a", 1), ("b", 0)]
    ]  # fmt: skip
    runs = tables.prepare(rows, [0.5])
    t, dims, problems = tables.cost_table(runs, runs.evals_to)
    assert t.shape == (1, 2, 1) and problems == [("sphere 2-D", "[0.0, 0.0]")]
    np.testing.assert_array_equal(t[0, :, 0], [4.0, 4.0])
    assert list(dims) == [2]


def test_report_with_no_runs_is_one_line(tmp_path):
    with pytest.raises(UserError, match="holds no results store"):
        write(tmp_path)
    results.Store(tmp_path / "results.sqlite").close()  # a store with no runs yet
    with pytest.raises(UserError) as e:
        write(tmp_path)
    assert "\n" not in str(e.value) and "no runs to report" in str(e.value)


def test_report_cli_on_a_dir_without_runs_one_line(tmp_path):
    env = os.environ | {"PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run(
        [sys.executable, "-m", "optlab.report", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("optlab: error:")
    assert "holds no results store" in lines[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["--targets", ""], "targets=[] is invalid"), (["--targets", "1e-2,x"], "--targets='1e-2,x'")],
)
def test_report_cli_bad_targets_one_line(tmp_path, capsys, args, needle):
    from optlab.report.__main__ import main

    results.Store(tmp_path / "results.sqlite").close()
    with pytest.raises(SystemExit) as e:
        main([str(tmp_path), *args])
    assert e.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("optlab: error:") and needle in lines[0]


def test_multirun_callback_writes_the_report_beside_the_store(tmp_path, caplog):
    from omegaconf import OmegaConf

    from optlab.callbacks import Report

    sweep = tmp_path / "sweep"
    config = {"results": None, "targets": [1e-2, 1e-6], "hydra": {"sweep": {"dir": str(sweep)}}}
    with caplog.at_level("INFO", logger="optlab"):
        Report().on_multirun_end(OmegaConf.create(config))  # no store: nothing to report
    assert "no report" in caplog.text and not (sweep / "report.md").exists()
    results.Store(sweep / "results.sqlite").close()  # a store without runs: a warning
    Report().on_multirun_end(OmegaConf.create(config))
    assert "no runs to report" in caplog.text and not (sweep / "report.md").exists()
    _store(sweep / "results.sqlite", surfaces=("sphere",))
    Report().on_multirun_end(OmegaConf.create(config))
    md = (sweep / "report.md").read_text()
    assert "| 1e-02 | 1e-06 |" in md and "1e-08" not in md.split("## Overall ranking")[1]
    elsewhere = tmp_path / "elsewhere.sqlite"
    _store(elsewhere, surfaces=("himmelblau",))
    Report().on_multirun_end(OmegaConf.create(config | {"results": str(elsewhere)}))
    assert "himmelblau 2-D" in (sweep / "report.md").read_text()
