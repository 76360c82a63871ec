"""Instances (as COCO builds them): x ↦ f(R(x − s)) for any surface f, shift s, orthogonal R.

A minimizer y* of f becomes x* = Rᵀy* + s (f* unchanged); the bounds become the axis-aligned box
around the image Rᵀ B + s of the original box B; the singular predicate and the stationary points
are carried over. `shift` and `rotation` are traced params: the function compiles once per base.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from optlab.errors import UserError
from optlab.surfaces.base import Surface
from optlab.surfaces.validate import vector


@functools.lru_cache(maxsize=64)
def orthogonal(dim: int, seed: int) -> np.ndarray:
    """A Haar-random orthogonal (dim, dim) matrix from `seed` (QR of a Gaussian, signs fixed)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    q.flags.writeable = False
    return q


@dataclasses.dataclass(frozen=True)
class Transform:
    """x = Rᵀy + s and back; `seed` None means R = I."""

    shift: tuple[float, ...]
    seed: int | None

    @property
    def rotation(self) -> np.ndarray | None:
        return None if self.seed is None else orthogonal(len(self.shift), self.seed)

    def to_base(self, x: np.ndarray) -> np.ndarray:
        """y = R(x − s) for points x of shape (..., d)."""
        y = np.asarray(x, dtype=float) - np.asarray(self.shift)
        return y if self.seed is None else y @ self.rotation.T

    def from_base(self, y: np.ndarray) -> np.ndarray:
        """x = Rᵀy + s for points y of shape (..., d)."""
        y = np.asarray(y, dtype=float)
        return (y if self.seed is None else y @ self.rotation) + np.asarray(self.shift)

    def box(self, bounds: np.ndarray) -> np.ndarray:
        """The axis-aligned box (d, 2) around the image of the box `bounds`."""
        center = self.from_base(bounds.mean(axis=1))
        half = 0.5 * (bounds[:, 1] - bounds[:, 0])
        if self.seed is not None:
            half = np.abs(self.rotation.T) @ half
        return np.stack([center - half, center + half], axis=1)


@dataclasses.dataclass(frozen=True)
class Instance:
    """fn(x) = base(R(x − s)) with `shift` (and `rotation` when `rotated`) among the params."""

    base: Callable[..., Any]
    rotated: bool

    def __call__(self, x, *, shift, rotation=None, **params):
        y = x - shift
        return self.base(rotation @ y if self.rotated else y, **params)


@dataclasses.dataclass(frozen=True)
class Singular:
    """The base surface's singular predicate, read through the transform (R keeps distances)."""

    base: Callable[[np.ndarray, float], Any]
    transform: Transform

    def __call__(self, x: np.ndarray, tol: float) -> np.ndarray:
        return self.base(self.transform.to_base(x), tol)


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UserError(f"surface.rotation_seed={value!r} is invalid: must be an integer >= 0")
    return value


def instance(surface: Surface, shift: Any = None, rotation_seed: Any = None) -> Surface:
    """`surface` moved by `shift` (list of d numbers) and rotated by the orthogonal matrix of
    `rotation_seed`: x ↦ f(R(x − s)). Both None: `surface` itself."""
    if shift is None and rotation_seed is None:
        return surface
    d = surface.dim
    s = np.zeros(d) if shift is None else vector("surface.shift", shift, d)
    t = Transform(tuple(s.tolist()), None if rotation_seed is None else _seed(rotation_seed))
    clash = {"shift", "rotation"} & set(surface.params)
    assert not clash, f"{surface.name} has params named {clash}"
    params = {**surface.params, "shift": s}
    if t.seed is not None:
        params["rotation"] = np.array(t.rotation)
    info = surface.info
    info = dataclasses.replace(
        info,
        formula=f"f_0(R (x - s)), f_0 = {info.formula}",
        singular=None if info.singular is None else Singular(info.singular, t),
        stationary_points=tuple(
            (kind, tuple(t.from_base(x).tolist()), f) for kind, x, f in info.stationary_points
        ),
    )
    if info.unbounded_below and surface.f_min is not None:
        note = "instance: f* is the minimum over the image R^T B + s of the original box B"
        info = dataclasses.replace(info, f_min_note=f"{info.f_min_note}; {note}")
    config = {**surface.config, "shift": None if shift is None else s.tolist()}
    config["rotation_seed"] = t.seed
    return Surface(
        surface.name,
        Instance(surface.fn, t.seed is not None),
        d,
        t.box(surface.bounds),
        t.from_base(surface.minimizers),
        surface.f_min,
        params,
        info,
        config,
        start=None if surface.start is None else t.from_base(surface.start),
    )


def transform_of(surface: Surface) -> Transform | None:
    """The instance transform of `surface` (from its config), or None for a plain surface."""
    shift, seed = surface.config.get("shift"), surface.config.get("rotation_seed")
    if shift is None and seed is None:
        return None
    return Transform(tuple(shift) if shift is not None else (0.0,) * surface.dim, seed)
