"""User-defined surfaces: `surface=expression` (safe parser) and `surface=custom` (imported fn)."""

from __future__ import annotations

import csv
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from optlab import engine, landscape, surfaces
from optlab.errors import UserError
from optlab.optimizers import split

ALL_FUNCTIONS = (
    "sin(x) + cos(y) + tan(x/3) + exp(-x**2) + log(1 + y**2) + sqrt(1 + x**2) + abs(x - y)"
    " + tanh(x) + sinh(y/2) + cosh(x/3) + arctan(y) + pi*e - +x / 2**-1"
)


def all_functions_numpy(x, y):
    return (
        np.sin(x)
        + np.cos(y)
        + np.tan(x / 3)
        + np.exp(-(x**2))
        + np.log(1 + y**2)
        + np.sqrt(1 + x**2)
        + np.abs(x - y)
        + np.tanh(x)
        + np.sinh(y / 2)
        + np.cosh(x / 3)
        + np.arctan(y)
        + math.pi * math.e
        - x / 0.5
    )


# ---- expression ---------------------------------------------------------------------------------


def test_expression_matches_numpy_for_every_allowed_function():
    s = surfaces.get("expression", expr=ALL_FUNCTIONS)
    pts = np.random.default_rng(0).uniform(-2, 2, (20, 2))
    np.testing.assert_allclose(
        jax.jit(jax.vmap(s))(jnp.asarray(pts)), all_functions_numpy(*pts.T), rtol=1e-13
    )
    assert s.dim == 2 and not s.info.differentiable  # abs and sqrt


def test_expression_nd_names_gradient_and_minimizers():
    s = surfaces.get(
        "expression", expr="(x0 - 1)**2 + 2*x1**2 + 3*(x2 + 0.5)**2", minimizers=[1, 0, -0.5]
    )
    assert s.dim == 3 and s.f_min == 0.0 and s.info.differentiable
    x = np.array([0.2, -0.4, 1.0])
    np.testing.assert_allclose(
        jax.jit(jax.grad(s))(jnp.asarray(x)), [2 * (x[0] - 1), 4 * x[1], 6 * (x[2] + 0.5)]
    )
    assert surfaces.get("expression", expr="x0 + x4").dim == 5
    assert surfaces.get("expression", expr="x0**2", dim=1).dim == 1


def test_expression_bounds_and_f_min_from_minimizers():
    s = surfaces.get("expression", expr="x**2 + y**2 + 1", bounds=[-2, 3], minimizers=[[0, 0]])
    np.testing.assert_array_equal(s.bounds, [[-2, 3], [-2, 3]])
    assert s.f_min == 1.0
    s = surfaces.get("expression", expr="x**2 + y**2", bounds=[[-1, 1], [0, 2]])
    np.testing.assert_array_equal(s.bounds, [[-1, 1], [0, 2]])
    assert s.f_min is None and len(s.minimizers) == 0


def test_expression_powers_are_computed_by_jax_not_python():
    # Python would compute 9**9**9 as a 370-million-digit integer; here it is a float: inf.
    at = jnp.asarray([1.0, 0.5])
    assert float(surfaces.get("expression", expr="x + 9**9**9")(at)) == np.inf
    assert float(surfaces.get("expression", expr="x + y**100000000000 + 2**-2")(at)) == 1.25


@pytest.mark.parametrize(
    ("expr", "needle"),
    [
        ("__import__('os')", "unknown function '__import__' at column 1"),
        ("x.__class__", "attribute access '.__class__' at column 2"),
        ("sin(x).real + y", "attribute access '.real' at column 7"),
        ("(lambda: 1)() + x", "lambda 'lambda: 1' at column 2"),
        ("[x for x in (1, 2)]", "comprehension '[x for x in (1, 2)]' at column 1"),
        ("sum(x for x in (1, 2))", "unknown function 'sum' at column 1"),
        ("x + z", "unknown name 'z' at column 5"),
        ("x + os", "unknown name 'os' at column 5"),
        ("x ^ 2", "operator '^' at column 3 is not allowed (use ** for powers)"),
        ("(x)^(y)", "operator '^' at column 4"),
        ("x // 2", "operator '//' at column 3"),
        ("x[0]", "indexing 'x[0]' at column 1"),
        ("x if y else 1", "conditional 'x if y else 1' at column 1"),
        ("x < y", "comparison 'x < y' at column 1"),
        ("'a' + x", "constant \"'a'\" at column 1"),
        ("sin(x, y)", "sin takes exactly one argument ('sin(x, y)' at column 1)"),
        ("sin + x", "function without a call 'sin' at column 1"),
        ("x**2 +", "syntax error at column"),
        ("x² + y", "character '²' at column 2"),
        ("", "must be a non-empty expression string"),
    ],
)
def test_unsafe_or_malformed_expression_is_rejected(expr, needle):
    with pytest.raises(UserError) as e:
        surfaces.get("expression", expr=expr)
    msg = str(e.value)
    assert msg.startswith(f"surface.expr={expr.strip()!r} is invalid") or not expr
    assert needle in msg, msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        (
            {"expr": "x + y", "dim": 3},
            "variable (x, y are the 2-D names for dim=3) 'x' at column 1",
        ),
        ({"expr": "x0 + x3", "dim": 2}, "'x3' at column 6"),
        ({"expr": "x + y", "bounds": [1, 0]}, "surface.bounds=[1, 0] is invalid: needs lo < hi"),
        ({"expr": "x + y", "bounds": [[0, 1], [2, 2]]}, "coordinate 1: 2 >= 2"),
        ({"expr": "x + y", "bounds": [0, 1, 2]}, "surface.bounds=[0, 1, 2] is invalid"),
        ({"expr": "x + y", "minimizers": [1, 2, 3]}, "surface.minimizers=[1, 2, 3] is invalid"),
        ({"expr": "x**2 + y**2", "minimizers": [[0, 0], [1, 1]]}, "f differs between them"),
        ({"expr": "log(x) + y", "minimizers": [-1, 0]}, "f is not finite there"),
    ],
)
def test_expression_parameters_are_checked(params, needle):
    with pytest.raises(UserError) as e:
        surfaces.get("expression", **params)
    assert needle in str(e.value) and "\n" not in str(e.value)


