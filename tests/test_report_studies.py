"""The studies in experiments/ reproduce their reference numbers (theory, SciPy)."""

from __future__ import annotations

import importlib.util
import math

import pytest
from conftest import ROOT


def _study(name):
    spec = importlib.util.spec_from_file_location(
        f"study_{name}", ROOT / "experiments" / name / "run.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rates_study_matches_theory_at_kappa_100():
    rates = _study("rates")
    rows, curves = rates.measure(100.0)
    got = {r["method"]: r for r in rows}
    assert set(got) == {"gd", "momentum", "nesterov", "adam"}
    for method in ("gd", "momentum", "nesterov"):
        predicted, measured = got[method]["predicted"], got[method]["measured"]
        assert abs((1 - measured) / (1 - predicted) - 1) < 0.02, method
    assert got["gd"]["predicted"] == pytest.approx(99 / 101)
    assert got["momentum"]["predicted"] == pytest.approx(9 / 11)
    assert got["nesterov"]["predicted"] == pytest.approx(0.9)
    assert 0 < got["adam"]["measured"] < 1 and got["adam"]["predicted"] is None
    assert len(curves["gd"]) == rates.STEPS + 1


def test_fitted_rate_removes_the_repeated_root_factor():
    import numpy as np

    rates = _study("rates")
    k = np.arange(400)
    assert rates.fitted_rate(0.9**k) == pytest.approx(0.9, rel=1e-9)
    assert rates.fitted_rate((1 + k) * 0.9**k) == pytest.approx(0.9, rel=1e-3)


def test_rosenbrock_study_second_order_methods_and_scipy():
    study = _study("rosenbrock")
    study.GRIDS = {}  # the first-order grids take most of the time; keep newton and lbfgs
    rows = {r["method"]: r for r in study.optlab_rows() + study.scipy_rows()}
    for method in ("newton", "lbfgs", "BFGS", "Newton-CG", "L-BFGS-B"):
        assert rows[method]["reached"], method
    # L-BFGS: optlab's (optax, zoom line search) and SciPy's take a similar number of iterations
    assert math.isclose(rows["lbfgs"]["iterations"], rows["L-BFGS-B"]["iterations"], rel_tol=0.3)
    assert (
        rows["newton"]["iterations"] < 30 and rows["newton"]["hess"] == rows["newton"]["iterations"]
    )
    assert rows["BFGS"]["hess"] == 0 and rows["Newton-CG"]["hess"] > 0
