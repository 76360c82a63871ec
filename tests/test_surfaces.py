"""Generic self-checks of every surface in conf/surface/ (float64), and of a few instances.

For each YAML: f(x*) = f* at every listed minimizer; ∇f(x*) ≈ 0 and the Hessian is PSD there (where
differentiable); listed stationary points have the stated value and Hessian signs; no point of a dense
sample of the domain and no bounded local solve (scipy L-BFGS-B) goes below f*; f* is global unless the
surface says it is unbounded below (checked by sampling a 10× larger box); jax.grad agrees with
central finite differences away from the declared singular points. N-d surfaces at d = 2, 5, 10.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from omegaconf import OmegaConf
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from optlab import surfaces
from optlab.config import conf_dir
from optlab.surfaces.instances import Transform, transform_of
from optlab.surfaces.registry import INSTANCE_KEYS

YAMLS = sorted(p.stem for p in (conf_dir() / "surface").glob("*.yaml"))
NDIMS = (2, 5, 10)
# User-defined surfaces need a definition; these have known minimizers.
USER = {
    "expression": {"expr": "x**2 + 3*y**2 - x*y + sin(x)**2", "minimizers": [[0, 0]]},
    "custom": {"fn": "custom_surfaces.log_cosh_bowl", "dim": 3, "minimizers": [1, 1, 1]},
}
INSTANCES = [
    ("himmelblau", {"shift": [0.5, -0.25], "rotation_seed": 3}),
    ("six_hump_camel", {"shift": [1.0, 2.0], "rotation_seed": 0}),
    ("monkey_saddle", {"shift": [-1.0, 0.5], "rotation_seed": 1}),
    ("mccormick", {"rotation_seed": 2}),
    ("rosenbrock", {"dim": 5, "rotation_seed": 7}),
    ("ackley", {"dim": 5, "shift": [1, 2, 3, 4, 5], "rotation_seed": 4}),
    ("schwefel", {"dim": 3, "shift": [10, -20, 30], "rotation_seed": 5}),
    ("quadratic", {"dim": 10, "condition_number": 1000, "center": 1.0, "rotation_seed": 0}),
]
N_SAMPLE = 100_000
N_SOLVES = 8
N_FD = 16


def yaml_cases():
    for stem in YAMLS:
        cfg = OmegaConf.to_container(OmegaConf.load(conf_dir() / "surface" / f"{stem}.yaml"))
        name = cfg.pop("name")
        assert name == stem
        cfg |= USER.get(name, {})
        e = surfaces.entry(name)
        dims = NDIMS if e.max_dim is None and name not in surfaces.USER_DEFINED else (None,)
        for d in dims:
            params = cfg if d is None else cfg | {"dim": d}
            yield pytest.param(name, params, id=stem if d is None else f"{stem}-{d}d")


def base_box(s: surfaces.Surface) -> np.ndarray:
    """The box the surface's f* refers to, in base coordinates (the original box of an instance)."""
    base = {k: v for k, v in s.config.items() if k not in INSTANCE_KEYS}
    return surfaces.get(s.name, **base).bounds if transform_of(s) else s.bounds


