"""Learning-rate schedules from config: `{schedule: NAME, ...fields}` -> an optax schedule."""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any

import optax

from optlab.errors import UserError


def inverse_time_decay(init_value: float, transition_steps: float = 1.0) -> optax.Schedule:
    """η_t = init_value / (1 + t / transition_steps) = η₀ / (t + t₀) with t₀ = transition_steps,
    η₀ = init_value·t₀: Robbins–Monro steps (Σ η_t = ∞, Σ η_t² < ∞) that beat a noise floor."""
    if transition_steps <= 0:
        raise ValueError("transition_steps must be > 0")
    return lambda count: init_value / (1.0 + count / transition_steps)


# Their arguments stay static: some optax schedules branch in Python on them.
SCHEDULES = {
    "constant": optax.constant_schedule,
    "exponential_decay": optax.exponential_decay,
    "cosine_decay": optax.cosine_decay_schedule,
    "warmup_cosine_decay": optax.warmup_cosine_decay_schedule,
    "piecewise_constant": optax.piecewise_constant_schedule,
    "inverse_time_decay": inverse_time_decay,
}


def _boundaries(key: str, value: Any) -> dict[int, float]:
    """`{step: scale}` with integer steps (Hydra may hand the keys over as strings)."""
    if not isinstance(value, Mapping):
        raise UserError(f"{key}={value!r} is invalid: must map steps to scales, e.g. {{100: 0.1}}")
    try:
        return {int(k): float(v) for k, v in value.items()}
    except (TypeError, ValueError):
        raise UserError(f"{key}={value!r} is invalid: must map integer steps to numbers") from None


def _field(key: str, param: inspect.Parameter, value: Any) -> Any:
    """One field checked against its optax default: bools stay bools, numbers are finite, >= 0."""
    if param.name == "boundaries_and_scales":
        return _boundaries(key, value)
    if value is None:
        return None
    if isinstance(param.default, bool):
        if not isinstance(value, bool):
            raise UserError(f"{key}={value!r} is invalid: must be true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UserError(f"{key}={value!r} is invalid: must be a finite number")
    if value < 0:
        raise UserError(f"{key}={value!r} is invalid: must be >= 0")
    return value


def schedule(cfg: Mapping[str, Any], key: str = "optimizer.learning_rate") -> optax.Schedule:
    """The optax schedule that `cfg` describes; a one-line UserError names any bad field.

    Example: `{schedule: cosine_decay, init_value: 0.1, decay_steps: 500}` is
    `optax.cosine_decay_schedule(init_value=0.1, decay_steps=500)`.
    """
    cfg = dict(cfg)
    name = cfg.pop("schedule", None)
    if name not in SCHEDULES:
        raise UserError(
            f"{key}.schedule={name!r} is invalid: allowed: {', '.join(SCHEDULES)} "
            "(or give a plain number)"
        )
    fields = inspect.signature(SCHEDULES[name]).parameters
    for field in cfg:
        if field not in fields:
            raise UserError(
                f"{key}.{field}={cfg[field]!r} is not a field of schedule {name!r}; "
                f"valid: {', '.join(fields)}"
            )
    for field, p in fields.items():
        if p.default is inspect.Parameter.empty and field not in cfg:
            raise UserError(
                f"{key}.{field} is missing: schedule {name!r} needs "
                f"{', '.join(f for f, q in fields.items() if q.default is q.empty)}"
            )
    kwargs = {f: _field(f"{key}.{f}", fields[f], v) for f, v in cfg.items()}
    try:
        return SCHEDULES[name](**kwargs)
    except (TypeError, ValueError) as e:
        reason = str(e).splitlines()[0]
        raise UserError(f"{key}={dict(cfg, schedule=name)!r} is invalid: {reason}") from None
