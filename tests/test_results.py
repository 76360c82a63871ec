"""The results store: hits by hand, round trip, resume, schema versions, killed and concurrent writers."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
from conftest import ROOT, run_cli

from optlab import app, results
from optlab.config import build_job
from optlab.errors import UserError

# A writer process: appends jobs of K synthetic runs (with 2 000-step curves) until told to stop.
WRITER = """
import sys, numpy as np
from optlab import results
path, name, jobs, k = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
store = results.Store(path)
curve = np.geomspace(1e2, 1e-9, 2001)
for j in range(jobs):
    rows = [
        {"run_hash": f"{name}-{j}-{i}", "job_hash": f"{name}-{j}", "role": "run",
         "surface": "sphere", "instance": {"dim": 2}, "dim": 2, "optimizer": "gd", "label": "gd",
         "hparams": {"learning_rate": 0.1}, "start": [float(i), 0.0], "start_index": i, "seed": j,
         "steps": 2000, "dtype": "float64", "final_loss": 1e-9, "f_min": 0.0, "gap": 1e-9,
         "hits": {}, "status": "max_steps", "steps_taken": 2000, "f_evals": 2001,
         "grad_evals": 2001, "hessian_evals": 0, "record_every": 1, "curve": curve,
         "path": np.zeros((2001, 2))}
        for i in range(k)
    ]
    store.append(f"{name}-{j}", rows)
    print(j, flush=True)
