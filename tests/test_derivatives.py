"""The `derivatives` experiment: the classic example, closed forms, N-d, bad input, honesty at kinks."""

from __future__ import annotations

import json
import logging
import math

import jax.numpy as jnp
import numpy as np
import pytest
from conftest import run_cli
from matplotlib import image
from test_calculus import himmelblau_grad, himmelblau_hessian

from optlab import derivatives
from optlab.config import PointJob, build_point_job
from optlab.errors import UserError
from optlab.surfaces.base import Surface, SurfaceInfo

FIELDS = {
    "surface",
    "point",
    "value",
    "partials",
    "gradient",
    "gradient_norm",
    "gradient_angle_deg",
    "hessian",
    "mixed_partials",
    "hessian_asymmetry",
    "clairaut_holds",
    "hessian_eigenvalues",
    "stationary_type",
    "directional",
    "finite_difference_error",
}
PICTURES = ("slices.png", "gradient_field.png", "directional.png")


@pytest.fixture(scope="module")
def classic(tmp_path_factory):
    """`python -m optlab experiment=derivatives`: sphere at (1, 1), through the CLI."""
    tmp = tmp_path_factory.mktemp("classic")
    proc = run_cli(["experiment=derivatives", f"hydra.run.dir={tmp / 'run'}"], cwd=tmp)
    assert proc.returncode == 0, proc.stderr
    out = tmp / "run"
    return json.loads((out / "derivatives.json").read_text()), out


def job(compose, *overrides) -> PointJob:
    return build_point_job(compose(["experiment=derivatives", *overrides]))


def test_experiment_defaults(compose):
    cfg = compose(["experiment=derivatives"])
    assert cfg.task == "derivatives" and cfg.dtype == "float64"
    assert list(cfg.point) == [1.0, 1.0] and cfg.surface.name == "sphere"
    assert compose(["experiment=derivatives", "surface=himmelblau"]).surface.name == "himmelblau"


def test_classic_example_numbers(classic):
    """x² + y² at (1, 1): partials 2, 2; ‖∇f‖ = 2√2 at 45°; H = 2I; D_u f from 2√2 (45°) to −2√2
    (225°), zero at 135° and 315°."""
    rec, _ = classic
    assert set(rec) >= FIELDS
    assert rec["surface"] == "sphere" and rec["point"] == [1.0, 1.0] and rec["dtype"] == "float64"
    assert rec["value"] == 2.0 and rec["partials"] == {"x": 2.0, "y": 2.0}
    assert rec["gradient"] == [2.0, 2.0]
    assert rec["gradient_norm"] == pytest.approx(2 * math.sqrt(2), rel=1e-15)
    assert round(rec["gradient_norm"], 2) == 2.83
    assert rec["gradient_angle_deg"] == pytest.approx(45.0, abs=1e-12)
    assert rec["hessian"] == [[2.0, 0.0], [0.0, 2.0]]
    assert rec["hessian_eigenvalues"] == [2.0, 2.0]
    assert rec["hessian_asymmetry"] == 0.0 and rec["clairaut_holds"] is True
    assert rec["stationary_type"] == "not_stationary"
    assert rec["finite_difference_error"] < 1e-9
    ((pair),) = rec["mixed_partials"]
    assert pair["d/dy(df/dx)"] == 0.0 and pair["d/dx(df/dy)"] == 0.0
    circle = {e["angle_deg"]: e["value"] for e in rec["directional"] if e["along"] is None}
    assert sorted(circle) == list(range(0, 360, 15))
    for angle, value in circle.items():  # D_u f = ‖∇f‖ cos(θ − 45°) = 2 cos θ + 2 sin θ
        assert value == pytest.approx(
            2 * math.sqrt(2) * math.cos(math.radians(angle - 45)), abs=1e-14
        )
    assert max(circle, key=circle.get) == 45 and min(circle, key=circle.get) == 225
    assert circle[45] == pytest.approx(2 * math.sqrt(2)) and circle[225] == pytest.approx(
        -2 * math.sqrt(2)
    )
    assert abs(circle[135]) < 1e-15 and abs(circle[315]) < 1e-15
    (along,) = [e for e in rec["directional"] if e["along"] == "gradient"]
    assert along["angle_deg"] == pytest.approx(45.0) and along["value"] == pytest.approx(
        2 * math.sqrt(2)
    )
    np.testing.assert_allclose(along["direction"], [math.sqrt(0.5)] * 2)


