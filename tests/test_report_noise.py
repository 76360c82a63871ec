"""Reports over seeds: a noisy problem is (surface instance, noise settings), its replicates are
(start, seed) pairs, and `experiment=noise` ends with a report of one section per noise level."""

from __future__ import annotations

import csv
import re

import numpy as np
from conftest import run_cli, simulate_and_store

from optlab import results
from optlab.config import build_job
from optlab.report import figures, tables, write

START = [1.0, -0.5]
LINEUP = {
    "sgd": {"name": "sgd", "learning_rate": 0.1},
    "adam": {"name": "adam", "learning_rate": 0.1},
}


def _noisy_store(db, sigmas=(0.1, 1.0), seeds=4, steps=50):
    """sgd and adam on the sphere from ONE start, `seeds` noise seeds per σ; {σ: (job, traj)}."""
    out = {}
    with results.Store(db) as store:
        for sigma in sigmas:
            cfg = {
                "surface": {"name": "sphere", "dim": 2},
                "lineup": LINEUP,
                "steps": steps,
                "start": START,
                "grid": {"seed": list(range(seeds))},
                "noise": {"name": "gaussian", "sigma": sigma},
                "dtype": "float64",
                "tol_grad": 0.0,
            }
            job = build_job(cfg)
            traj = simulate_and_store(store, job)
            out[sigma] = (job, traj)
    return out


def test_seeds_from_one_start_are_replicates_of_one_problem_per_noise_level(tmp_path, monkeypatch):
    db = tmp_path / "results.sqlite"
    jobs = _noisy_store(db)
    runs = tables.prepare(results.load(db, curves=True), results.TARGETS)
    names = {0.1: "sphere 2-D, gaussian σ=0.1", 1.0: "sphere 2-D, gaussian σ=1"}
    assert runs.surfaces == tuple(sorted(names.values()))
    for sigma, name in names.items():
        d = tables.design(runs, name)
        # one start, 4 seeds: 4 replicates (keyed by start alone they would collapse to 1)
        assert d.index.shape == (2, 4) and d.dropped == 0
        for col in d.index.T:  # the paired tests pair the solvers' runs by (start, seed)
            assert len({(tuple(runs.rows[i]["start"]), runs.rows[i]["seed"]) for i in col}) == 1
        assert sorted(runs.rows[i]["seed"] for i in d.index[0]) == [0, 1, 2, 3]
        job, traj = jobs[sigma]
        gaps = np.asarray(traj.loss[:, -1]) - job.surface.f_min  # engine order: members × seeds
        for row in tables.ranking(runs, d):
            member = [m.label for m in job.members].index(row["solver"])
            mine = gaps[member * 4 : (member + 1) * 4]
            assert row["runs"] == 4
            np.testing.assert_allclose(row["median_gap"], np.median(mine), rtol=1e-6)
            np.testing.assert_allclose(row["q25"], np.quantile(mine, 0.25), rtol=1e-6)
    drawn = []
    original = figures.loss_bands

    def spy(path, curves, steps, lines, title):
        drawn.append((title, {k: v.shape for k, v in curves.items()}))
        return original(path, curves, steps, lines, title=title)

    monkeypatch.setattr(figures, "loss_bands", spy)
    md = write(db, tmp_path / "report").read_text()
    headings = re.findall(r"^### (.*)$", md, flags=re.M)
    assert headings == sorted(names.values())
    assert "paired by start and seed" in md and "(start, seed) replicates" in md
    assert len(drawn) == 2
    for title, shapes in drawn:  # median and band over all 4 replicates of each optimizer
        assert "over starts and seeds" in title
        assert {s[0] for s in shapes.values()} == {4}
    with open(tmp_path / "report" / "per_surface.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["surface"] for r in rows} == set(names.values()) and len(rows) == 4


def test_noise_experiment_multirun_ends_with_a_report_per_noise_level(tmp_path):
    """The study's config, tiny: 2 σ × 2 optimizers (tuned), 4 runs each, 50 steps."""
    sweep = tmp_path / "sweep"
    args = [
        "-m",
        "experiment=noise",
        "problem=rosenbrock",
        "noise.sigma=0.1,1.0",
        "steps=50",
        "starts=4",
        "tuning.budget=2",
        "tuning.other=[0.9]",
        "tuning.starts=2",
        "~lineup.momentum",
        "~lineup.nesterov",
        f"hydra.sweep.dir={sweep}",
    ]
    proc = run_cli(args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    stored = [r for r in results.load(sweep) if r["role"] == "eval"]
    assert len(stored) == 2 * 2 * 4
    assert sorted({r["noise"]["sigma"] for r in stored}) == [0.1, 1.0]
    assert all(r["noise"]["model"] == "gaussian" for r in stored)
    md = (sweep / "report.md").read_text()
    headings = re.findall(r"^### (.*)$", md, flags=re.M)
    assert len(headings) == 2
    assert [h.rsplit(", ", 1)[1] for h in headings] == ["gaussian σ=0.1", "gaussian σ=1"]
    assert "| mean rank [95% CI] |" in md
    for heading in headings:  # each section: both optimizers, 4 runs, Wilson intervals
        section = md.split(f"### {heading}", 1)[1].split("\n### ", 1)[0]
        table = [ln for ln in section.splitlines() if re.match(r"\| \d", ln)]
        assert len(table) == 2 and all("| 4 |" in ln for ln in table)
        assert all(re.search(r"\d+% \[\d+–\d+\]", ln) for ln in table)
    with open(sweep / "per_surface.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["surface"] for r in rows} == set(headings) and len(rows) == 4
    assert all(float(r["success_1e-02_low"]) <= float(r["success_1e-02_high"]) for r in rows)
    for job in ("0", "1"):  # experiments/noise/analyze.py still reads each job's runs.csv
        assert (sweep / job / "runs.csv").read_text().count("\n") == 1 + 2 * 4
