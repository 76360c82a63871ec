"""The `optlab` command installed from the wheel and `python -m optlab`: same behaviour, same
errors, in real subprocesses (a small subset of tests/data/malformed_commands.txt)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest
from conftest import ROOT, build_wheel, run_cli

from optlab.records import read_csv

SUBSET = [  # (arguments, what the one error line says)
    (["stepz=100"], "stepz=100 is invalid: unknown key 'stepz' (did you mean 'steps'?)"),
    (["--flag"], "--flag is invalid: not an option of optlab"),
    (["experiment=rosenbrock", "optimizer=adam,gd"], "optimizer=adam,gd is invalid without -m"),
    (["diagnostics=maybe"], "diagnostics='maybe' is invalid: must be true or false"),
    (["start=[1e39,1e39]"], "finite in float32"),
]


def test_pyproject_declares_the_optlab_command():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["optlab"] == "optlab.__main__:main"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """optlab installed from its wheel into a target directory: (site dir, the `optlab` script)."""
    tmp = tmp_path_factory.mktemp("command")
    wheel = build_wheel(tmp / "dist")
    site = tmp / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
         "--target", str(site), str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    return site, site / "bin" / "optlab"


def run_command(installed, args, cwd):
    site, script = installed
    env = os.environ | {"PYTHONPATH": str(site), "JAX_PLATFORMS": "cpu"}
    return subprocess.run(
        [str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


@pytest.mark.parametrize(("args", "needle"), SUBSET)
def test_both_commands_refuse_in_the_same_line(installed, tmp_path, args, needle):
    module = run_cli(args, cwd=tmp_path)
    command = run_command(installed, args, tmp_path)
    for proc in (module, command):
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, proc.stderr
        assert lines[0].startswith("optlab: error: ") and needle in lines[0]
        assert "Traceback" not in proc.stdout + proc.stderr
    assert module.stderr == command.stderr
    assert list(tmp_path.iterdir()) == []  # no outputs/DATE/TIME left behind


def test_installed_command_runs_an_experiment(installed, tmp_path):
    out = tmp_path / "run"
    proc = run_command(
        installed, ["experiment=rosenbrock", "steps=5", f"hydra.run.dir={out}"], tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert [r["label"] for r in read_csv(out / "runs.csv")] == ["gd", "momentum", "adam"]
    assert f"wrote trajectory.npz, runs.csv and 2 pictures to {out}" in proc.stdout


def test_float64_start_beyond_float32_runs_as_diverged_and_draws(cli):
    """Finite in the job's dtype: a user asked for it, so it runs (and diverges) and is drawn."""
    proc, out = cli("start=[1e308,1e308]", "dtype=float64", "steps=3")
    assert proc.returncode == 0, proc.stderr
    assert read_csv(out / "runs.csv")[0]["status"] == "diverged"
    assert (out / "contour.png").stat().st_size > 0 and (out / "loss.png").stat().st_size > 0


def test_no_matplotlib_info_line_on_the_console(cli):
    proc, out = cli("experiment=derivatives")
    assert proc.returncode == 0, proc.stderr
    assert "Substituting symbol" not in proc.stdout + proc.stderr
    assert "Substituting symbol" not in (out / "optlab.log").read_text()
