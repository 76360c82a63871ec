"""Grid axes: numeric values that multiply into one batch of runs (one compiled program).

An axis is a number, a list of numbers, or a range spec string parsed here (Hydra's override
grammar has no such functions, and is not patched): `linspace(lo, hi, n)`, `logspace(a, b, n)`
(10^a … 10^b) and `range(stop)` / `range(start, stop[, step])` (integers).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from optlab.errors import UserError

SPECS = ("linspace(lo, hi, n)", "logspace(a, b, n)", "range(start, stop[, step])")
_SPEC = re.compile(r"^\s*(linspace|logspace|range)\s*\((.*)\)\s*$")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _spec(key: str, text: str) -> np.ndarray:
    """The values of a range spec string; a UserError names the allowed forms otherwise."""
    bad = UserError(f"{key}={text!r} is invalid: must be a list of numbers or {', '.join(SPECS)}")
    match = _SPEC.match(text)
    if not match:
        raise bad
    fn, body = match.groups()
    try:
        args = ast.literal_eval(f"({body},)") if body.strip() else ()
    except (SyntaxError, ValueError):
        raise bad from None
    if not all(_is_number(a) for a in args):
        raise bad
    if fn == "range":
        if not 1 <= len(args) <= 3 or not all(isinstance(a, int) for a in args):
            raise bad
        return np.arange(*args)
    if len(args) != 3 or not isinstance(args[2], int) or args[2] < 1:
        raise bad
    lo, hi, n = args
    return np.linspace(lo, hi, n) if fn == "linspace" else np.logspace(lo, hi, n)


def values(key: str, value: Any) -> np.ndarray:
    """The 1-D array of an axis given as a number, a list of numbers, or a range spec string."""
    if isinstance(value, str):
        arr = _spec(key, value)
    elif _is_number(value):
        arr = np.asarray([value])
    elif isinstance(value, Sequence) and all(_is_number(v) for v in value):
        arr = np.asarray(list(value))
    else:
        raise UserError(
            f"{key}={value!r} is invalid: must be a list of finite numbers or {', '.join(SPECS)}"
        )
    if arr.size == 0:
        raise UserError(f"{key}={value!r} is invalid: the axis is empty")
    return arr


def axes(cfg: Mapping[str, Any] | None, prefix: str = "grid") -> dict[str, np.ndarray]:
    """Every axis of the `grid` config that is set (null = not swept), in declaration order."""
    return {k: values(f"{prefix}.{k}", v) for k, v in (cfg or {}).items() if v is not None}


def product(sizes: Sequence[int]) -> list[np.ndarray]:
    """Index arrays (N,) of the Cartesian product of axes of `sizes`, the last varying fastest."""
    if not sizes:
        return []
    return [i.ravel() for i in np.meshgrid(*map(np.arange, sizes), indexing="ij")]


def lattice(bounds: np.ndarray, k: int) -> np.ndarray:
    """The k^d points of a regular grid spanning the box `bounds` (d, 2), corners included."""
    ticks = [np.linspace(lo, hi, k) for lo, hi in bounds]
    return np.stack([t.ravel() for t in np.meshgrid(*ticks, indexing="ij")], axis=-1)
