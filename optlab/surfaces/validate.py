"""User-supplied numbers for surfaces (vectors, point lists, boxes) as arrays, or a one-line UserError."""

from __future__ import annotations

from typing import Any

import numpy as np

from optlab.errors import UserError


def _finite(key: str, value: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise UserError(f"{key}={value!r} is invalid: must be {what}") from None
    if not np.all(np.isfinite(arr)):
        raise UserError(f"{key}={value!r} is invalid: must be {what} (finite)")
    return arr


def vector(key: str, value: Any, dim: int) -> np.ndarray:
    """A list of `dim` finite numbers (or one number, repeated) as a (dim,) array."""
    what = f"a list of {dim} numbers (the surface is {dim}-D)"
    arr = _finite(key, value, what)
    if arr.ndim > 1 or arr.size not in (1, dim):
        raise UserError(f"{key}={value!r} is invalid: must be {what}")
    return np.broadcast_to(arr, (dim,)).copy()


def points(key: str, value: Any, dim: int) -> np.ndarray:
    """One point `[x1, .., xd]` or a list of points as a (k, dim) array."""
    what = f"a point of {dim} numbers or a list of such points"
    arr = _finite(key, value, what)
    arr = arr.reshape(1, -1) if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[1] != dim or arr.shape[0] == 0:
        raise UserError(f"{key}={value!r} is invalid: must be {what}")
    return arr


def bounds(key: str, value: Any, dim: int) -> np.ndarray:
    """`[lo, hi]` (every coordinate) or `[[lo1, hi1], .., [lod, hid]]` as a (dim, 2) array, lo < hi."""
    what = f"[lo, hi] or a list of {dim} pairs [lo, hi]"
    arr = _finite(key, value, what)
    if arr.shape == (2,):
        arr = np.tile(arr, (dim, 1))
    if arr.shape != (dim, 2):
        raise UserError(f"{key}={value!r} is invalid: must be {what}")
    bad = np.flatnonzero(arr[:, 0] >= arr[:, 1])
    if bad.size:
        lo, hi = arr[bad[0]]
        raise UserError(
            f"{key}={value!r} is invalid: needs lo < hi in every pair (coordinate {bad[0]}: "
            f"{lo:g} >= {hi:g})"
        )
    return arr
