"""Strict checks of single config values, shared by every module that reads user input.

Each returns the value (typed) or raises the one-line `UserError` `KEY=VALUE is invalid: ...`.
YAML decides the types: `true`/`false` are booleans, `'false'`, `off` and `maybe` are strings.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from optlab.errors import UserError

# The largest finite value of each float dtype a job can run in.
FLOAT_MAX = {"float32": float(np.finfo(np.float32).max), "float64": float(np.finfo(np.float64).max)}


def is_number(value: Any) -> bool:
    """An int or float that is not a bool (YAML `true` is not 1)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def boolean(key: str, value: Any) -> bool:
    """`value` if it is a YAML boolean (true/false); strings such as 'false', off, maybe are not."""
    if not isinstance(value, bool):
        raise UserError(f"{key}={value!r} is invalid: must be true or false")
    return value


def finite(key: str, value: Any) -> float:
    """`value` as a float if it is a finite number (not inf, nan, or 1e400, which YAML reads as inf)."""
    if not is_number(value):
        raise UserError(f"{key}={value!r} is invalid: must be a number")
    if not math.isfinite(value):
        raise UserError(f"{key}={value!r} is invalid: must be a finite number")
    return float(value)


def representable(key: str, values: Any, dtype: str, given: Any = None) -> np.ndarray:
    """`values` as a float array if every entry is finite in `dtype` (|x| <= its largest float).

    `given` is the value as the user wrote it, for the message (default: `values`).
    """
    arr = np.asarray(values, dtype=float)
    big = FLOAT_MAX[dtype]
    if not np.all(np.abs(arr) <= big):
        hint = "; use dtype=float64 for larger values" if dtype == "float32" else ""
        shown = arr.tolist() if given is None else given
        raise UserError(
            f"{key}={shown!r} is invalid: coordinates must be finite in {dtype} "
            f"(|x| <= {big:.4g}){hint}"
        )
    return arr


def writable(key: str, path: str | os.PathLike, directory: bool, given: Any = None) -> Path:
    """`path` if it is, or can be made, a file (or a `directory`) optlab may write: the nearest
    existing ancestor is a directory we can write in. Nothing is left behind (the probe is an
    anonymous temporary file)."""
    shown = str(path) if given is None else given
    if not str(path).strip():
        return _refuse(key, shown, "the path is empty")
    p = Path(path).expanduser()
    if p.exists() and directory != p.is_dir():
        what = "a directory" if directory else "a file"
        return _refuse(key, shown, f"{p} exists and is not {what}")
    base = p if p.is_dir() else p.parent
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        return _refuse(key, shown, f"{base} is a file, not a directory")
    try:
        tempfile.TemporaryFile(dir=base).close()
    except OSError as e:
        return _refuse(key, shown, f"cannot write in {base} ({e.strerror or e})")
    return p


def _refuse(key: str, value: Any, why: str) -> Path:
    raise UserError(f"{key}={value!r} is invalid: {why}")
