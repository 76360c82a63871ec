"""`python -m optlab` end to end in a subprocess: files, their contents, and user errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from optlab.records import read_csv


def load(out):
    return np.load(out / "trajectory.npz"), read_csv(out / "runs.csv")


def test_rosenbrock_experiment_writes_consistent_records(cli):
    proc, out = cli("experiment=rosenbrock", "steps=25")
    assert proc.returncode == 0, proc.stderr
    npz, rows = load(out)
    labels = list(npz["labels"])
    assert labels == ["gd", "momentum", "adam"] == [r["label"] for r in rows]
    R, T = 3, 25
    assert npz["params"].shape == (R, T + 1, 2) and npz["loss"].shape == (R, T + 1)
    assert npz["grad"].shape == (R, T + 1, 2) and npz["grad_norm"].shape == (R, T + 1)
    assert npz["directional_derivative"].shape == (R, T)
    np.testing.assert_allclose(npz["params"][:, 0], [[-1.2, 1.0]] * 3)
    for i, row in enumerate(rows):
        assert float(row["final_loss"]) == pytest.approx(float(npz["loss"][i, -1]), rel=1e-6)
        np.testing.assert_allclose(json.loads(row["final_params"]), npz["params"][i, -1], rtol=1e-6)
        dist = np.linalg.norm(npz["params"][i, -1] - 1.0)
        assert float(row["distance_to_minimizer"]) == pytest.approx(dist, rel=1e-5)
        assert row["status"] in {"converged", "max_steps", "diverged"}
        assert row["surface"] == "rosenbrock" and row["steps"] == "25"
        assert json.loads(row["start"]) == [-1.2, 1.0]
    assert [r["learning_rate"] for r in rows] == ["0.001", "0.0005", "0.05"]
    for name in ("contour.png", "loss.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(out) in proc.stdout
    for label in labels:  # the terminal table: one line per run
        assert any(line.startswith(label + " ") for line in proc.stdout.splitlines())


def test_overrides_single_optimizer_float64_random_starts(cli):
    proc, out = cli(
        "experiment=rosenbrock",
        "optimizer=adam",
        "optimizer.learning_rate=0.1",
        "steps=5",
        "starts=4",
        "seed=3",
        "dtype=float64",
        "surface=himmelblau",
    )
    assert proc.returncode == 0, proc.stderr
    npz, rows = load(out)
    assert npz["params"].dtype == np.float64 and npz["params"].shape == (4, 6, 2)
    assert {r["optimizer"] for r in rows} == {"adam"} and {r["learning_rate"] for r in rows} == {
        "0.1"
    }
    assert {r["surface"] for r in rows} == {"himmelblau"}
    assert np.all(np.abs(npz["params"][:, 0]) <= 5)


def test_start_override_is_where_the_trajectory_begins(cli):
    proc, out = cli("surface=sphere", "optimizer=gd", "start=[0.5,-2.0]", "steps=3")
    assert proc.returncode == 0, proc.stderr
    npz, _ = load(out)
    np.testing.assert_allclose(npz["params"][0, 0], [0.5, -2.0])
    # gd with the YAML's learning rate 0.001 on x²+y²: x1 = (1 − 2η) x0
    np.testing.assert_allclose(npz["params"][0, 1], np.array([0.5, -2.0]) * 0.998, rtol=1e-6)


@pytest.mark.slow
def test_multirun_basic_launcher(tmp_path):
    from conftest import run_cli

    proc = run_cli(
        [
            "-m",
            "optimizer=gd,adam",
            "surface=rosenbrock,himmelblau",
            "steps=3",
            f"hydra.sweep.dir={tmp_path / 'sweep'}",
        ],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    runs = sorted((tmp_path / "sweep").glob("*/runs.csv"))
    assert len(runs) == 4
    pairs = {(r["optimizer"], r["surface"]) for p in runs for r in read_csv(p)}
    assert pairs == {(o, s) for o in ("gd", "adam") for s in ("rosenbrock", "himmelblau")}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["surface=nope"], "surface='nope' is unknown; available:"),
        (["optimizer=nope"], "optimizer='nope' is unknown; available:"),
        (["start=[1.0,2.0,3.0]"], "start="),
        (["steps=0"], "steps=0"),
        (["optimizer.learning_rate=-1"], "optimizer.learning_rate=-1"),
        (["dtype=int8"], "dtype='int8'"),
        (["surface=expression", "surface.expr=sin(x)"], "is not a valid override"),
    ],
)
def test_bad_input_one_line_nonzero_exit(cli, args, needle):
    proc, _ = cli(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("optlab: error:") and needle in lines[0]
    assert "Traceback" not in proc.stdout + proc.stderr


def test_start_outside_bounds_warns_and_runs(cli):
    proc, out = cli("surface=himmelblau", "start=[7.0,0.0]", "steps=3")
    assert proc.returncode == 0, proc.stderr
    assert "outside the surface's bounds" in proc.stdout + proc.stderr
    assert (out / "runs.csv").is_file()


def test_diverging_run_never_crashes_the_job(cli):
    proc, out = cli(
        "surface=rosenbrock",
        "optimizer=gd",
        "optimizer.learning_rate=0.5",
        "start=[3.0,3.0]",
        "steps=50",
    )
    assert proc.returncode == 0, proc.stderr
    npz, rows = load(out)
    assert rows[0]["status"] == "diverged"
    assert np.all(np.isfinite(npz["params"]))
