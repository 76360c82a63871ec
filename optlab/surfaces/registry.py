"""Name -> surface builder registry, with parameter validation."""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from collections.abc import Callable
from typing import Any

from optlab.errors import UserError
from optlab.surfaces.base import Surface

Builder = Callable[..., Surface]

# Parameters every surface takes (applied by `optlab.surfaces.get` after building it).
INSTANCE_KEYS = ("shift", "rotation_seed")


@dataclasses.dataclass(frozen=True)
class Entry:
    """A registered surface: its builder and the dimensions it accepts."""

    name: str
    build: Builder
    min_dim: int = 2
    max_dim: int | None = 2  # None: any dimension >= min_dim

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(inspect.signature(self.build).parameters)


_REGISTRY: dict[str, Entry] = {}


def register(
    name: str, *, min_dim: int = 2, max_dim: int | None = 2
) -> Callable[[Builder], Builder]:
    """Decorator: register `build(**params) -> Surface` under `name`."""

    def deco(build: Builder) -> Builder:
        _REGISTRY[name] = Entry(name, build, min_dim, max_dim)
        return build

    return deco


def available() -> list[str]:
    """Names of every registered surface, sorted."""
    return sorted(_REGISTRY)


def entry(name: str) -> Entry:
    """The registry entry for `name`, or a UserError listing the available names."""
    if name not in _REGISTRY:
        close = difflib.get_close_matches(str(name), _REGISTRY, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UserError(f"surface={name!r} is unknown{hint}; available: {', '.join(available())}")
    return _REGISTRY[name]


def check_params(e: Entry, params: dict[str, Any]) -> None:
    """Reject keyword arguments the builder does not take, and dimensions it does not support."""
    valid = (*e.parameters, *INSTANCE_KEYS)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise UserError(
            f"surface.{unknown[0]}={params[unknown[0]]!r} is not a parameter of surface {e.name!r}; "
            f"valid: {', '.join(valid)}"
        )
    if "dim" in params and params["dim"] is not None:
        dim = params["dim"]
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise UserError(f"surface.dim={dim!r} is invalid: must be an integer")
        too_high = e.max_dim is not None and dim > e.max_dim
        if dim < e.min_dim or too_high:
            allowed = (
                f"exactly {e.min_dim}"
                if e.max_dim == e.min_dim
                else f">= {e.min_dim}" + (f" and <= {e.max_dim}" if e.max_dim else "")
            )
            raise UserError(
                f"surface.dim={dim} is invalid for {e.name!r}: dimension must be {allowed}"
            )
