"""Optimizers: optax GradientTransformations selected by name."""

from optlab.optimizers import catalog as _catalog  # noqa: F401  (registers the catalog)
from optlab.optimizers.gd import gd
from optlab.optimizers.registry import Spec, available, entry, split

__all__ = ["Spec", "available", "entry", "gd", "split"]
