"""The surfaces API: quadratic spectrum, instances, compile reuse, bad input, CLI, README table."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optlab import surfaces
from optlab.config import build_job
from optlab.errors import UserError
from optlab.surfaces import table
from optlab.surfaces.instances import orthogonal

DOC = table.Path(__file__).resolve().parent.parent / "docs" / "surfaces.md"


def traces(fn):
    """`fn` jitted, and a list that grows by one each time it is traced."""
    seen = []

    def counted(*args):
        seen.append(1)
        return fn(*args)

    return jax.jit(counted), seen


# ---- quadratic ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [None, 0])
def test_quadratic_spectrum_is_one_to_kappa(seed):
    s = surfaces.get("quadratic", dim=6, condition_number=1000, rotation_seed=seed)
    H = np.asarray(jax.jit(jax.hessian(s))(jnp.ones(6)))
    eig = np.linalg.eigvalsh(H)
    np.testing.assert_allclose(eig, np.geomspace(1.0, 1000.0, 6), rtol=1e-12)
    np.testing.assert_allclose(np.sort(np.asarray(s.params["eigenvalues"])), eig, rtol=1e-12)
    assert (np.count_nonzero(np.abs(H - np.diag(np.diag(H))) > 1e-9) > 0) == (seed is not None)


def test_quadratic_center_and_value():
    c = np.array([1.0, -2.0, 0.5])
    s = surfaces.get("quadratic", dim=3, condition_number=4, center=c.tolist())
    x = np.array([0.3, 0.7, -1.1])
    lam = np.geomspace(1, 4, 3)
    assert float(s(x)) == pytest.approx(0.5 * np.sum(lam * (x - c) ** 2), rel=1e-14)
    np.testing.assert_array_equal(s.minimizers, c[None])
    np.testing.assert_allclose(s.bounds, np.stack([c - 5, c + 5], 1))


def test_changing_traced_parameters_does_not_recompile():
    f, seen = traces(lambda s, x: s(x))
    x = jnp.ones(4)
    values = [float(f(surfaces.get("quadratic", dim=4, condition_number=k), x)) for k in (2, 50)]
    assert len(seen) == 1
    assert values == [pytest.approx(0.5 * np.geomspace(1, k, 4).sum()) for k in (2, 50)]
    # Rebuilding an instance or an expression gives an equal function: no new trace either.
    for make in (
        lambda: surfaces.get("himmelblau", shift=[1.0, 2.0], rotation_seed=3),
        lambda: surfaces.get("expression", expr="x**2 + 3*y**2 - x*y"),
    ):
        f, seen = traces(lambda s, x: s(x))
        f(make(), jnp.ones(2))
        f(make(), jnp.ones(2))
        assert len(seen) == 1


# ---- instances ----------------------------------------------------------------------------------


def test_orthogonal_is_orthogonal_and_seeded():
    R = orthogonal(7, 3)
    np.testing.assert_allclose(R.T @ R, np.eye(7), atol=1e-14)
    np.testing.assert_array_equal(R, orthogonal(7, 3))
    assert not np.allclose(R, orthogonal(7, 4))


def test_instance_is_f_of_rotated_shifted_x():
    base = surfaces.get("rosenbrock", dim=4)
    shift = np.array([0.5, -1.0, 2.0, 0.25])
    s = surfaces.get("rosenbrock", dim=4, shift=shift.tolist(), rotation_seed=11)
    R = orthogonal(4, 11)
    x = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_allclose(
        jax.jit(jax.vmap(s))(jnp.asarray(x)), [base(R @ (xi - shift)) for xi in x], rtol=1e-13
    )
    np.testing.assert_allclose(s.minimizers, (R.T @ np.ones(4) + shift)[None], rtol=1e-14)
    # Rebuilt from its config: the same instance.
    again = surfaces.get(s.name, **s.config)
    np.testing.assert_array_equal(again.minimizers, s.minimizers)
    np.testing.assert_array_equal(again.bounds, s.bounds)


def test_instance_bounds_are_the_box_around_the_transformed_box():
    base = surfaces.get("branin")
    s = surfaces.get("branin", shift=[3.0, -1.0], rotation_seed=5)
    R = orthogonal(2, 5)
    corners = np.array(list(itertools.product(*base.bounds)))
    image = corners @ R + np.array([3.0, -1.0])  # Rᵀy + s
    np.testing.assert_allclose(s.bounds[:, 0], image.min(0), atol=1e-12)
    np.testing.assert_allclose(s.bounds[:, 1], image.max(0), atol=1e-12)


def test_shift_only_instance_and_transformed_metadata():
    s = surfaces.get("himmelblau", shift=[1.0, -2.0])
    shifted = surfaces.get("himmelblau").minimizers + np.array([1.0, -2.0])
    np.testing.assert_allclose(s.minimizers, shifted)
    (kind, x, fx), *_ = s.info.stationary_points
    assert kind == "maximum" and float(s(jnp.asarray(x))) == pytest.approx(fx, rel=1e-12)
    a = surfaces.get("ackley", dim=3, shift=[1.0, 2.0, 3.0], rotation_seed=1)
    assert a.info.singular(np.array([1.0, 2.0, 3.0]), 1e-6)
    assert not a.info.singular(np.zeros(3), 1e-6)
    sch = surfaces.get("schwefel", dim=2, shift=[5.0, 0.0])
    assert sch.info.singular(np.array([5.0, 40.0]), 1e-6) and not sch.info.singular(np.ones(2), 0.1)


def test_instance_from_the_command_line_config(compose):
    cfg = compose(["surface=himmelblau", "surface.shift=[0.5,-0.25]", "surface.rotation_seed=3"])
    job = build_job(cfg)
    expected = surfaces.get("himmelblau", shift=[0.5, -0.25], rotation_seed=3)
    np.testing.assert_array_equal(job.surface.minimizers, expected.minimizers)


# ---- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "needle"),
    [
        ("nosuch", {}, "surface='nosuch' is unknown"),
        ("rosenbrock", {"dim": 1}, "surface.dim=1 is invalid for 'rosenbrock'"),
        ("himmelblau", {"dim": 3}, "dimension must be exactly 2"),
        ("himmelblau", {"shift": [1.0, 2.0, 3.0]}, "surface.shift=[1.0, 2.0, 3.0] is invalid"),
        ("himmelblau", {"shift": "abc"}, "surface.shift='abc' is invalid"),
        ("sphere", {"rotation_seed": -1}, "surface.rotation_seed=-1 is invalid"),
        ("sphere", {"rotation_seed": 1.5}, "surface.rotation_seed=1.5 is invalid"),
        ("quadratic", {"condition_number": 0.5}, "surface.condition_number=0.5 is invalid"),
        ("quadratic", {"dim": 1, "condition_number": 10}, "exactly 1 when dim=1"),
        ("quadratic", {"center": [1, 2, 3]}, "surface.center=[1, 2, 3] is invalid"),
        ("sphere", {"scale": 2}, "surface.scale=2 is not a parameter of surface 'sphere'"),
    ],
)
def test_bad_parameters_raise_one_line(name, params, needle):
    with pytest.raises(UserError) as e:
        surfaces.get(name, **params)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_unknown_surface_lists_the_catalog():
    with pytest.raises(UserError, match=r"available: .*himmelblau.*zakharov"):
        surfaces.get("himmelbla")


# ---- the README table ---------------------------------------------------------------------------


def test_table_lists_every_catalog_surface_with_its_values():
    md = table.markdown()
    rows = md.splitlines()[2:]
    names = [r.split("|")[1].strip().strip("`") for r in rows]
    catalog = set(surfaces.available()) - set(surfaces.USER_DEFINED) - set(surfaces.BENCHMARKS)
    assert sorted(names) == sorted(catalog)
    row = dict(zip(names, rows, strict=True))
    assert "-39.1661657038·d" in row["styblinski_tang"]
    assert "(1, …, 1)" in row["rosenbrock"] and "d ≥ 2" in row["rosenbrock"]
    assert "unbounded below" in row["schwefel"] and "unbounded below" in row["saddle"]
    assert "1 maximum, 4 saddles" in row["himmelblau"]


def test_docs_table_is_generated_from_the_code():
    text = DOC.read_text()
    block = text.split(table.START, 1)[1].split(table.END, 1)[0]
    assert block == "\n" + table.markdown(), (
        "run: python -m optlab.surfaces.table --write docs/" + DOC.name
    )


def test_table_write_replaces_only_the_marked_block(tmp_path, capsys):
    path = tmp_path / "README.md"
    path.write_text(f"# Title\n\nbefore\n{table.START}\nstale\n{table.END}\nafter\n")
    table.main(["--write", str(path)])
    assert (
        path.read_text()
        == f"# Title\n\nbefore\n{table.START}\n{table.markdown()}{table.END}\nafter\n"
    )
    table.main([])
    assert capsys.readouterr().out.endswith(table.markdown())
    path.write_text("no markers\n")
    with pytest.raises(SystemExit):
        table.main(["--write", str(path)])