# ---- custom -------------------------------------------------------------------------------------


def test_custom_function_is_imported_and_used():
    s = surfaces.get("custom", fn="custom_surfaces.log_cosh_bowl", dim=4, minimizers=[1, 1, 1, 1])
    x = np.array([0.1, 2.0, -1.0, 1.0])
    assert float(s(jnp.asarray(x))) == pytest.approx(np.sum(np.log(np.cosh(x - 1))), rel=1e-14)
    assert s.f_min == 0.0 and s.dim == 4 and "log_cosh_bowl" in s.info.source
    np.testing.assert_array_equal(s.bounds, np.tile([-5.0, 5.0], (4, 1)))


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({}, "surface.fn=None is invalid: must name an importable function"),
        ({"fn": "nosuchpkg.mod.f"}, "no module named 'nosuchpkg'"),
        ({"fn": "math.nope"}, "'math' has no attribute 'nope'"),
        ({"fn": "math.pi"}, "float object is not callable"),
        ({"fn": "sphere"}, "must name an importable function as 'package.module.function'"),
        (
            {"fn": "custom_surfaces.vector_valued"},
            "it returns shape (2,) for an input of shape (2,)",
        ),
        ({"fn": "custom_surfaces.broken"}, "raised RuntimeError: this function always fails"),
        ({"fn": "custom_surfaces.log_cosh_bowl", "bounds": [[0, 1], [1, -1]]}, "needs lo < hi"),
    ],
)
def test_bad_custom_function_is_rejected(params, needle):
    with pytest.raises(UserError) as e:
        surfaces.get("custom", **params)
    assert needle in str(e.value) and "\n" not in str(e.value)


# ---- everywhere a catalog surface works ---------------------------------------------------------


def test_custom_surface_runs_in_the_engine_and_the_landscape():
    # The expression surface takes the same path through the CLI test below.
    surface = surfaces.get("custom", fn="custom_surfaces.log_cosh_bowl", minimizers=[1, 1])
    spec, hp = split("gd", {"learning_rate": 0.2})
    group = engine.Group(spec, {k: np.full(1, v) for k, v in hp.items()}, np.array([[3.0, 2.0]]))
    traj = engine.run(surface, [group], 200, dtype=np.float64)
    assert surface.distance_to_minimizer(traj.params[:, -1])[0] < 1e-3
    X, Y, Z = landscape.grid(surface, surface.bounds, n=11)
    expected = jax.vmap(surface)(jnp.stack([X.ravel(), Y.ravel()], -1)).reshape(11, 11)
    np.testing.assert_allclose(Z, expected, rtol=1e-12, atol=1e-12)


def test_expression_instance_from_the_command_line(cli):
    proc, out = cli(
        "surface=expression",
        'surface.expr="(x - 1)**2 + 3*(y + 0.5)**2"',  # Hydra needs quotes around parentheses
        "surface.minimizers=[1,-0.5]",
        "surface.shift=[0.5,0.5]",
        "surface.rotation_seed=2",
        "optimizer.learning_rate=0.1",
        "start=[0,0]",
        "steps=300",
    )
    assert proc.returncode == 0, proc.stderr
    with open(out / "runs.csv") as fh:
        row = next(csv.DictReader(fh))
    assert row["surface"] == "expression" and float(row["f_min"]) == 0.0
    assert float(row["distance_to_minimizer"]) < 1e-3
    assert (out / "contour.png").stat().st_size > 10_000


def test_unsafe_expression_on_the_command_line(cli):
    proc, _ = cli("surface=expression", "surface.expr=\"__import__('os').system('echo hacked')\"")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("optlab: error: surface.expr=")
    assert "attribute access '.system'" in lines[0] and "Traceback" not in proc.stderr
    assert "hacked" not in proc.stdout
