"""Optimizer registry: a name, an optax-shaped factory, and which hyperparameters are traced."""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import jax.numpy as jnp
import optax

from optlab.errors import UserError
from optlab.surfaces.base import freeze

Factory = Callable[..., optax.GradientTransformation]
EvalCounter = Callable[[Any], tuple[Any, Any, Any]]
Check = tuple[Callable[[float], bool], str]

POSITIVE: Check = (lambda v: v > 0, "must be > 0")
NONNEGATIVE: Check = (lambda v: v >= 0, "must be >= 0")
UNIT: Check = (lambda v: 0 <= v < 1, "must be in [0, 1)")


@dataclasses.dataclass(frozen=True)
class Entry:
    """A registered optimizer.

    `traced` names the numeric hyperparameters passed to `factory` as (possibly traced) arrays,
    so changing them never recompiles; all others are static (part of the compiled program).
    `extra_evals(state)` returns the (f, grad, hessian) evaluations the optimizer made in its
    last update beyond the engine's one value-and-gradient per step (e.g. a line search).
    """

    name: str
    factory: Factory
    traced: tuple[str, ...] = ("learning_rate",)
    checks: Mapping[str, Check] = dataclasses.field(default_factory=dict)
    extra_evals: EvalCounter | None = None

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(inspect.signature(self.factory).parameters)


@dataclasses.dataclass(frozen=True)
class Spec:
    """The static part of one optimizer configuration: hashable, so it keys the compiled program."""

    name: str
    static: tuple[tuple[str, Any], ...] = ()
    traced: tuple[str, ...] = ()

    def build(self, hparams: Mapping[str, Any]) -> optax.GradientTransformationExtraArgs:
        """The optax transformation with traced hyperparameters `hparams` (scalars or tracers)."""
        kwargs = {k: _thaw(v) for k, v in self.static} | dict(hparams)
        return optax.with_extra_args_support(_REGISTRY[self.name].factory(**kwargs))

    def extra_evals(self, state: Any) -> tuple[Any, Any, Any]:
        counter = _REGISTRY[self.name].extra_evals
        zero = jnp.zeros([], jnp.int32)
        return counter(state) if counter else (zero, zero, zero)


_REGISTRY: dict[str, Entry] = {}


def register(entry: Entry) -> Entry:
    """Add `entry` to the registry (one line per optimizer in the catalog)."""
    _REGISTRY[entry.name] = entry
    return entry


def available() -> list[str]:
    """Names of every registered optimizer, sorted."""
    return sorted(_REGISTRY)


def entry(name: str) -> Entry:
    """The entry for `name`, or a UserError listing the available optimizers."""
    if name not in _REGISTRY:
        close = difflib.get_close_matches(str(name), _REGISTRY, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UserError(f"optimizer={name!r} is unknown{hint}; available: {', '.join(available())}")
    return _REGISTRY[name]


def _thaw(value: Any) -> Any:
    if (
        isinstance(value, tuple)
        and value
        and all(isinstance(i, tuple) and len(i) == 2 for i in value)
    ):
        return {k: _thaw(v) for k, v in value}
    return value


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def split(name: str, hparams: Mapping[str, Any], prefix: str = "optimizer") -> tuple[Spec, dict]:
    """Validate `hparams` for optimizer `name`; return its static Spec and traced values."""
    e = entry(name)
    for key, value in hparams.items():
        if key not in e.parameters:
            raise UserError(
                f"{prefix}.{key}={value!r} is not a hyperparameter of {name!r}; "
                f"valid: {', '.join(e.parameters)}"
            )
    traced = {}
    for key in e.traced:
        value = hparams.get(key)
        if value is None or isinstance(value, Mapping):  # None: factory default; mapping: schedule
            continue
        if not _is_number(value):
            raise UserError(f"{prefix}.{key}={value!r} is invalid: must be a number")
        traced[key] = float(value)
    for key, value in hparams.items():
        if key in e.checks and _is_number(value):
            ok, allowed = e.checks[key]
            if not ok(value):
                raise UserError(f"{prefix}.{key}={value!r} is invalid: {allowed}")
    static = tuple(
        sorted((k, freeze(v)) for k, v in hparams.items() if k not in traced and v is not None)
    )
    return Spec(name, static, tuple(sorted(traced))), traced
