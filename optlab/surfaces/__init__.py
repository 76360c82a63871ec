"""Test surfaces: `optlab.surfaces.get(name, **params)` returns a `Surface`."""

from __future__ import annotations

from typing import Any

from optlab.surfaces import catalog as _catalog  # noqa: F401  (registers the catalog)
from optlab.surfaces.base import Surface, SurfaceInfo
from optlab.surfaces.registry import available, check_params, entry

__all__ = ["Surface", "SurfaceInfo", "available", "get"]


def get(name: str, **params: Any) -> Surface:
    """Build the surface `name` with keyword parameters, e.g. `get("rosenbrock", dim=5)`."""
    e = entry(name)
    params = {k: v for k, v in params.items() if v is not None}
    check_params(e, params)
    return e.build(**params)
