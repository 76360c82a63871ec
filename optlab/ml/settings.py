"""The `mlp:` and `saliency:` sections of an ML experiment, validated (plain values in, one-line
UserErrors out)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from optlab.errors import UserError, bad_value
from optlab.ml.data import N_CLASSES
from optlab.ml.mlp import ACTIVATIONS


@dataclasses.dataclass(frozen=True)
class MLPSettings:
    """The network, the penalty, the split and the landscape plot."""

    hidden: tuple[int, ...] = (32,)
    activation: str = "tanh"
    penalty: float = 0.0  # λ of λ·E‖∇ₓℓ‖²
    penalties: tuple[float, ...] = (0.0, 0.01, 0.1)  # λ values the penalty experiment compares
    test_fraction: float = 0.25
    landscape: bool = False  # draw landscape.png and landscape_pca.png
    landscape_grid: int = 31
    landscape_span: float = 1.0


@dataclasses.dataclass(frozen=True)
class SaliencySettings:
    """Which test images to explain, for which class, and how many pixels the check masks."""

    images: int = 6
    class_index: int | None = None  # None: each image's predicted class
    mask_pixels: int = 8
    draws: int = 32  # random pixel sets per image in the masking check


def _int(key: str, v: Any, lo: int, hi: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
        allowed = f"in {lo}..{hi}" if hi is not None else f">= {lo}"
        raise bad_value(key, v, f"must be an integer {allowed}")
    return v


def _float(key: str, v: Any, ok, allowed: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or not ok(v):
        raise bad_value(key, v, allowed)
    return float(v)


def _known(section: str, values: Mapping[str, Any], cls: type) -> None:
    names = [f.name for f in dataclasses.fields(cls)]
    for key, value in values.items():
        if key not in names:
            raise UserError(f"{section}.{key}={value!r} is unknown; valid: {', '.join(names)}")


def mlp_settings(values: Mapping[str, Any]) -> MLPSettings:
    """The `mlp:` section as MLPSettings (defaults for missing keys)."""
    _known("mlp", values, MLPSettings)
    s = dataclasses.replace(MLPSettings(), **values)
    hidden = s.hidden if isinstance(s.hidden, list | tuple) else [s.hidden]
    if not hidden:
        raise bad_value("mlp.hidden", s.hidden, "must list at least one hidden width, e.g. [32]")
    nonneg = lambda v: v >= 0  # noqa: E731
    penalties = s.penalties if isinstance(s.penalties, list | tuple) else [s.penalties]
    if not penalties:
        raise bad_value("mlp.penalties", s.penalties, "must list at least one λ, e.g. [0, 0.01]")
    if s.activation not in ACTIVATIONS:
        raise bad_value("mlp.activation", s.activation, f"allowed: {', '.join(ACTIVATIONS)}")
    if not isinstance(s.landscape, bool):
        raise bad_value("mlp.landscape", s.landscape, "must be true or false")
    return MLPSettings(
        hidden=tuple(_int("mlp.hidden", h, 1) for h in hidden),
        activation=s.activation,
        penalty=_float("mlp.penalty", s.penalty, nonneg, "must be a number >= 0"),
        penalties=tuple(
            _float("mlp.penalties", p, nonneg, "must be numbers >= 0") for p in penalties
        ),
        test_fraction=_float(
            "mlp.test_fraction", s.test_fraction, lambda v: 0 < v < 1, "must be in (0, 1)"
        ),
        landscape=s.landscape,
        landscape_grid=_int("mlp.landscape_grid", s.landscape_grid, 5, 201),
        landscape_span=_float(
            "mlp.landscape_span", s.landscape_span, lambda v: v > 0, "must be > 0"
        ),
    )


def saliency_settings(values: Mapping[str, Any]) -> SaliencySettings:
    """The `saliency:` section as SaliencySettings; a class index must name one of the classes."""
    _known("saliency", values, SaliencySettings)
    s = dataclasses.replace(SaliencySettings(), **values)
    c = s.class_index
    if c is not None and (isinstance(c, bool) or not isinstance(c, int) or not 0 <= c < N_CLASSES):
        raise bad_value(
            "saliency.class_index",
            c,
            f"must be a class index in 0..{N_CLASSES - 1} (or null: each image's predicted class)",
        )
    return SaliencySettings(
        images=_int("saliency.images", s.images, 1, 12),
        class_index=s.class_index,
        mask_pixels=_int("saliency.mask_pixels", s.mask_pixels, 1, 63),
        draws=_int("saliency.draws", s.draws, 1),
    )
