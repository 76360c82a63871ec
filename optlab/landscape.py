"""Surface values on planes through R^d (JAX, evaluated in memory-bounded chunks) for the plots.

A `Plane` is the affine map (a, b) -> origin + a·u + b·v. A 2-D surface is drawn on its own plane
(origin 0, u = e₀, v = e₁); an N-d surface on a slice along two coordinate axes through a point,
or on the plane of the trajectories' first two principal components (Li et al. 2018,
"Visualizing the Loss Landscape of Neural Nets").

A grid is evaluated `lax.map(..., batch_size=k)`: k points at a time, k chosen so that one chunk
holds at most CHUNK_BYTES (XLA's count of the bytes one evaluation needs, times k). An n×n grid of
a 2,410-D network loss evaluated at once would hold n² copies of every activation (15 GiB at
n = 200); in chunks it holds k.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from optlab.plots.scene import Scene, Sweep
from optlab.surfaces.base import Surface


@dataclasses.dataclass(frozen=True)
class Plane:
    """The plane origin + a·u + b·v with view box `bounds` [[alo, ahi], [blo, bhi]] (u, v
    orthonormal for `project`, `lift` and `distance`; `values` takes any two directions)."""

    origin: np.ndarray  # (d,)
    basis: np.ndarray  # (2, d): rows u, v
    bounds: np.ndarray  # (2, 2)
    names: tuple[str, str] = ("x", "y")
    note: str = ""  # how the plane was chosen, for the figure's title

    def project(self, points: np.ndarray) -> np.ndarray:
        """Plane coordinates (..., 2) of `points` (..., d): ((p − origin)·u, (p − origin)·v)."""
        return (np.asarray(points, dtype=float) - self.origin) @ self.basis.T

    def lift(self, ab: np.ndarray) -> np.ndarray:
        """The points (..., d) of R^d at plane coordinates `ab` (..., 2)."""
        return self.origin + np.asarray(ab, dtype=float) @ self.basis

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Euclidean distance of each point (..., d) from the plane."""
        p = np.asarray(points, dtype=float)
        return np.linalg.norm(p - self.lift(self.project(p)), axis=-1)


def axis_name(i: int, dim: int) -> str:
    """`x`, `y` in 2-D; `x0`, `x1`, ... otherwise."""
    return "xy"[i] if dim == 2 else f"x{i}"


def slice_plane(
    dim: int, axes: tuple[int, int], through: np.ndarray, bounds: np.ndarray, note: str = ""
) -> Plane:
    """The slice x_k = through_k (k ∉ axes) with coordinates (x_i, x_j) = (a, b) over `bounds`."""
    i, j = axes
    eye = np.eye(dim)
    origin = np.asarray(through, dtype=float).copy()
    origin[[i, j]] = 0.0
    names = (axis_name(i, dim), axis_name(j, dim))
    return Plane(origin, eye[[i, j]], np.asarray(bounds, dtype=float), names, note)


def pca_plane(points: np.ndarray, center: np.ndarray, pad: float = 0.15) -> Plane:
    """The plane through `center` spanned by the first two principal directions of `points` − center.

    The directions are the top right singular vectors of the displacement matrix (uncentered, so a
    trajectory converging to `center` lies along PC1); the view box covers every projected point and
    the center, padded by `pad` of its size. Fewer than two directions of spread: completed by axes.
    """
    c = np.asarray(center, dtype=float)
    P = np.asarray(points, dtype=float).reshape(-1, c.size)
    P = P[np.all(np.isfinite(P), axis=1)] - c
    _, s, vt = np.linalg.svd(P, full_matrices=True) if len(P) else (None, np.zeros(0), None)
    rank = int(np.sum(s > 1e-12 * max(s.max(initial=0.0), 1e-300)))
    basis = _complete(vt[: min(rank, 2)] if rank else np.zeros((0, c.size)), c.size)
    share = s**2 / max(float(np.sum(s**2)), 1e-300)
    names = tuple(
        f"PC{k + 1} ({100 * share[k]:.0f}% of spread)" if k < rank else f"PC{k + 1}"
        for k in range(2)
    )
    ab = np.vstack([P @ basis.T, np.zeros((1, 2))])
    lo, hi = ab.min(axis=0), ab.max(axis=0)
    half = np.maximum((hi - lo) * (0.5 + pad), 1e-3 * max(1.0, float(np.abs(c).max(initial=0))))
    mid = (lo + hi) / 2
    bounds = np.stack([mid - half, mid + half], axis=1)
    return Plane(c, basis, bounds, names, "trajectories' first two principal components")


def _complete(rows: np.ndarray, dim: int) -> np.ndarray:
    """`rows` (k ≤ 2, d) orthonormal, completed to two orthonormal rows with coordinate axes."""
    basis = list(rows)
    for e in np.eye(dim):
        if len(basis) == 2:
            break
        r = e - sum(np.dot(e, b) * b for b in basis)
        if np.linalg.norm(r) > 1e-6:
            basis.append(r / np.linalg.norm(r))
    return np.asarray(basis)


