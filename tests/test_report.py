"""Reports: profile maths on hand-worked inputs, tables and CSVs against the trajectories, tied
ranks, byte-identical reruns, re-weighting with --cost, and one-line errors that write nothing."""

from __future__ import annotations

import csv
import itertools
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, simulate_and_store

from optlab import cost, results
from optlab.config import build_job
from optlab.engine import DIVERGED
from optlab.errors import UserError
from optlab.report import document, profiles, tables, write

INF = np.inf
# 3 problems × 2 solvers: cost to pass the test (inf: never)
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
    # the breakpoints the CSV keeps: A steps to 1/3 at α = 1 and to 2/3 at α = 2
    (xa, ya), (xb, yb) = profiles.breakpoints(profiles.ratios(T))
    np.testing.assert_array_equal(xa, [1, 2]) and np.testing.assert_allclose(ya, [1 / 3, 2 / 3])
    np.testing.assert_array_equal(xb, [1, 2]) and np.testing.assert_allclose(yb, [2 / 3, 1])


def test_data_profile_by_hand():
    dims = np.array([2, 2, 5])  # budgets in simplex gradients: t / (n + 1)
    # A: 1/3, 4/3, inf; B: 2/3, 2/3, 1/2
    d = profiles.data_profile(T, dims, np.array([0.4, 0.5, 2 / 3, 1.0, 4 / 3, INF]))
    np.testing.assert_allclose(d[:, 0], [1 / 3, 1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(d[:, 1], [0, 1 / 3, 1, 1, 1, 1])
    (xa, ya), (xb, yb) = profiles.breakpoints(T, dims[:, None] + 1.0)
    np.testing.assert_allclose(xa, [1 / 3, 4 / 3]) and np.testing.assert_allclose(
        ya, [1 / 3, 2 / 3]
    )
    np.testing.assert_allclose(xb, [1 / 2, 2 / 3]) and np.testing.assert_allclose(yb, [1 / 3, 1])


def test_more_wild_convergence_test_by_hand():
    # f(x0) − f(x) ≥ (1 − τ)(f(x0) − f_L) with f − f*: g0 = 10, g_L = 2, τ = 0.5 -> g ≤ 6
    assert profiles.convergence_targets(10.0, 2.0, 0.5) == 6.0
    assert profiles.convergence_targets(10.0, 0.0, 1e-1) == pytest.approx(1.0)
    # first recorded point at or below each target, on the running minimum: (curve, cost)
    curves = np.array([[5.0, 3.0, 4.0, 1.0], [5.0, 2.0, 9.0, 9.0]])
    cum = np.array([[2.0, 4.0, 6.0, 8.0], [3.0, 6.0, 9.0, 12.0]])
    got = tables.first_cost(curves, cum, [3.5, 1.0, 0.5])
    np.testing.assert_array_equal(got, [[4, 8, INF], [6, INF, INF]])


def _row(solver, start, curve, cum, surface="sphere", dim=2):
    """A stored run by hand: f − f* per step and cumulative (f, ∇f, ∇²f) counts."""
    curve = np.asarray(curve, dtype=np.float32)
    cum = np.asarray(cum, dtype=np.int32)
    return {
        "role": "run", "label": solver, "hparams": {}, "surface": surface, "instance": {"dim": dim},
        "dim": dim, "start": [float(start), 0.0], "status": "max_steps", "gap": float(curve[-1]),
        "f_min": 0.0, "curve": curve, "cum_evals": cum, "steps_taken": len(curve) - 1,
        "f_evals": int(cum[-1, 0]), "grad_evals": int(cum[-1, 1]),
        "hessian_evals": int(cum[-1, 2]), "steps": len(curve) - 1, "record_every": 1,
        "cost": None, "job_hash": "j", "run_hash": f"{solver}{start}",
    }  # fmt: skip


GD = [[1, 1, 0], [2, 2, 0], [3, 3, 0], [4, 4, 0]]  # 2 per step
NEWTON = [[1, 1, 0], [2, 2, 1], [3, 3, 2], [4, 4, 3]]  # 2 + d per step (d = 2)


def test_more_wild_data_and_performance_profiles_on_hand_made_runs():
    # problem 0 (start 0): g0 = 8; a reaches 0 at step 3, b reaches 1 at step 1 -> f_L = 0
    # problem 1 (start 1): g0 = 8; a stalls at 4, b reaches 2 at step 2 -> f_L = 2
    rows = [
        _row("a", 0, [8, 6, 2, 0], GD),
        _row("b", 0, [8, 1, 1, 1], NEWTON),
        _row("a", 1, [8, 4, 4, 4], GD),
        _row("b", 1, [8, 8, 2, 2], NEWTON),
    ]
    runs = tables.prepare(rows, [1e-2])
    designs = [tables.design(runs, s) for s in runs.surfaces]
    index, dims, names = tables.problems(runs, designs)
    assert names == [("sphere 2-D", "[0.0, 0.0]"), ("sphere 2-D", "[1.0, 0.0]")]
    mw = document.more_wild_costs(runs, index, [0.5, 0.1])
    # τ = 0.5: p0 target 0 + 0.5·8 = 4: a at step 2 (cost 6), b at step 1 (cost 2+2 + 2 = 6 with
    # ∇²f = d = 2: f 2, ∇f 2, ∇²f 1 -> 2 + 2 + 2 = 6); p1 target 2 + 0.5·6 = 5: a step 1 (4),
    # b step 2 (3 + 3 + 2·2 = 10). τ = 0.1: p0 target 0.8: a step 3 (8), b never (1 > 0.8);
    # p1 target 2.6: a never (4), b step 2 (10)
    np.testing.assert_array_equal(mw[:, :, 0], [[6, 6], [4, 10]])
    np.testing.assert_array_equal(mw[:, :, 1], [[8, INF], [INF, 10]])
    # data profile at τ = 0.1, κ = cost / (d + 1) = cost / 3: a solves p0 at 8/3, b p1 at 10/3
    (xa, ya), (xb, yb) = profiles.breakpoints(mw[:, :, 1], dims[:, None] + 1.0)
    np.testing.assert_allclose([*xa, *ya, *xb, *yb], [8 / 3, 0.5, 10 / 3, 0.5])
    # performance profile at τ = 0.5: ratios a 1, 1; b 1, 2.5
    (xa, ya), (xb, yb) = profiles.breakpoints(profiles.ratios(mw[:, :, 0]))
    np.testing.assert_array_equal(xa, [1.0]) and np.testing.assert_array_equal(ya, [1.0])
    np.testing.assert_array_equal(xb, [1.0, 2.5]) and np.testing.assert_array_equal(yb, [0.5, 1])


def test_art_and_wilson_in_the_tables_by_hand():
    # 4 starts; target 1e-2: a hits at steps 1, 3 (cost 4, 8) and fails twice (budget 8 each):
    # aRT = (4 + 8 + 8 + 8)/2 = 14; b hits all four at step 1 (cost 2 + 2 + 2 = 6): aRT 6
    rows = []
    for s in range(4):
        rows.append(_row("a", s, [1, 0 if s == 0 else 1, 1, 0 if s == 1 else 1], GD))
        rows.append(_row("b", s, [1, 0, 0, 0], NEWTON))
    runs = tables.prepare(rows, [1e-2])
    (d,) = [tables.design(runs, s) for s in runs.surfaces]
    table = {r["solver"]: r for r in tables.ranking(runs, d)}
    assert table["a"]["aRT"][0] == 14.0 and table["b"]["aRT"][0] == 6.0
    assert table["b"]["rank"] == 1 and table["a"]["rank"] == 2
    # Wilson 2 of 4: p = 0.5, z²/n = 0.9604, center 0.5, half (1.96/1.9604)·√(1/16 + 0.0600) = 0.3498
    assert table["a"]["success_low"][0] == pytest.approx(0.1500, abs=1e-4)
    assert table["a"]["success_high"][0] == pytest.approx(0.8500, abs=1e-4)
    # the secondary median among successes: a 6 (4 and 8), b 6: equal, yet b ranks first
    assert table["a"]["median_cost"][0] == table["b"]["median_cost"][0] == 6.0
    # re-weighted with ∇²f = 1: b's hit costs 2 + 2 + 1 = 5
    runs1 = tables.prepare(rows, [1e-2], cost.parse("hessian=1"))
    table1 = {r["solver"]: r for r in tables.ranking(runs1, d)}
    assert table1["b"]["aRT"][0] == 5.0 and table1["a"]["aRT"][0] == 14.0


def test_frame_holds_the_paths_and_the_nearest_minimizer():
    paths = [np.array([[0.0, 0.0], [1.0, 0.5]]), np.array([[0.5, 1.0], [np.nan, np.nan]])]
    minimizers = np.array([[2.0, 1.0], [-40.0, -40.0]])
    box = document.frame(paths, minimizers, np.array([[-50.0, 50.0], [-50.0, 50.0]]), margin=0.1)
    # points span x [0, 2] (the minimizer (2, 1) nearest the ends), y [0, 1]; 10% margins
    np.testing.assert_allclose(box, [[-0.2, 2.2], [-0.1, 1.1]])


def _store(db, surfaces=("sphere", "himmelblau"), lineup=None, steps=150, **extra):
    """Optimizers on surfaces from the same 4 starts; returns {surface: (job, traj)}."""
    lineup = lineup or {
        "gd": {"name": "gd", "learning_rate": 0.01},
        "momentum": {"name": "momentum", "learning_rate": 0.01, "momentum": 0.9},
        "adam": {"name": "adam", "learning_rate": 0.1},
        "gd_diverges": {"name": "gd", "learning_rate": 3.0},
    }
    runs = {}
    with results.Store(db) as store:
        for name in surfaces:
            cfg = {"surface": {"name": name}, "lineup": lineup, "steps": steps, "starts": 4}
            job = build_job(cfg | {"dtype": "float64", "tol_grad": 0.0, "seed": 1} | extra)
            traj = simulate_and_store(store, job)
            runs[name] = (job, traj)
    return runs


def _parse(md, heading):
    """The markdown table under `heading`: {optimizer: cells}."""
    part = md.split(heading, 1)[1]
    table = next(b for b in part.split("\n\n") if b.startswith("| "))
    lines = table.splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    out = {}
    for ln in lines[1:]:
        cells = dict(zip(header, (c.strip() for c in ln.strip("|").split("|")), strict=True))
        out[cells["optimizer"]] = cells
    return out


def _csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_report_tables_match_the_trajectories(tmp_path):
    db = tmp_path / "results.sqlite"
    runs = _store(db)
    path = write(tmp_path, tmp_path / "report")
    md = path.read_text()
    per_surface = _csv(tmp_path / "report" / "per_surface.csv")
    for name, (job, traj) in runs.items():
        table = _parse(md, f"### {name} 2-D")
        gap = traj.loss - job.surface.f_min
        for m, member in enumerate(job.members):
            sl = slice(m * 4, (m + 1) * 4)
            g = gap[sl]
            final = np.where(traj.status[sl] == DIVERGED, np.inf, g[:, -1])
            # gd, heavy ball, Adam: f and ∇f once at the start, then once each per step
            budget = 2 + 2 * np.asarray(traj.steps_taken[sl])
            cells = table[member.label]
            assert cells["runs"] == "4"
            median = np.sort(final)[1:3].mean()  # of 4 runs
            assert cells["median f − f*"] == ("∞" if np.isinf(median) else f"{median:.1e}")
            csv_row = next(
                r
                for r in per_surface
                if r["surface"] == f"{name} 2-D" and r["optimizer"] == member.label
            )
            for t in results.TARGETS:
                hit = [np.flatnonzero(row <= t) for row in g]
                cost_ = [2 + 2 * h[0] if len(h) else None for h in hit]
                n_ok = sum(c is not None for c in cost_)
                total = sum(c if c is not None else b for c, b in zip(cost_, budget, strict=True))
                art = total / n_ok if n_ok else INF
                rate = cells[results.target_name(t)].split(" ")[0]
                assert rate == f"{100 * n_ok / 4:.0f}%"
                assert float(csv_row[f"aRT_{results.target_name(t)}"]) == pytest.approx(art)
                assert float(csv_row[f"success_{results.target_name(t)}"]) == n_ok / 4
        assert table["gd_diverges"]["rank"] == "4"
    for png in ("performance_profiles", "performance_profiles_absolute", "data_profiles", "ecdf"):
        assert (tmp_path / "report" / f"{png}.png").read_bytes()[:4] == b"\x89PNG"
    for name in ("sphere_2d", "himmelblau_2d"):
        for kind in ("loss", "contour"):
            assert f"({kind}_{name}.png)" in md
            assert (tmp_path / "report" / f"{kind}_{name}.png").stat().st_size > 10_000
    # the protocol states the cost model and the software, and no host name or user path
    assert "cost: f = 1, ∇f = 1, ∇²f = d" in md
    assert "jax " in md and "numpy " in md and "x64 " in md
    assert socket.gethostname() not in md and str(tmp_path) not in md
    assert str(Path.home()) not in md


def _ranks(out):
    """Each solver's ranks in every table: (per_surface.csv, ranking.csv, report.md)."""
    md = (out / "report.md").read_text()
    per = {}
    for r in _csv(out / "per_surface.csv"):
        per.setdefault(r["optimizer"], []).append(r["rank"])
        per[r["optimizer"]].append(_parse(md, f"### {r['surface']}")[r["optimizer"]]["rank"])
    for r in _csv(out / "ranking.csv"):
        per[r["optimizer"]] += [r["rank"], r["mean_rank"], r["mean_rank_low"], r["mean_rank_high"]]
        cells = _parse(md, "## Overall ranking")[r["optimizer"]]
        per[r["optimizer"]] += [cells["rank"], cells["mean rank [95% CI]"]]
    return per


def test_bit_identical_runs_get_identical_ranks_in_every_table_and_same_bytes_twice(tmp_path):
    lineup = {
        "gd": {"name": "gd", "learning_rate": 0.02},
        "sgd": {"name": "sgd", "learning_rate": 0.02, "momentum": None},  # the same updates
        "adam": {"name": "adam", "learning_rate": 0.05},
    }
    runs = _store(tmp_path / "results.sqlite", ("sphere", "rosenbrock"), lineup, steps=60)
    for _job, traj in runs.values():  # the premise: gd and sgd are bit-identical
        np.testing.assert_array_equal(traj.loss[:4], traj.loss[4:8])
    a = tmp_path / "a"
    write(tmp_path, a)
    ranks = _ranks(a)
    assert ranks["gd"] == ranks["sgd"] and ranks["gd"] != ranks["adam"]
    write(tmp_path, tmp_path / "b")
    for f in sorted(p.name for p in a.iterdir()):
        assert (a / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_art_is_monotone_across_targets(tmp_path):
    _store(tmp_path / "results.sqlite", ("himmelblau",))
    write(tmp_path, tmp_path / "r", [1e-1, 1e-3, 1e-5, 1e-7])
    names = ["1e-01", "1e-03", "1e-05", "1e-07"]
    for r in _csv(tmp_path / "r" / "per_surface.csv") + _csv(tmp_path / "r" / "ranking.csv"):
        art = [float(r[f"aRT_{n}"]) for n in names]
        assert all(a <= b for a, b in itertools.pairwise(art)), r


def _cli(args, cwd):
    env = os.environ | {"PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    return subprocess.run(
        [sys.executable, "-m", "optlab.report", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_report_cli_on_a_dir_without_runs_one_line(tmp_path):
    proc = _cli([str(tmp_path)], tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("optlab: error:")
    assert "holds no results store" in lines[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--targets", ""], "--targets='' is invalid"),
        (["--targets", "1e-2,x"], "--targets='1e-2,x' is invalid"),
        (["--targets", "1e-2,0"], "--targets='1e-2,0' is invalid: must be positive"),
        (["--targets=-1e-2"], "--targets='-1e-2' is invalid: must be positive"),
        (["--cost", "f=1,flops=2"], "--cost='f=1,flops=2' is invalid"),
        (["--cost", "hessian=-1"], "--cost='hessian=-1' is invalid"),
        (["--cost", "f:1"], "--cost='f:1' is invalid"),
        (["--taus", "0.1,1.5"], "--taus='0.1,1.5' is invalid: must be numbers in (0, 1)"),
        (["--taus", "0"], "--taus='0' is invalid"),
        (["--targets", "-1e-2"], "--targets: expected one argument"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_report_cli_bad_options_one_line_nothing_written(tmp_path, capsys, args, needle):
    from optlab.report.__main__ import main

    results.Store(tmp_path / "results.sqlite").close()
    out = tmp_path / "never"
    with pytest.raises(SystemExit) as e:
        main([str(tmp_path), "--out", str(out), *args])
    assert e.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("optlab: error:") and needle in lines[0]
    assert not out.exists()


def test_report_cli_cost_reweights_and_is_printed(tmp_path):
    lineup = {"newton": {"name": "newton"}, "gd": {"name": "gd", "learning_rate": 0.1}}
    _store(tmp_path / "results.sqlite", ("rosenbrock",), lineup, steps=40)
    rows = results.load(tmp_path)
    proc = _cli(
        [str(tmp_path), "--out", "r1", "--cost", "f=1,grad=1,hessian=1", "--taus", "1e-1,1e-3"],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    md = (tmp_path / "r1" / "report.md").read_text()
    assert "cost: f = 1, ∇f = 1, ∇²f = 1" in md and "given with --cost" in md
    assert {r["tau"] for r in _csv(tmp_path / "r1" / "data_profile.csv")} == {"0.1", "0.001"}
    write(tmp_path, tmp_path / "r2")  # the stored model: ∇²f = d = 2
    for out, w in (("r1", np.array([1, 1, 1])), ("r2", np.array([1, 1, 2]))):
        table = {r["optimizer"]: r for r in _csv(tmp_path / out / "per_surface.csv")}
        newton = [r for r in rows if r["label"] == "newton"]
        n = "1e-02"
        hits = [
            np.array([r[f"{k}_evals_to_{n}"] for k in results.COUNTS]) @ w
            for r in newton
            if r[f"steps_to_{n}"] is not None
        ]
        fails = [
            np.array([r["f_evals"], r["grad_evals"], r["hessian_evals"]]) @ w
            for r in newton
            if r[f"steps_to_{n}"] is None
        ]
        assert hits, "newton reaches 1e-2 on rosenbrock within 40 steps"
        art = (sum(hits) + sum(fails)) / len(hits)
        assert float(table["newton"][f"aRT_{n}"]) == pytest.approx(art)


def test_report_with_no_runs_is_one_line(tmp_path):
    with pytest.raises(UserError, match="holds no results store"):
        write(tmp_path)
    results.Store(tmp_path / "results.sqlite").close()  # a store with no runs yet
    with pytest.raises(UserError) as e:
        write(tmp_path)
    assert "\n" not in str(e.value) and "no runs to report" in str(e.value)


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
    _store(sweep / "results.sqlite", surfaces=("sphere",), steps=30)
    Report().on_multirun_end(OmegaConf.create(config))
    md = (sweep / "report.md").read_text()
    assert "| 1e-02 | 1e-06 |" in md and "1e-08" not in md.split("## Overall ranking")[1]
    assert (sweep / "ranking.csv").is_file() and "aRT_1e-06" in (sweep / "ranking.csv").read_text()
    elsewhere = tmp_path / "elsewhere.sqlite"
    _store(elsewhere, surfaces=("himmelblau",), steps=30)
    Report().on_multirun_end(OmegaConf.create(config | {"results": str(elsewhere)}))
    assert "himmelblau 2-D" in (sweep / "report.md").read_text()
