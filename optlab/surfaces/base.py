"""The `Surface` type: a pure JAX function f: R^d -> R plus its known optima."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array


def _as_tuple(a: np.ndarray) -> tuple:
    return tuple(map(tuple, a.tolist())) if a.ndim == 2 else tuple(a.tolist())


def box(lo: float, hi: float, dim: int) -> np.ndarray:
    """The bounds [lo, hi]^dim as a (dim, 2) array."""
    return np.tile([float(lo), float(hi)], (dim, 1))


class Unkeyed:
    """Carries a value through a pytree's static data without keying jit's cache.

    Every `Unkeyed` equals every other, so two surfaces differing only in their descriptive
    `config` (e.g. `condition_number`, whose numbers live in the traced `params`) share one compile.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unkeyed)

    def __hash__(self) -> int:
        return 0


def freeze(value: Any) -> Any:
    """A hashable copy of nested lists/dicts (for static pytree metadata)."""
    if isinstance(value, Mapping):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple | np.ndarray):
        return tuple(freeze(v) for v in value)
    return value


@dataclasses.dataclass(frozen=True)
class SurfaceInfo:
    """Descriptive metadata: formula, source, differentiability, other stationary points."""

    formula: str = ""
    source: str = ""
    differentiable: bool = True
    nondifferentiable_at: str = ""  # human description, e.g. "x = 0"
    f_min_note: str = ""  # e.g. "minimum over the box; unbounded below outside"
    stationary_points: tuple[tuple[str, tuple[float, ...], float], ...] = ()  # (kind, x, f)
    # singular(x, tol) -> True where f is not differentiable (or JAX's gradient is unreliable)
    # within `tol` of x; NumPy predicate on x of shape (..., d) returning (...) booleans.
    # Property tests sample away from those points. None: smooth everywhere.
    singular: Callable[[np.ndarray, float], bool] | None = None
    unbounded_below: bool = False  # f* is the minimum over the bounds only
    name: str = ""  # a human name where the registry name is a family (e.g. "Kowalik and Osborne")
    m: int | None = None  # number of residuals of a sum of squares f = Σᵢ₌₁ᵐ Fᵢ(x)²
    start_source: str = ""  # where the declared `Surface.start` comes from


@dataclasses.dataclass(frozen=True)
class SumOfSquares:
    """f(x) = Σᵢ Fᵢ(x)² for a residual function F: Rⁿ → Rᵐ (kept reachable as `residuals`).

    `residuals` must be hashable and compare by value (a frozen dataclass), so that two equal
    surfaces share one compiled program.
    """

    residuals: Callable[..., Array]

    def __call__(self, x: Array, **params: Any) -> Array:
        r = self.residuals(x, **params)
        return jnp.sum(r * r)


@jax.tree_util.register_pytree_node_class
class Surface:
    """A test surface: `surface(x)` with `x` of shape (d,) returns a scalar.

    `params` are numeric parameters passed to `fn` as keyword arguments; they are pytree leaves,
    so they can be traced (changing them does not recompile). Everything else is static metadata;
    `config` is descriptive only (`fn` must not depend on it) and does not key jit's cache.
    """

    def __init__(
        self,
        name: str,
        fn: Callable[..., Array],
        dim: int,
        bounds: Any,
        minimizers: Any,
        f_min: float | None,
        params: Mapping[str, Any] | None = None,
        info: SurfaceInfo | None = None,
        config: Mapping[str, Any] | None = None,
        start: Any = None,
    ):
        self.name = name
        self.fn = fn
        self.dim = int(dim)
        self.bounds = np.asarray(bounds, dtype=float).reshape(self.dim, 2)
        self.minimizers = np.asarray(minimizers, dtype=float).reshape(-1, self.dim)
        self.f_min = None if f_min is None else float(f_min)
        self.params = dict(params or {})
        self.info = info or SurfaceInfo()
        self.config = dict(config or {})  # the keyword arguments that rebuild it with `get`
        # The classic starting point of the literature (d,), or None where none is declared.
        self.start = None if start is None else np.asarray(start, dtype=float).reshape(self.dim)

    def __call__(self, x: Array) -> Array:
        return self.fn(x, **self.params)

    def residuals(self, x: Array) -> Array:
        """F(x) ∈ Rᵐ of a least-squares surface f = Σᵢ Fᵢ(x)² (TypeError for any other)."""
        if not isinstance(self.fn, SumOfSquares):
            raise TypeError(f"surface {self.name!r} is not a sum of squares")
        return self.fn.residuals(x, **self.params)

    def __repr__(self) -> str:
        return f"Surface({self.name!r}, dim={self.dim}, f_min={self.f_min})"

    def _static(self) -> tuple:
        return (
            self.name,
            self.fn,
            self.dim,
            _as_tuple(self.bounds),
            _as_tuple(self.minimizers),
            self.f_min,
            self.info,
            Unkeyed(self.config),
            None if self.start is None else tuple(self.start.tolist()),
        )

    def tree_flatten(self):
        keys = tuple(sorted(self.params))
        return tuple(self.params[k] for k in keys), (keys, self._static())

    @classmethod
    def tree_unflatten(cls, aux, children):
        keys, (name, fn, dim, bounds, minimizers, f_min, info, config, start) = aux
        obj = cls.__new__(cls)
        obj.name, obj.fn, obj.dim, obj.f_min, obj.info = name, fn, dim, f_min, info
        obj.bounds = np.asarray(bounds, dtype=float).reshape(dim, 2)
        obj.minimizers = np.asarray(minimizers, dtype=float).reshape(-1, dim)
        obj.params = dict(zip(keys, children, strict=True))
        obj.config = dict(config.value)
        obj.start = None if start is None else np.asarray(start, dtype=float)
        return obj

    def astype(self, dtype) -> Surface:
        """The same surface with its numeric parameters cast to `dtype`."""
        return jax.tree.map(lambda p: jnp.asarray(p, dtype=dtype), self)

    def distance_to_minimizer(self, x: np.ndarray) -> np.ndarray:
        """Euclidean distance from each row of `x` (..., d) to the nearest known minimizer."""
        if len(self.minimizers) == 0:
            return np.full(np.shape(x)[:-1], np.nan)
        diff = np.asarray(x, dtype=np.float64)[..., None, :] - self.minimizers
        with np.errstate(over="ignore"):  # a huge but finite point is honestly infinitely far
            return np.sqrt((diff**2).sum(-1)).min(-1)