def in_domain(s: surfaces.Surface, u: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Map unit-cube points u (n, d) into the (scaled) domain: the transformed original box."""
    b = base_box(s)
    mid, half = b.mean(1), 0.5 * scale * (b[:, 1] - b[:, 0])
    y = mid + (2.0 * u - 1.0) * half
    t = transform_of(s) or Transform((0.0,) * s.dim, None)
    return t.from_base(y)


def dense(s: surfaces.Surface, scale: float = 1.0) -> np.ndarray:
    """A 400×400 grid (2-D) or 10⁵ uniform points (N-d) over the scaled domain."""
    if s.dim == 2:
        g = np.linspace(0.0, 1.0, 400)
        u = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    else:
        u = np.random.default_rng(0).random((N_SAMPLE, s.dim))
    return in_domain(s, u, scale)


def stencil(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points x ± h eᵢ, x ± 2h eᵢ (n, 4, d, d) for fourth-order central differences, and h (n, d)."""
    h = 1e-4 * (1.0 + np.abs(x))
    e = np.eye(x.shape[-1]) * h[:, :, None]
    offsets = np.stack([e, -e, 2 * e, -2 * e], axis=1)
    return x[:, None, None, :] + offsets, h


def fd_grad(values: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The gradient from f on the stencil (n, 4, d)."""
    fp, fm, fp2, fm2 = np.moveaxis(values, 1, 0)
    return (8.0 * (fp - fm) - (fp2 - fm2)) / (12.0 * h)


# Tests compile one program per surface and dimension: skip LLVM's expensive passes.
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


@partial(jax.jit, compiler_options=FAST_COMPILE)
def measure(s, points, flat):
    """∇f and the Hessian of s at `points` (k, d), and f at `flat` (n, d)."""

    def grad_and_hessian(x):
        g = jax.grad(s)
        return jax.jacfwd(lambda x: (g(x), g(x)), has_aux=True)(x)

    hessian, grad = jax.vmap(grad_and_hessian)(points)
    return grad, hessian, jax.vmap(s)(flat)


@partial(jax.jit, compiler_options=FAST_COMPILE)
def value_and_grad_in_base(s, rotation, shift, y):
    """f and ∇f at x = Rᵀy + shift, as functions of the base coordinates y."""
    return jax.value_and_grad(lambda y: s(y @ rotation + shift))(y)


def no_singular(x, tol):
    return np.zeros(np.shape(x)[:-1], bool)


def ring(x, radius=1e-2, n=12) -> np.ndarray:
    """`n` points on a small circle around the 2-D point x."""
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    return np.asarray(x) + radius * np.stack([np.cos(t), np.sin(t)], -1)


def check(s: surfaces.Surface) -> None:
    tol = 1e-8 * (1.0 + abs(s.f_min or 0.0))
    rng = np.random.default_rng(1)
    singular = s.info.singular or no_singular
    width = float(np.min(np.ptp(base_box(s), axis=1)))

    # One compiled call: derivatives at minimizers, stationary points and random points away from
    # singular points; values there, on finite-difference stencils, on rings around degenerate
    # saddles and on the dense samples of the domain (and of a 10× larger box).
    pts = in_domain(s, rng.random((4 * N_FD, s.dim)))
    pts = pts[~singular(pts, 1e-3 * width)][:N_FD]
    stat = np.array([x for _, x, _ in s.info.stationary_points], float).reshape(-1, s.dim)
    probes = np.concatenate([s.minimizers, stat, pts])
    rings = [ring(x) for kind, x, _ in s.info.stationary_points if kind == "degenerate saddle"]
    fd_points, h = stencil(pts)
    blocks = [probes, fd_points.reshape(-1, s.dim), *rings, dense(s), dense(s, 10.0)]
    g, H, flat = jax.device_get(measure(s, probes, np.concatenate(blocks)))
    v, fd_values, *around, inner, outer = np.split(flat, np.cumsum([len(b) for b in blocks])[:-1])
    around = iter(around)
    k, m = len(s.minimizers), len(stat)
    scale = 1.0 + np.abs(np.linalg.eigvalsh(H)).max(axis=-1)

    # Minimizers: f = f*, ∇f = 0, Hessian PSD (where differentiable).
    for i, x in enumerate(s.minimizers):
        assert abs(v[i] - s.f_min) <= tol, (x, v[i], s.f_min)
        assert np.all(np.isfinite(g[i])), "JAX's gradient must stay finite at a minimizer"
        if not singular(x, 1e-8):
            assert np.abs(g[i]).max() <= 1e-7 * scale[i], (x, g[i])
            assert np.linalg.eigvalsh(H[i]).min() >= -1e-7 * scale[i], (x, H[i])

    # Stationary points: value, ∇f = 0, Hessian signs by kind.
    for j, (kind, x, fx) in enumerate(s.info.stationary_points):
        i = k + j
        assert abs(v[i] - fx) <= 1e-9 * (1.0 + abs(fx)), (kind, x, v[i], fx)
        assert np.abs(g[i]).max() <= 1e-7 * scale[i], (kind, x, g[i])
        eig = np.linalg.eigvalsh(H[i])
        eps = 1e-7 * scale[i]
        if kind == "maximum":
            assert eig.max() < -eps
        elif kind == "local minimum":
            assert eig.min() > eps and s.f_min is not None and fx > s.f_min + 1e-6
        elif kind == "saddle":
            assert eig.min() < -eps and eig.max() > eps, eig
        elif kind == "degenerate saddle":  # zero Hessian, yet f goes both ways around it
            near = next(around)
            assert np.abs(eig).max() <= eps and near.min() < fx < near.max()
        else:
            raise AssertionError(f"unknown stationary kind {kind!r}")

    # jax.grad against finite differences.
    r = slice(k + m, None)
    err = np.abs(g[r] - fd_grad(fd_values.reshape(h.shape[0], 4, -1), h)).max(axis=-1)
    assert np.all(err <= 1e-6 * (1.0 + np.abs(g[r]).max(axis=-1) + 1e-3 * np.abs(v[r]))), err.max()

    # Nothing in a dense sample of the domain goes below f*; outside it, only if unbounded below.
    if s.f_min is None:
        assert s.info.unbounded_below and outer.min() < 10.0 * min(inner.min(), -1.0)
        return
    assert inner.min() >= s.f_min - tol, inner.min()
    if s.info.unbounded_below:
        assert outer.min() < s.f_min - 1.0
    else:
        assert outer.min() >= s.f_min - tol, outer.min()

    # No bounded local solve (in base coordinates: the transformed original box) goes below f*.
    # Starts: the best sample points (they find a wrongly listed optimum) and random ones.
    t = transform_of(s) or Transform((0.0,) * s.dim, None)
    rotation = jnp.eye(s.dim) if t.seed is None else jnp.asarray(t.rotation)
    shift = jnp.asarray(t.shift)
    box = base_box(s)

    def fun(y):
        value, grad = value_and_grad_in_base(s, rotation, shift, jnp.asarray(y))
        return float(value), np.asarray(grad)

    best = t.to_base(dense(s)[np.argsort(inner.ravel())[: N_SOLVES // 2]])
    starts = box[:, 0] + rng.random((N_SOLVES // 2, s.dim)) * np.ptp(box, axis=1)
    for y0 in np.concatenate([np.clip(best, box[:, 0], box[:, 1]), starts]):
        res = minimize(fun, y0, jac=True, method="L-BFGS-B", bounds=box)
        assert res.fun >= s.f_min - tol, (res.x, res.fun)


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """scipy's L-BFGS-B calls BLAS on tiny vectors: threads only add overhead (10× here)."""
    with threadpool_limits(1, user_api="blas"):
        yield


@pytest.mark.parametrize(("name", "params"), list(yaml_cases()))
def test_surface_checks_itself(name, params):
    check(surfaces.get(name, **params))


@pytest.mark.parametrize(("name", "params"), INSTANCES, ids=[n for n, _ in INSTANCES])
def test_instance_checks_itself(name, params):
    s = surfaces.get(name, **params)
    base = surfaces.get(name, **{k: v for k, v in params.items() if k not in INSTANCE_KEYS})
    assert s.f_min == base.f_min
    assert not np.allclose(s.minimizers, base.minimizers) or len(s.minimizers) == 0
    check(s)
