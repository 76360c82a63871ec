"""Test surfaces: `optlab.surfaces.get(name, **params)` returns a `Surface`.

Every surface also takes `shift` and `rotation_seed`, making the instance x ↦ f(R(x − shift)).
"""

from __future__ import annotations

from typing import Any

from optlab.surfaces import (  # noqa: F401  (register the catalog)
    custom,
    expression,
    finite_sum,
    morewild,
    nd,
    two_d,
)
from optlab.surfaces.base import Surface, SurfaceInfo
from optlab.surfaces.instances import instance
from optlab.surfaces.registry import available, check_params, entry

__all__ = ["Surface", "SurfaceInfo", "available", "get"]

USER_DEFINED = ("custom", "expression")  # surfaces whose definition the user supplies
BENCHMARKS = ("morewild",)  # problem sets (docs/standard-problems.md), not in the catalog table


def get(name: str, **params: Any) -> Surface:
    """Build the surface `name` with keyword parameters, e.g. `get("rosenbrock", dim=5)`.

    `shift=[..]` and `rotation_seed=S` (any surface) give the instance f(R(x − shift)).
    """
    e = entry(name)
    params = {k: v for k, v in params.items() if v is not None}
    check_params(e, params)
    shift, seed = params.pop("shift", None), params.pop("rotation_seed", None)
    return instance(e.build(**params), shift, seed)