def plane_2d(bounds: np.ndarray) -> Plane:
    """A 2-D surface's own plane over `bounds`."""
    return Plane(np.zeros(2), np.eye(2), np.asarray(bounds, dtype=float))


CHUNK_BYTES = 64 * 2**20  # the most one chunk of a landscape evaluation may hold


def evaluation_bytes(fn: Callable, args: tuple, point: jax.ShapeDtypeStruct) -> int:
    """Bytes one evaluation `fn(*args, x)` at a single point x needs: the point, XLA's temporaries
    and the output, from the compiled one-point program (the point's size × 16 where the backend
    does not say: a bound from the dimension alone)."""
    size = int(np.prod(point.shape)) * point.dtype.itemsize
    stats = jax.jit(fn).lower(*args, point).compile().memory_analysis()
    if stats is None:
        return 16 * size
    return size + int(stats.temp_size_in_bytes) + int(stats.output_size_in_bytes)


def chunk_size(
    fn: Callable, args: tuple, point: jax.ShapeDtypeStruct, budget: int = CHUNK_BYTES
) -> int:
    """Points per chunk of a mapped `fn(*args, x)`: budget / evaluation_bytes, at least 1."""
    return max(1, budget // evaluation_bytes(fn, args, point))


def _value(surface: Surface, x: jax.Array) -> jax.Array:
    return surface(x)


def _gradient(surface: Surface, x: jax.Array) -> jax.Array:
    return jax.grad(surface)(x)


@functools.lru_cache(maxsize=64)
def _surface_chunk(fn: Callable, treedef, leaves: tuple, dim: int, dtype: str) -> int:
    args = (jax.tree.unflatten(treedef, [jax.ShapeDtypeStruct(s, d) for s, d in leaves]),)
    return chunk_size(fn, args, jax.ShapeDtypeStruct((dim,), dtype))


def surface_chunk(fn: Callable, surface: Surface, dtype=None) -> int:
    """Points per chunk for `fn(surface, x)` (`_value` or `_gradient`), x of the surface's
    dimension; cached per surface shape (its function, dimension and parameter shapes)."""
    leaves, treedef = jax.tree.flatten(surface)
    shapes = tuple((np.shape(v), jnp.result_type(v).name) for v in leaves)
    dtype = jnp.dtype(dtype or jnp.result_type(float)).name
    return _surface_chunk(fn, treedef, shapes, surface.dim, dtype)


def _mesh(lo, hi, n: int):
    return jnp.meshgrid(jnp.linspace(lo[0], hi[0], n), jnp.linspace(lo[1], hi[1], n))


def _on_plane(fn: Callable, surface: Surface, origin, basis, A, B, batch: int):
    """fn(surface, origin + a·u + b·v) over the grid (A, B), `batch` points at a time (each
    point built inside the chunk: the n² × d points never exist at once)."""
    ab = jnp.stack([A.ravel(), B.ravel()], axis=-1)
    return jax.lax.map(lambda p: fn(surface, origin + p @ basis), ab, batch_size=batch)


@partial(jax.jit, static_argnames=("n", "batch"))
def _values(surface: Surface, origin, basis, lo, hi, n: int, batch: int):
    A, B = _mesh(lo, hi, n)
    return A, B, _on_plane(_value, surface, origin, basis, A, B, batch).reshape(n, n)


@partial(jax.jit, static_argnames=("n", "batch"))
def _field(surface: Surface, origin, basis, lo, hi, n: int, batch: int):
    A, B = _mesh(lo, hi, n)
    G = _on_plane(_gradient, surface, origin, basis, A, B, batch) @ basis.T
    return A, B, G[:, 0].reshape(n, n), G[:, 1].reshape(n, n)


@partial(jax.jit, static_argnames="batch")
def _at(surface: Surface, points, batch: int):
    return jax.lax.map(partial(_value, surface), points, batch_size=batch)


def _args(plane: Plane) -> tuple:
    return (
        jnp.asarray(plane.origin),
        jnp.asarray(plane.basis),
        jnp.asarray(plane.bounds[:, 0]),
        jnp.asarray(plane.bounds[:, 1]),
    )


def values(surface: Surface, plane: Plane, n: int = 200) -> tuple[np.ndarray, ...]:
    """(A, B, Z): Z = f(origin + a·u + b·v) on an n×n grid over the plane's box (in chunks)."""
    args = _args(plane)
    batch = surface_chunk(_value, surface, args[0].dtype)
    return tuple(np.asarray(a) for a in _values(surface, *args, n, batch))


def field(surface: Surface, plane: Plane, n: int = 20) -> tuple[np.ndarray, ...]:
    """(A, B, Ga, Gb): the gradient of f restricted to the plane, (∇f·u, ∇f·v), on an n×n grid."""
    args = _args(plane)
    batch = surface_chunk(_gradient, surface, args[0].dtype)
    return tuple(np.asarray(a) for a in _field(surface, *args, n, batch))


def heights(surface: Surface, plane: Plane, ab: np.ndarray) -> np.ndarray:
    """f at the plane points with coordinates `ab` (..., 2) (NaN where `ab` is not finite)."""
    ab = np.asarray(ab, dtype=float)
    ok = np.all(np.isfinite(ab), axis=-1)
    out = np.full(ab.shape[:-1], np.nan)
    if ok.any():
        points = jnp.asarray(plane.lift(ab[ok]))
        out[ok] = np.asarray(_at(surface, points, surface_chunk(_value, surface, points.dtype)))
    return out


def grid(surface: Surface, bounds: np.ndarray, n: int = 200) -> tuple[np.ndarray, ...]:
    """(X, Y, Z) with Z = f(x, y) on an n×n grid over `bounds` [[xlo, xhi], [ylo, yhi]] (2-D)."""
    return values(surface, plane_2d(bounds), n)


def through(surface: Surface, params: np.ndarray, loss: np.ndarray) -> tuple[np.ndarray, str]:
    """The point an N-d view goes through: the known minimizer nearest the best final point,
    else that point (the lowest finite f among the runs' last finite states), else the box center."""
    finals = [p[np.all(np.isfinite(p), axis=-1)] for p in np.asarray(params, dtype=float)]
    last = [
        f[np.isfinite(f)][-1] if np.isfinite(f).any() else np.inf for f in np.asarray(loss, float)
    ]
    best = [(v, p[-1]) for v, p in zip(last, finals, strict=True) if len(p) and np.isfinite(v)]
    if not best:
        return surface.bounds.mean(axis=1), "the center of the bounds"
    x = min(best, key=lambda vp: vp[0])[1]
    if len(surface.minimizers):
        return surface.minimizers[np.argmin(np.linalg.norm(surface.minimizers - x, axis=1))], "x*"
    return x, "the best final point"


def view(
    surface: Surface,
    params: np.ndarray,
    loss: np.ndarray,
    projection: str | None,
    axes: tuple[int, int] | None,
    bounds: np.ndarray,
) -> Plane:
    """The plane the maps are drawn on: a 2-D surface's own plane over `bounds`; in N-d (or when
    asked) the slice along `axes` (default (0, 1)) through `through(...)`, or the PCA plane."""
    if surface.dim == 2 and projection is None:
        return plane_2d(bounds)
    center, what = through(surface, params, loss)
    if projection == "pca":
        plane = pca_plane(params, center)
        return dataclasses.replace(plane, note=f"plane through {what} of the {plane.note}")
    i, j = axes or (0, 1)
    names = (axis_name(i, surface.dim), axis_name(j, surface.dim))
    others = [k for k in range(surface.dim) if k not in (i, j)]
    note = (
        f"slice through {what} along {names[0]}, {names[1]} ({spans(others)} fixed)"
        if others
        else ""
    )
    return slice_plane(surface.dim, (i, j), center, bounds, note)


def spans(indices: list[int]) -> str:
    """Coordinates named by runs of consecutive indices: [0, 1, 3, 4, 6, 7, 8, 9] ->
    `x0, x1, x3, x4, x6..x9` (a run of three or more as `first..last`)."""
    runs: list[list[int]] = []
    for k in indices:
        if runs and k == runs[-1][-1] + 1:
            runs[-1].append(k)
        else:
            runs.append([k])
    names = [[f"x{r[0]}..x{r[-1]}"] if len(r) > 2 else [f"x{k}" for k in r] for r in runs]
    return ", ".join(n for group in names for n in group)


def scene(
    surface: Surface,
    plane: Plane,
    params: np.ndarray,
    grad: np.ndarray,
    labels: list[str],
    title: str,
    resolution: int = 200,
    quiver: bool = False,
    sweep: Sweep | None = None,
) -> Scene:
    """The runs (params, grad: (R, T+1, d)) and the surface on `plane`, as host arrays (`sweep`:
    a hyperparameter coloring the paths)."""
    X, Y, Z = values(surface, plane, resolution)
    with np.errstate(invalid="ignore", over="ignore"):  # diverged runs: inf/NaN stay non-finite
        paths = plane.project(params)
        grads = np.asarray(grad, dtype=float) @ plane.basis.T
    scale = 1 + np.abs(surface.minimizers).max(initial=0)
    on_plane = plane.distance(surface.minimizers) <= 1e-6 * scale
    return Scene(
        X,
        Y,
        Z,
        title,
        minimizers=plane.project(surface.minimizers[on_plane]),
        paths=list(paths),
        labels=list(labels),
        heights=list(heights(surface, plane, paths)),
        grads=list(grads),
        f_min=surface.f_min,
        axis_names=plane.names,
        field=field(surface, plane) if quiver else None,
        note=plane.note,
        sweep=sweep,
    )
