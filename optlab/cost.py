"""The one cost model: what an evaluation of f, ∇f and ∇²f costs, in units of one f.

cost = w_f · (#f) + w_∇ · (#∇f) + w_H · (#∇²f). Default w_f = w_∇ = 1 and w_H = d (a Hessian
costs about d gradients: d Hessian-vector products). A weight is a number ≥ 0 or a multiple
of the dimension d (`d`, `2d`, `0.5*d`). The config key is `cost: {f: 1, grad: 1, hessian: d}`,
the report's option `--cost f=1,grad=1,hessian=d`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from optlab.errors import UserError

KEYS = ("f", "grad", "hessian")
SYMBOLS = {"f": "f", "grad": "∇f", "hessian": "∇²f"}
ALLOWED = "a number >= 0 or a multiple of the dimension d (e.g. d, 2d, 0.5*d)"
_WEIGHT = re.compile(r"^\s*(?:(?P<coef>[^\s*d]+)\s*\*?\s*)?(?P<d>d)?\s*$")


@dataclasses.dataclass(frozen=True)
class Weight:
    """`coef`, times the dimension d when `per_dim`."""

    coef: float
    per_dim: bool = False

    def value(self, dim: int) -> float:
        return self.coef * dim if self.per_dim else self.coef

    def __str__(self) -> str:
        c = f"{self.coef:g}"
        return (("" if c == "1" else c) + "d") if self.per_dim else c


@dataclasses.dataclass(frozen=True)
class Cost:
    """Cost of one evaluation of f, ∇f and ∇²f (default 1, 1 and d)."""

    f: Weight = Weight(1.0)
    grad: Weight = Weight(1.0)
    hessian: Weight = Weight(1.0, per_dim=True)


def _number(v: Any) -> float | None:
    """`v` as a finite float ≥ 0, or None."""
    if isinstance(v, bool):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) and x >= 0 else None


def weight(v: Any) -> Weight | None:
    """A weight from a number or text (`1`, `d`, `2d`, `0.5*d`); None when it is not one."""
    if not isinstance(v, str):
        x = _number(v)
        return None if x is None else Weight(x)
    m = _WEIGHT.match(v)
    if not m or (m["coef"] is None and m["d"] is None):
        return None
    x = 1.0 if m["coef"] is None else _number(m["coef"])
    return None if x is None else Weight(x, per_dim=m["d"] is not None)


def from_mapping(mapping: Any, key: str = "cost") -> Cost:
    """The cost model of a mapping such as the config's `cost: {f: 1, grad: 1, hessian: d}`;
    keys left out keep their defaults."""
    if mapping is None:
        return Cost()
    if not isinstance(mapping, Mapping):
        raise UserError(
            f"{key}={mapping!r} is invalid: must be a mapping of {', '.join(KEYS)} to {ALLOWED}"
        )
    out = {}
    for k, v in mapping.items():
        if k not in KEYS:
            raise UserError(f"{key}.{k}={v!r} is invalid: allowed keys: {', '.join(KEYS)}")
        w = weight(v)
        if w is None:
            raise UserError(f"{key}.{k}={v!r} is invalid: must be {ALLOWED}")
        out[k] = w
    return Cost(**out)


def parse(text: str, option: str = "--cost") -> Cost:
    """The cost model of text such as `f=1,grad=1,hessian=d` (keys left out keep defaults)."""
    bad = lambda why: UserError(f"{option}={text!r} is invalid: {why}")  # noqa: E731
    form = f"must be KEY=WEIGHT[,KEY=WEIGHT…] with KEY in {', '.join(KEYS)} and WEIGHT {ALLOWED}"
    out: dict[str, Weight] = {}
    if not isinstance(text, str) or not text.strip():
        raise bad(form)
    for item in text.split(","):
        k, sep, v = (s.strip() for s in item.partition("="))
        if not sep:
            raise bad(form)
        if k not in KEYS:
            raise bad(f"{k!r} is not a key; allowed keys: {', '.join(KEYS)}")
        if k in out:
            raise bad(f"{k!r} is given twice")
        w = weight(v)
        if w is None:
            raise bad(f"{k}={v!r}: must be {ALLOWED}")
        out[k] = w
    return Cost(**out)


def weights(c: Cost, dim: int) -> np.ndarray:
    """(3,) weights of (f, ∇f, ∇²f) evaluations in dimension `dim`."""
    return np.array([getattr(c, k).value(dim) for k in KEYS], dtype=float)


def total(c: Cost, dim: int, evals: np.ndarray) -> np.ndarray:
    """weights · evals over the last axis (…, 3); NaN where the counts are −1 (never reached)."""
    evals = np.asarray(evals)
    out = evals @ weights(c, dim)
    return np.where(np.any(evals < 0, axis=-1), np.nan, out)


def describe(c: Cost, dim: int | None = None) -> str:
    """One line for a report's protocol, e.g. `cost: f = 1, ∇f = 1, ∇²f = d = 2 (units of f)`."""
    parts = []
    for k in KEYS:
        w = getattr(c, k)
        at = f" = {w.value(dim):g}" if dim is not None and w.per_dim else ""
        parts.append(f"{SYMBOLS[k]} = {w}{at}")
    return f"cost: {', '.join(parts)} (in evaluations of f; d = the dimension)"
