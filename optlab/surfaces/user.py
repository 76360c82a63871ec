"""Surfaces the user defines (an expression, an imported function): bounds, minimizers and f*."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optlab.errors import UserError
from optlab.surfaces import validate
from optlab.surfaces.base import Surface, SurfaceInfo, box

DEFAULT_BOUNDS = (-5.0, 5.0)


def f_min_at(fn: Callable[..., Any], minimizers: np.ndarray, key: str) -> float:
    """f* = fn at the user's minimizers (float64); they must agree, as global minimizers do."""
    with jax.enable_x64(True):
        values = np.asarray(jax.vmap(fn)(jnp.asarray(minimizers, dtype=jnp.float64)), dtype=float)
    if not np.all(np.isfinite(values)):
        raise UserError(f"{key}={minimizers.tolist()!r} is invalid: f is not finite there")
    if np.ptp(values) > 1e-9 * (1.0 + np.abs(values).max()):
        raise UserError(
            f"{key}={minimizers.tolist()!r} is invalid: f differs between them "
            f"({', '.join(f'{v:.10g}' for v in values)}); list global minimizers only"
        )
    return float(values.min())


def user_surface(
    name: str,
    fn: Callable[..., Any],
    dim: int,
    bounds: Any,
    minimizers: Any,
    info: SurfaceInfo,
    config: dict[str, Any],
) -> Surface:
    """A Surface from a user's function: bounds default to [−5, 5]^d; f* = f(minimizers), if any."""
    b = (
        box(*DEFAULT_BOUNDS, dim)
        if bounds is None
        else validate.bounds("surface.bounds", bounds, dim)
    )
    m, f_min = np.zeros((0, dim)), None
    if minimizers is not None:
        m = validate.points("surface.minimizers", minimizers, dim)
        f_min = f_min_at(fn, m, "surface.minimizers")
    config = config | {
        "dim": dim,
        "bounds": None if bounds is None else b.tolist(),
        "minimizers": None if minimizers is None else m.tolist(),
    }
    return Surface(name, fn, dim, b, m, f_min, info=info, config=config)