"""


def _writer(tmp_path, db, name, jobs, k):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = os.environ | {"PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    args = [sys.executable, str(script), str(db), name, str(jobs), str(k)]
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _job(**overrides):
    cfg = {
        "surface": {"name": "sphere", "dim": 2},
        "optimizer": {"name": "gd", "learning_rate": 0.25},
        "steps": 12,
        "start": [[1.0, 2.0], [-3.0, 0.5], [0.0, 0.0]],
        "dtype": "float64",
        "tol_grad": 0.0,
    }
    return build_job(cfg | overrides)


def test_hits_by_hand():
    gap = np.array([[10.0, 1.0, 0.01, 1e-5, 1e-9], [1e-3, 1e-3, 1e-3, 1e-3, 1e-3]])
    # run 0: uneven steps (a line search: 1, 3, 1, 2 f-evaluations); run 1: frozen at its start
    cum = np.zeros((2, 5, 3))
    cum[0] = [[1, 1, 0], [2, 2, 0], [5, 3, 0], [6, 4, 0], [8, 5, 0]]
    cum[1] = [[1, 1, 0]] * 5
    steps, counts = results.hits(gap, [1.0, 1e-4, 1e-10], cum)
    np.testing.assert_array_equal(steps[0], [1, 3, np.nan])
    np.testing.assert_array_equal(counts[0], [[2, 2, 0], [6, 4, 0], [np.nan] * 3])
    np.testing.assert_array_equal(steps[1], [0, np.nan, np.nan])
    np.testing.assert_array_equal(counts[1, 0], [1, 1, 0])
    # recorded every 2 steps (0, 2, 4): the hit is seen at the next recorded step
    steps, counts = results.hits(gap[:, ::2], [1.0], cum[:, ::2], np.array([0, 2, 4]))
    np.testing.assert_array_equal(steps[:, 0], [2, 0])
    np.testing.assert_array_equal(counts[0, 0], [5, 3, 0])


@pytest.mark.parametrize("bad", [[], [1e-2, -1.0], "1e-2", [0.0], [float("inf")], None])
def test_bad_targets_one_line(bad):
    with pytest.raises(UserError) as e:
        results.check_targets(bad)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"targets={bad!r} is invalid")


def test_targets_sorted_largest_first():
    assert results.check_targets([1e-8, 1e-2, 1e-4, 1e-2]) == (1e-2, 1e-4, 1e-8)


def test_round_trip_and_no_duplicates(tmp_path):
    from optlab.app import simulate

    job = _job()
    traj = simulate(job)
    rows = results.rows_for(job, traj, job_hash="j1", job_dir="/x", wall_time=0.5)
    db = tmp_path / "results.sqlite"
    with results.Store(db) as store:
        assert store.append("j1", rows) == 3
        assert store.append("j1", rows) == 0  # the same runs again: nothing twice
        assert store.append("j1", rows, replace=True) == 3
        assert store.count() == 3 and store.has_job("j1") and not store.has_job("j2")
    loaded = results.load(tmp_path, curves=True)  # a directory resolves to its results.sqlite
    assert len(loaded) == 3
    for r, row in enumerate(loaded):
        # gd on x² + y² with η = 1/4 halves x every step: f_k = f_0 / 4^k
        f0 = float(np.sum(job.starts[r] ** 2))
        expect = f0 / 4.0 ** np.arange(13)
        np.testing.assert_allclose(row["curve"], expect.astype(np.float32), rtol=1e-6)
        assert row["gap"] == pytest.approx(expect[-1], rel=1e-9, abs=1e-300)
        assert row["hp.learning_rate"] == 0.25 and row["optimizer"] == "gd"
        assert row["start"] == job.starts[r].tolist() and row["instance"] == {"dim": 2}
        assert row["path"].shape == (13, 2) and row["job_dir"] == "/x" and row["wall_time"] == 0.5
        assert row["evals"] == row["f_evals"] + row["grad_evals"] + row["hessian_evals"] == 26
        # gd: f and ∇f once at the start and once per step
        k = np.arange(13)
        np.testing.assert_array_equal(row["cum_evals"], np.column_stack([1 + k, 1 + k, 0 * k]))
        assert row["cost"] == {"f": "1", "grad": "1", "hessian": "d"}
        for t in results.TARGETS:
            n = results.target_name(t)
            first = np.flatnonzero(expect <= t)
            k = int(first[0]) if len(first) else None
            assert row[f"steps_to_{n}"] == k
            assert row[f"evals_to_{n}"] == (None if k is None else 2 + 2 * k)
            got = [row[f"{c}_evals_to_{n}"] for c in results.COUNTS]
            assert got == ([None] * 3 if k is None else [1 + k, 1 + k, 0])
    (job_row,) = results.load_jobs(tmp_path)
    prov = job_row["provenance"]
    assert job_row["job_hash"] == "j1" and prov["python"] and prov["jax"] and prov["numpy"]
    assert prov["x64"] is True and prov["cpu_cores"] >= 1
    assert not any(str(v) == socket.gethostname() for v in prov.values())
    assert len({r["run_hash"] for r in loaded}) == 3


def test_run_hash_is_the_config():
    a, b = results.identities(_job()), results.identities(_job())
    assert [i["run_hash"] for i in a] == [i["run_hash"] for i in b]
    c = results.identities(_job(optimizer={"name": "gd", "learning_rate": 0.3}))
    assert not {i["run_hash"] for i in a} & {i["run_hash"] for i in c}
    assert results.job_key(_job()) != results.job_key(_job(steps=13))


def test_other_schema_version_is_one_line(tmp_path):
    db = tmp_path / "results.sqlite"
    results.Store(db).close()
    with sqlite3.connect(db) as con:
        con.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(UserError) as e:
        results.Store(db)
    msg = str(e.value)
    assert "\n" not in msg and "schema version 99" in msg and "reads version 2" in msg


# The schema of results version 1, as optlab wrote it before exact counts and provenance.
V1_COLUMNS = (
    "run_hash TEXT PRIMARY KEY, job_hash TEXT NOT NULL, role TEXT NOT NULL, surface TEXT NOT NULL, "
    "instance TEXT NOT NULL, dim INTEGER NOT NULL, optimizer TEXT NOT NULL, label TEXT NOT NULL, "
    "hparams TEXT NOT NULL, start TEXT NOT NULL, start_index INTEGER NOT NULL, seed INTEGER NOT "
    "NULL, steps INTEGER NOT NULL, dtype TEXT NOT NULL, tol_grad REAL, stop_target REAL, "
    "final_loss REAL, f_min REAL, gap REAL, hits TEXT NOT NULL, status TEXT NOT NULL, steps_taken "
    "INTEGER NOT NULL, f_evals INTEGER NOT NULL, grad_evals INTEGER NOT NULL, hessian_evals "
    "INTEGER NOT NULL, record_every INTEGER NOT NULL, score REAL, chosen INTEGER, wall_time REAL, "
    "job_dir TEXT"
)


def _v1_store(db, version=1):
    """A store as results schema 1 wrote it: one gd run on sphere, f − f* = 8, 2, 0.5, 0.125."""
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        con.execute(
            "CREATE TABLE jobs (job_hash TEXT PRIMARY KEY, job_dir TEXT, n_runs INTEGER NOT NULL, "
            "wall_time REAL, finished REAL NOT NULL)"
        )
        con.execute(f"CREATE TABLE runs ({V1_COLUMNS})")
        con.execute("CREATE TABLE curves (run_hash TEXT PRIMARY KEY, gap BLOB NOT NULL, path BLOB)")
        con.execute("INSERT INTO schema_version VALUES (?)", (version,))
        con.execute("INSERT INTO jobs VALUES ('j', '', 1, 0.1, 0.0)")
        con.execute(
            "INSERT INTO runs VALUES ('r', 'j', 'run', 'sphere', '{\"dim\": 2}', 2, 'gd', 'gd', "
            "'{\"learning_rate\": 0.25}', '[2.0, 2.0]', 0, 0, 3, 'float64', 0.0, NULL, 0.125, "
            "0.0, 0.125, '{\"1e+00\": [2, 6]}', 'max_steps', 3, 4, 4, 0, 1, NULL, NULL, 0.1, '')"
        )
        curve = zlib.compress(np.array([8, 2, 0.5, 0.125], "<f4").tobytes())
        con.execute("INSERT INTO curves VALUES ('r', ?, NULL)", (curve,))


def test_version_1_store_is_migrated_and_reported_as_estimated(tmp_path):
    from optlab.report import write

    db = tmp_path / "results.sqlite"
    _v1_store(db)
    with results.Store(db) as store:
        assert store.version == results.SCHEMA_VERSION == 2
    (row,) = results.load(db, curves=True)
    assert row["steps_to_1e+00"] == 2 and row["evals_to_1e+00"] == 6  # kept as stored
    assert "f_evals_to_1e+00" not in row and row["cost"] is None and row["cum_evals"] is None
    assert row["noise"] is None  # version 1 stored no noisy runs
    assert results.load_jobs(db)[0]["provenance"] is None
    # new jobs append beside the old ones, with their provenance
    job = _job()
    rows = results.rows_for(job, app.simulate(job))
    with results.Store(db) as store:
        assert store.append("j2", rows) == 3
    assert results.load_jobs(db)[1]["provenance"]["numpy"]
    md = write(db, tmp_path / "report", [1.0]).read_text()
    assert "1 runs were stored by an older optlab" in md and "ESTIMATED" in md
    assert "unknown (stored by results schema 1)" in md


def test_older_schema_is_migrated(tmp_path, monkeypatch):
    db = tmp_path / "results.sqlite"
    _v1_store(db, version=0)
    with sqlite3.connect(db) as con:
        con.execute("ALTER TABLE runs DROP COLUMN score")  # what version 0 lacked
    calls = []

    def add_score(db):
        calls.append(0)
        db.execute("ALTER TABLE runs ADD COLUMN score REAL")

    monkeypatch.setitem(results.MIGRATIONS, 0, add_score)
    with results.Store(db) as store:
        assert store.version == results.SCHEMA_VERSION and calls == [0]
        cols = {r[1] for r in store.db.execute("PRAGMA table_info(runs)")}
        assert {"score", "cost"} <= cols  # version 0 -> 1 (patched) -> 2


@pytest.mark.parametrize("content", [b"hello, not a database" * 100, None])
def test_not_a_store_is_one_line(tmp_path, content):
    db = tmp_path / "other.sqlite"
    if content is None:
        with sqlite3.connect(db) as con:
            con.execute("CREATE TABLE t (x)")
    else:
        db.write_bytes(content)
    with pytest.raises(UserError) as e:
        results.Store(db)
    assert "\n" not in str(e.value) and "not an optlab results store" in str(e.value)


def test_missing_store_is_one_line(tmp_path):
    with pytest.raises(UserError, match="no such results store"):
        results.load(tmp_path / "nope.sqlite")


def _integrity(db):
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        runs = con.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        jobs = con.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
        orphans = con.execute(
            "SELECT COUNT(*) FROM runs r LEFT JOIN curves c ON r.run_hash = c.run_hash "
            "WHERE c.run_hash IS NULL"
        ).fetchone()[0]
    return runs, jobs, orphans


def test_writer_killed_midway_leaves_whole_jobs(tmp_path):
    db, k = tmp_path / "results.sqlite", 400
    proc = _writer(tmp_path, db, "w", 10_000, k)
    assert proc.stdout.readline()  # one job committed
    proc.stdout.readline()
    time.sleep(0.05)  # now inside a later job's transaction, most likely
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    runs, jobs, orphans = _integrity(db)
    assert runs >= 2 * k and runs % k == 0 and jobs == runs // k and orphans == 0
    # the store stays writable, and a rerun of the same jobs adds only what is missing
    proc = _writer(tmp_path, db, "w", jobs + 2, k)
    proc.communicate(timeout=120)
    assert _integrity(db)[:2] == ((jobs + 2) * k, jobs + 2)


def test_two_writers_at_once_lose_nothing(tmp_path):
    db, jobs, k = tmp_path / "results.sqlite", 12, 60
    procs = [_writer(tmp_path, db, name, jobs, k) for name in ("a", "b")]
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
    assert _integrity(db) == (2 * jobs * k, 2 * jobs, 0)


def test_optimize_appends_resumes_and_replaces(compose, tmp_path, capsys):
    base = ["surface=sphere", "optimizer=gd", "steps=5", "starts=3", "plots=[]"]
    app.optimize(compose(base), tmp_path / "a", [])  # a single run: the store is in its run dir
    assert results.Store(tmp_path / "a" / "results.sqlite").count() == 3
    again = compose([*base, f"results={tmp_path / 'a'}"])  # results=DIR: its results.sqlite
    assert app.optimize(again, tmp_path / "b", []) == []  # resume: skipped, nothing twice
    assert "already in" in capsys.readouterr().out and not (tmp_path / "b").exists()
    app.optimize(compose([*base, f"results={tmp_path / 'a'}", "resume=false"]), tmp_path / "c", [])
    rows = results.load(tmp_path / "a")
    assert len(rows) == 3 and {r["job_dir"] for r in rows} == {str(tmp_path / "c")}
    app.optimize(compose([*base, "results=false"]), tmp_path / "d", [])
    assert (tmp_path / "d" / "runs.csv").is_file()
    assert not (tmp_path / "d" / "results.sqlite").exists()


def test_empty_targets_is_one_line_before_running(compose, tmp_path):
    with pytest.raises(UserError) as e:
        app.optimize(compose(["surface=sphere", "steps=3", "targets=[]"]), tmp_path, [])
    assert "\n" not in str(e.value) and str(e.value).startswith("targets=[] is invalid")
    assert not tmp_path.joinpath("runs.csv").exists()


@pytest.mark.slow
def test_sweep_killed_midway_then_rerun_has_every_run_once(tmp_path):
    """Kill a 3-job sweep after its first job is stored; rerun it; every run is stored once."""
    db = tmp_path / "results.sqlite"
    args = [
        "-m",
        "experiment=rosenbrock",
        "seed=0,1,2",
        "starts=2",
        "steps=40",
        "plots=[]",
        f"results={db}",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    ]
    env = os.environ | {"PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "optlab", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if db.exists() and results.Store(db).count() >= 6:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = results.Store(db).count()
    assert 6 <= killed_at < 18 and killed_at % 6 == 0  # whole jobs only, and not all of them
    done = run_cli(args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("already in") == killed_at // 6
    rows = results.load(db)
    assert len(rows) == 18 and len({r["run_hash"] for r in rows}) == 18
    assert {r["seed"] for r in rows} == set(range(3))
    report = (tmp_path / "sweep" / "report.md").read_text()  # the multirun callback's report
    assert "| 1 |" in report and "rosenbrock 2-D" in report


def test_grid_job_rows_follow_the_engine_runs():
    """grid.learning_rate × grid.seed × starts: each row has its own learning rate, seed, start."""
    from optlab.app import simulate
    from optlab.config import random_starts

    job = _job(start=None, starts=2, grid={"learning_rate": [0.1, 0.25], "seed": [3, 4]})
    traj = simulate(job)
    rows = results.rows_for(job, traj)
    assert len(rows) == 8 and len({r["run_hash"] for r in rows}) == 8
    for seed in (3, 4):
        drawn = random_starts(job.surface.bounds, 2, seed)
        for n in range(2):
            same = [r for r in rows if r["seed"] == seed and r["start_index"] == n]
            assert {r["hparams"]["learning_rate"] for r in same} == {0.1, 0.25}
            for r in same:
                np.testing.assert_allclose(r["start"], drawn[n])
                # gd on x² + y²: x_k = (1 − 2η)^k x_0
                eta = r["hparams"]["learning_rate"]
                expect = np.sum(drawn[n] ** 2) * (1 - 2 * eta) ** (2 * 12)
                assert r["final_loss"] == pytest.approx(expect, rel=1e-9)


def test_record_every_keeps_every_kth_step_and_hits_on_them():
    from optlab.app import simulate

    job = _job(record_every=4, start=[[1.0, 0.0]])  # f_k = 4^-k
    traj = simulate(job)
    (row,) = results.rows_for(job, traj, targets=[0.1, 1e-4])
    assert row["record_every"] == 4
    np.testing.assert_allclose(row["curve"], 4.0 ** -np.array([0, 4, 8, 12]))
    np.testing.assert_array_equal(results.curve_steps(row | {"steps": 12}), [0, 4, 8, 12])
    # f_k ≤ 0.1 from k = 2 and ≤ 1e-4 from k = 7; gd: f and ∇f 1 + k times after k steps.
    # Without the engine's count, the curve sees them at the next recorded step, 4 and 8
    assert row["hits"] == {"1e-01": [4, 10, 5, 5, 0], "1e-04": [8, 18, 9, 9, 0]}
    # counted by the engine inside the scan: exact, whatever the recording stride
    traj = simulate(job, targets=[0.1, 1e-4])
    (row,) = results.rows_for(job, traj, targets=[1e-4, 0.1])
    assert row["hits"] == {"1e-04": [7, 16, 8, 8, 0], "1e-01": [2, 6, 3, 3, 0]}


@pytest.mark.parametrize("record_every", [1, 10])
def test_stored_cost_to_a_target_matches_a_run_stopped_at_the_hit(record_every):
    """Newton on Rosenbrock (∇²f costs d = 2): the stored cost to 1e-6 is what a rerun of exactly
    the hit's number of steps spends in total."""
    from optlab.app import simulate

    cfg = {
        "surface": {"name": "rosenbrock", "dim": 2},
        "optimizer": {"name": "newton"},
        "start": [[-1.2, 1.0], [2.0, -1.5]],
        "dtype": "float64",
        "tol_grad": 0.0,
        "record_every": record_every,
    }
    job = build_job(cfg | {"steps": 40})
    rows = results.rows_for(job, simulate(job, targets=[1e-6]), targets=[1e-6])
    for r, row in enumerate(rows):
        k, cost_, *counts = row["hits"]["1e-06"]
        short = build_job(cfg | {"steps": k, "start": [cfg["start"][r]], "record_every": 1})
        t = simulate(short)
        assert 0 < k < 40 and t.loss[0, -1] <= 1e-6 < t.loss[0, -2]
        spent = [int(t.f_evals[0]), int(t.grad_evals[0]), int(t.hessian_evals[0])]
        assert counts == spent and cost_ == spent[0] + spent[1] + 2 * spent[2]


