"""The 8×8 digits that ship inside scikit-learn (read from the package, never downloaded)."""

from __future__ import annotations

import dataclasses
import functools
from types import ModuleType

import numpy as np

from optlab.errors import UserError

N_CLASSES = 10
IMAGE_SHAPE = (8, 8)


def require_sklearn(what: str) -> ModuleType:
    """`sklearn.datasets`, or a one-line UserError saying which extra to install."""
    try:
        import sklearn.datasets
    except ImportError:
        raise UserError(
            f"{what} needs scikit-learn, which is not installed: pip install -e '.[ml]'"
        ) from None
    return sklearn.datasets


@dataclasses.dataclass(frozen=True)
class Digits:
    """Train/test split of the digits: pixels scaled to [0, 1] (N, 64), integer labels (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits(test_fraction: float = 0.25, what: str = "the ML experiments") -> Digits:
    """The 1797 digits, shuffled once with a fixed seed (the split never depends on the run's seed)."""
    x, y = _digits(require_sklearn(what))
    order = np.random.default_rng(0).permutation(len(y))
    n_test = round(len(y) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return Digits(x[train], y[train], x[test], y[test])


@functools.cache
def _digits(datasets: ModuleType) -> tuple[np.ndarray, np.ndarray]:
    """Pixels / 16 (N, 64) and labels (N,), read once per process."""
    data = datasets.load_digits()
    return np.asarray(data.data, dtype=np.float64) / 16.0, np.asarray(data.target, dtype=np.int32)


def one_hot(labels: np.ndarray, n: int = N_CLASSES) -> np.ndarray:
    """Rows of the n×n identity picked by `labels` (N,) -> (N, n)."""
    return np.eye(n)[np.asarray(labels)]
