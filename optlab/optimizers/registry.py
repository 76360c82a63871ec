"""Optimizer registry: a name, an optax-shaped factory, and which hyperparameters are traced."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import jax.numpy as jnp
import optax

from optlab.errors import UserError, unknown
from optlab.optimizers import schedules
from optlab.surfaces.base import freeze

Factory = Callable[..., optax.GradientTransformation]
EvalCounter = Callable[[Any], tuple[Any, Any, Any]]
Check = tuple[Callable[[float], bool], str]

POSITIVE: Check = (lambda v: v > 0, "must be > 0")
NONNEGATIVE: Check = (lambda v: v >= 0, "must be >= 0")
UNIT: Check = (lambda v: 0 <= v < 1, "must be in [0, 1)")
OPEN_UNIT: Check = (lambda v: 0 < v < 1, "must be in (0, 1)")
AT_LEAST_ONE: Check = (lambda v: v >= 1, "must be >= 1")

CLIP = "clip_by_global_norm"  # every optimizer takes it: optax.clip_by_global_norm chained in front
# Factory arguments that are not hyperparameters (dtypes, masks, callables): not configurable.
HIDDEN = frozenset(
    {
        "accumulator_dtype",
        "clip_value_fn",
        "dtype_momentum",
        "mask",
        "mu_dtype",
        "state_dtype",
        "trust_ratio_mask",
        "weight_decay_mask",
    }
)
# Range checks by name: optax's names mean the same thing in every optimizer that has them.
CHECKS: dict[str, Check] = {
    "learning_rate": POSITIVE,
    "momentum": UNIT,
    "b1": UNIT,
    "b2": UNIT,
    "b3": UNIT,
    "eps": NONNEGATIVE,
    "eps_root": NONNEGATIVE,
    "weight_decay": NONNEGATIVE,
    "memory_size": AT_LEAST_ONE,
    CLIP: POSITIVE,
}


@dataclasses.dataclass(frozen=True)
class Entry:
    """A registered optimizer.

    `traced` names the numeric hyperparameters passed to `factory` as (possibly traced) arrays,
    so changing them never recompiles; all others are static (part of the compiled program).
    By default: `learning_rate` and every hyperparameter whose default is a float.
    `checks` adds range checks to `CHECKS`; `schedules` says whether `learning_rate` may be a
    schedule. `extra_evals(state)` returns the (f, grad, hessian) evaluations the optimizer made
    in its last update beyond the engine's one value-and-gradient per step (e.g. a line search).
    """

    name: str
    factory: Factory
    traced: tuple[str, ...] | None = None
    checks: Mapping[str, Check] = dataclasses.field(default_factory=dict)
    extra_evals: EvalCounter | None = None
    schedules: bool = True

    def __post_init__(self):
        floats = (k for k, v in self.defaults.items() if isinstance(v, float))
        traced = self.traced if self.traced is not None else ("learning_rate", *floats)
        object.__setattr__(self, "traced", (*dict.fromkeys(traced), CLIP))

    @property
    def defaults(self) -> dict[str, Any]:
        """The factory's configurable arguments and their defaults (`inspect.Parameter.empty`)."""
        params = inspect.signature(self.factory).parameters
        return {k: p.default for k, p in params.items() if k not in HIDDEN}

    @property
    def parameters(self) -> tuple[str, ...]:
        return (*self.defaults, CLIP)


@dataclasses.dataclass(frozen=True)
class Spec:
    """The static part of one optimizer configuration: hashable, so it keys the compiled program."""

    name: str
    static: tuple[tuple[str, Any], ...] = ()
    traced: tuple[str, ...] = ()

    def build(self, hparams: Mapping[str, Any]) -> optax.GradientTransformationExtraArgs:
        """The optax transformation with traced hyperparameters `hparams` (scalars or tracers)."""
        kwargs = {k: _thaw(v) for k, v in self.static} | dict(hparams)
        clip = kwargs.pop(CLIP, None)
        if isinstance(kwargs.get("learning_rate"), Mapping):
            kwargs["learning_rate"] = schedules.schedule(kwargs["learning_rate"])
        opt = _REGISTRY[self.name].factory(**kwargs)
        if clip is not None:
            opt = optax.chain(optax.clip_by_global_norm(clip), opt)
        return optax.with_extra_args_support(opt)

    @property
    def counts_extra_evals(self) -> bool:
        """Whether the optimizer makes evaluations beyond one value-and-gradient per step."""
        return _REGISTRY[self.name].extra_evals is not None

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
        raise unknown("optimizer", name, _REGISTRY)
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


def _check_type(key: str, value: Any, default: Any, traced: bool) -> None:
    """Traced values are numbers; static ones have their default's type (bool, int, float)."""
    if isinstance(default, bool) and not traced:
        if not isinstance(value, bool):
            raise UserError(f"{key}={value!r} is invalid: must be true or false")
    elif isinstance(default, int) and not traced:
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(f"{key}={value!r} is invalid: must be an integer")
    elif (traced or isinstance(default, float)) and not _is_number(value):
        raise UserError(f"{key}={value!r} is invalid: must be a number")


def check_names(name: str, hparams: Mapping[str, Any], prefix: str = "optimizer") -> None:
    """A UserError for the first key that is not a hyperparameter of `name`, listing the valid ones."""
    valid = entry(name).parameters
    for key, value in hparams.items():
        if key not in valid:
            raise UserError(
                f"{prefix}.{key}={value!r} is not a hyperparameter of {name!r}; "
                f"valid: {', '.join(valid)}"
            )


def split(name: str, hparams: Mapping[str, Any], prefix: str = "optimizer") -> tuple[Spec, dict]:
    """Validate `hparams` for optimizer `name`; return its static Spec and traced values.

    `None` means the factory's default. A mapping `learning_rate` is a schedule (static).
    """
    e = entry(name)
    check_names(name, hparams, prefix)
    defaults = e.defaults
    traced = {}
    for key, value in hparams.items():
        if value is None:
            continue
        if key == "learning_rate" and isinstance(value, Mapping):
            if not e.schedules:
                raise UserError(
                    f"{prefix}.learning_rate={value!r} is invalid: {name!r} takes a number, "
                    "not a schedule"
                )
            schedules.schedule(value, f"{prefix}.learning_rate")
            continue
        _check_type(f"{prefix}.{key}", value, defaults.get(key), key in e.traced)
        check = e.checks.get(key, CHECKS.get(key))
        if check and _is_number(value) and not check[0](value):
            raise UserError(f"{prefix}.{key}={value!r} is invalid: {check[1]}")
        if key in e.traced:
            traced[key] = float(value)
    static = tuple(
        sorted((k, freeze(v)) for k, v in hparams.items() if k not in traced and v is not None)
    )
    spec = Spec(name, static, tuple(sorted(traced)))
    try:
        spec.build(traced)
    except (TypeError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserError(f"{prefix}={dict(hparams)!r} is invalid for {name!r}: {reason}") from None
    return spec, traced