def test_noisy_rows_round_trip_their_noise_settings_and_seed(tmp_path):
    """A noisy job from one fixed start over 4 seeds: 4 stored runs, each its seed and the noise
    settings it ran under; a noiseless job beside it stores NULL (None) as its noise."""
    noisy = _job(
        start=[1.0, 2.0], grid={"seed": [0, 1, 2, 3]}, noise={"name": "gaussian", "sigma": 0.5}
    )
    quiet = _job()
    db = tmp_path / "results.sqlite"
    with results.Store(db) as store:
        assert (
            store.append("noisy", results.rows_for(noisy, app.simulate(noisy), job_hash="noisy"))
            == 4
        )
        assert (
            store.append("quiet", results.rows_for(quiet, app.simulate(quiet), job_hash="quiet"))
            == 3
        )
    rows = results.load(db)
    loud = [r for r in rows if r["job_hash"] == "noisy"]
    assert sorted(r["seed"] for r in loud) == [0, 1, 2, 3]
    assert {tuple(r["start"]) for r in loud} == {(1.0, 2.0)}
    want = {"model": "gaussian", "sigma": 0.5, "value": False}
    assert all(r["noise"] == want for r in loud)
    assert len({r["final_loss"] for r in loud}) == 4  # each seed its own noise stream
    assert [r["noise"] for r in rows if r["job_hash"] == "quiet"] == [None] * 3
    with sqlite3.connect(db) as con:  # stored as JSON text, NULL when noiseless
        stored = dict(con.execute("SELECT seed, noise FROM runs WHERE job_hash = 'noisy'"))
        assert [json.loads(v) for v in stored.values()] == [want] * 4
        assert con.execute("SELECT COUNT(*) FROM runs WHERE noise IS NULL").fetchone()[0] == 3
