"""Hydra launchers: joblib and submitit_local multiruns, SLURM presets, a missing plugin."""

from __future__ import annotations

import csv
import re

import pytest
from conftest import run_cli

from optlab import cli
from optlab.config import conf_dir

RATES = ("0.001", "0.002", "0.003", "0.004")


def _rates(sweep_dir, n):
    out = []
    for i in range(n):
        with open(sweep_dir / str(i) / "runs.csv", newline="") as fh:
            (row,) = csv.DictReader(fh)
        out.append(row["learning_rate"])
    return out


@pytest.mark.slow
def test_joblib_multirun_reuses_compiled_programs(tmp_path):
    proc = run_cli(
        [
            "-m",
            "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2",
            "surface=himmelblau",
            f"optimizer.learning_rate={','.join(RATES)}",
            "steps=5",
            f"hydra.sweep.dir={tmp_path / 'sweep'}",
            "hydra.verbose=optlab",
        ],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout + proc.stderr
    assert sorted(re.findall(r"optlab: job (\d) of 4", text)) == ["1", "2", "3", "4"]
    assert _rates(tmp_path / "sweep", 4) == list(RATES)
    # 4 jobs on 2 workers: at least 2 jobs ran in a worker that had compiled everything before
    assert len(re.findall(r"compilation cache: 0 hits of 0 requests in this job", text)) >= 2
    flags = re.findall(r"XLA_FLAGS=(.*)", text)
    assert flags and all("--xla_cpu_multi_thread_eigen=false" in f for f in flags)


@pytest.mark.slow
def test_submitit_local_multirun(tmp_path):
    sweep = tmp_path / "sweep"
    proc = run_cli(
        [
            "-m",
            "hydra/launcher=submitit_local",
            "hydra.launcher.timeout_min=5",
            "surface=himmelblau",
            f"optimizer.learning_rate={','.join(RATES[:2])}",
            "steps=5",
            f"hydra.sweep.dir={sweep}",
        ],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert _rates(sweep, 2) == list(RATES[:2])
    logs = "".join(p.read_text() for p in sweep.glob(".submitit/*/*_log.out"))
    assert sorted(re.findall(r"optlab: job (\d) of 2", logs)) == ["1", "2"]


def test_slurm_presets_take_partition_time_gpus_and_array_parallelism():
    from hydra import compose, initialize_config_dir

    settings = [
        "hydra.launcher.partition=gpu",
        "hydra.launcher.timeout_min=120",
        "hydra.launcher.gpus_per_node=2",
        "hydra.launcher.array_parallelism=8",
    ]
    with initialize_config_dir(version_base="1.3", config_dir=str(conf_dir())):
        for preset, gpus in (("submitit_slurm", 2), ("slurm_gpu", 2)):
            cfg = compose(
                "config", [f"hydra/launcher={preset}", *settings], return_hydra_config=True
            )
            launcher = cfg.hydra.launcher
            assert launcher._target_.endswith("SlurmLauncher")
            assert (launcher.partition, launcher.timeout_min) == ("gpu", 120)
            assert (launcher.gpus_per_node, launcher.array_parallelism) == (gpus, 8)
        cfg = compose("config", ["hydra/launcher=slurm_gpu"], return_hydra_config=True)
        assert cfg.hydra.launcher.gpus_per_node == 1


@pytest.mark.parametrize("launcher", ["joblib", "submitit_slurm", "slurm_gpu"])
def test_missing_plugin_says_which_extra_to_install(monkeypatch, capsys, launcher):
    real = cli.importlib.util.find_spec
    missing = cli.LAUNCHERS[launcher]
    monkeypatch.setattr(
        cli.importlib.util,
        "find_spec",
        lambda name, *a: None if name == missing else real(name, *a),
    )
    with pytest.raises(SystemExit) as e:
        cli.precheck(["-m", f"hydra/launcher={launcher}", "steps=5"])
    assert e.value.code == 2
    assert capsys.readouterr().err == (
        f"optlab: error: hydra/launcher={launcher} needs its Hydra plugin: pip install -e '.[sweep]'\n"
    )


def test_installed_plugins_pass_the_precheck():
    for launcher in cli.LAUNCHERS:
        assert cli.plugin_installed(launcher)
        cli.precheck([f"hydra/launcher={launcher}"])