def test_classic_example_report_and_pictures(classic):
    _, out = classic
    md = (out / "derivatives.md").read_text()
    assert "| ∂f/∂x | f_x | ∂ₓf | D₁f | 2 |" in md
    assert "| ∂f/∂y | f_y | ∂_y f | D₂f | 2 |" in md
    assert "∇f(1, 1) = (2, 2)" in md and "‖∇f‖ = 2.82843, at 45°" in md
    assert "Mixed partials agree" in md and "Clairaut's theorem holds here" in md
    assert "smallest, −2.82843, against it (225°); zero along the level curve (135°, 315°)" in md
    for name in PICTURES:
        img = image.imread(out / name)
        assert img.shape[0] > 400 and img.shape[1] > 600 and img[..., :3].std() > 0.05


def test_himmelblau_matches_closed_forms(compose):
    for p in ([1.0, 2.0], [-2.7, -0.4]):
        rec = derivatives.compute(job(compose, "surface=himmelblau", f"point=[{p[0]},{p[1]}]"))
        g, H = himmelblau_grad(*p), himmelblau_hessian(*p)
        np.testing.assert_allclose(list(rec["partials"].values()), g, rtol=1e-13)
        np.testing.assert_allclose(rec["gradient"], g, rtol=1e-13)
        np.testing.assert_allclose(rec["hessian"], H, rtol=1e-13)
        np.testing.assert_allclose(rec["hessian_eigenvalues"], np.linalg.eigvalsh(H), rtol=1e-12)
        assert rec["gradient_angle_deg"] == pytest.approx(np.degrees(np.arctan2(g[1], g[0])) % 360)
        ((pair),) = rec["mixed_partials"]
        assert pair["d/dy(df/dx)"] == pytest.approx(4 * sum(p)) == pair["d/dx(df/dy)"]
        assert rec["finite_difference_error"] < 1e-8 and rec["stationary_type"] == "not_stationary"


def test_extra_direction_and_float32(compose):
    rec = derivatives.compute(job(compose, "direction=[0.0,-3.0]", "dtype=float32"))
    (e,) = [e for e in rec["directional"] if e["along"] == "direction"]
    assert e["direction"] == [0.0, -1.0] and e["angle_deg"] == 270.0 and e["value"] == -2.0
    assert rec["dtype"] == "float32"
    assert rec["clairaut_tolerance"] == pytest.approx(float(np.finfo(np.float32).eps) ** 0.5)


def test_n_dimensional_numbers_without_pictures(compose, tmp_path, caplog):
    x = [1.0, -2.0, 0.5]
    pj = job(compose, "surface.dim=3", "point=[1.0,-2.0,0.5]")
    with caplog.at_level(logging.INFO, logger="optlab"):
        rec = derivatives.run(tmp_path, pj)
    assert "the pictures need a 2-D surface" in caplog.text
    assert not any((tmp_path / n).exists() for n in PICTURES)
    assert rec["partials"] == {"x0": 2.0, "x1": -4.0, "x2": 1.0} and "gradient_angle_deg" not in rec
    assert rec["hessian"] == (2 * np.eye(3)).tolist() and len(rec["mixed_partials"]) == 3
    axes = [e for e in rec["directional"] if e["along"] is None]
    assert [e["value"] for e in axes] == [2 * v for v in x] + [-2 * v for v in x]  # ±eᵢ
    (along,) = [e for e in rec["directional"] if e["along"] == "gradient"]
    assert along["value"] == pytest.approx(2 * np.linalg.norm(x))
    md = (tmp_path / "derivatives.md").read_text()
    assert "| ∂f/∂x2 | f_x2 | ∂ₓ₂f | D₃f | 1 |" in md and "all 3 pairs" in md


