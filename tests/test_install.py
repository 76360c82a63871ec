"""A non-editable install (wheel) ships conf/ inside the package and runs from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT, build_wheel

from optlab.records import read_csv


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(tmp / "dist")
    target = tmp / "site"
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        z.extractall(target)
    return target, names


def test_wheel_ships_every_config(installed):
    _, names = installed
    shipped = {n.removeprefix("optlab/conf/") for n in names if n.startswith("optlab/conf/")}
    live = {str(p.relative_to(ROOT / "conf")) for p in (ROOT / "conf").rglob("*.yaml")}
    assert live and live <= shipped


def test_installed_package_runs_from_another_directory(installed, tmp_path):
    target, _ = installed
    env = os.environ | {"PYTHONPATH": str(target), "JAX_PLATFORMS": "cpu"}
    where = subprocess.run(
        [sys.executable, "-c", "import optlab.config as c; print(c.conf_dir())"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.strip() == str(target / "optlab" / "conf")
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "optlab", "experiment=rosenbrock", "steps=5", f"hydra.run.dir={out}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert [r["label"] for r in read_csv(out / "runs.csv")] == ["gd", "momentum", "adam"]