@pytest.mark.parametrize(
    "override, message",
    [
        ("point=[1.0,2.0,3.0]", r"^point=\[1\.0, 2\.0, 3\.0\] is invalid: the surface is 2-D"),
        ("point=[1.0,nan]", r"^point=\[1\.0, nan\] is invalid: coordinates must be finite$"),
        ("point=[inf,0.0]", r"^point=\[inf, 0\.0\] is invalid: coordinates must be finite$"),
        ("point=[[1.0,2.0],[3.0,4.0]]", r"^point=.* is invalid: must be one list of 2 numbers$"),
        ("direction=[1.0]", r"^direction=\[1\.0\] is invalid: the surface is 2-D"),
    ],
)
def test_bad_points_are_one_line_user_errors(compose, override, message):
    with pytest.raises(UserError, match=message):
        job(compose, override)


def test_zero_direction_is_a_user_error(compose, tmp_path):
    with pytest.raises(
        UserError, match=r"^direction=\[0\.0, 0\.0\] is invalid: must be finite and non-zero$"
    ):
        derivatives.run(tmp_path, job(compose, "direction=[0.0,0.0]"))


def test_cli_bad_point_exits_2_with_one_line(cli):
    proc, _ = cli("experiment=derivatives", "point=[1.0,2.0,3.0]")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "optlab: error: point=[1.0, 2.0, 3.0] is invalid: the surface is 2-D, so a point needs 2 numbers"
    ]


def kink(fn, singular, name) -> PointJob:
    info = SurfaceInfo(differentiable=False, nondifferentiable_at="x = 0", singular=singular)
    s = Surface(name, fn, 2, [[-2, 2], [-2, 2]], [[0.0, 0.0]], 0.0, info=info)
    return PointJob(s, np.zeros(2), None, "float64", s.bounds)


def test_nan_derivatives_are_reported_honestly(tmp_path, caplog):
    """The cone √(x² + y²) at its tip: JAX's gradient is NaN; written as NaN, warned, no crash."""
    pj = kink(lambda x: jnp.sqrt(x[0] ** 2 + x[1] ** 2), lambda x, tol: np.hypot(*x) <= tol, "cone")
    with caplog.at_level(logging.WARNING, logger="optlab"):
        rec = derivatives.run(tmp_path, pj)
    assert rec["differentiable"] is False and "not finite (NaN/inf)" in caplog.text
    saved = json.loads((tmp_path / "derivatives.json").read_text())  # NaN is written as NaN
    assert np.all(np.isnan(saved["gradient"])) and np.isnan(saved["gradient_angle_deg"])
    assert saved["stationary_type"] is None and saved["clairaut_holds"] is False
    md = (tmp_path / "derivatives.md").read_text()
    assert "**Warning:**" in md and "cannot be checked" in md
    assert all(image.imread(tmp_path / n).ndim == 3 for n in PICTURES)


def test_declared_kink_is_warned_even_when_jax_returns_numbers():
    """|x| + y² at 0: JAX returns ∂|x|/∂x = 1 there (one-sided), so only the surface's declaration
    tells that it is not a derivative; away from x = 0 there is no warning."""
    at = kink(lambda x: jnp.abs(x[0]) + x[1] ** 2, lambda x, tol: abs(x[0]) <= tol, "abs")
    rec = derivatives.compute(at)
    assert rec["gradient"] == [1.0, 0.0] and rec["differentiable"] is False
    (w,) = rec["warnings"]
    assert "abs declares itself not differentiable at [0.0, 0.0] (x = 0)" in w
    away = PointJob(at.surface, np.array([0.5, 1.0]), None, "float64", at.plot_bounds)
    assert derivatives.compute(away)["differentiable"] is True


def test_one_compilation_per_surface(compose):
    """A new point, or a fresh but equal surface object, reuses the compiled analysis."""
    derivatives.compute(job(compose, "surface=rosenbrock", "point=[0.5,1.5]"))
    size = derivatives.analyze._cache_size()
    rec = derivatives.compute(job(compose, "surface=rosenbrock", "point=[-1.0,2.0]"))
    assert derivatives.analyze._cache_size() == size
    assert rec["gradient"] == [396.0, 200.0]  # (−400x(y − x²) − 2(1 − x), 200(y − x²))
