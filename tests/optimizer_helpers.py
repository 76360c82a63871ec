"""Shared helpers for the optimizer tests: test surfaces built here, YAML-configured groups."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optlab import engine, optimizers
from optlab.config import conf_dir, optimizer_defaults
from optlab.surfaces.base import Surface


def yaml_names() -> list[str]:
    """Every optimizer with a YAML in conf/optimizer/."""
    return sorted(p.stem for p in (conf_dir() / "optimizer").glob("*.yaml"))


def quadratic_fn(x, A, c, offset):
    return 0.5 * (x - c) @ A @ (x - c) + offset


def rotation(dim: int, seed: int) -> np.ndarray:
    """A random orthogonal matrix (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(dim, dim)))
    return q * np.sign(np.diag(r))


def quadratic(
    eigenvalues: Sequence[float], seed: int = 0, center=None, offset: float = 0.0
) -> Surface:
    """f(x) = ½(x−c)ᵀA(x−c) + offset with A = Qᵀ diag(eigenvalues) Q, Q a random rotation."""
    lam = np.asarray(eigenvalues, dtype=float)
    dim = len(lam)
    q = rotation(dim, seed)
    c = np.zeros(dim) if center is None else np.asarray(center, dtype=float)
    return Surface(
        "test_quadratic",
        quadratic_fn,
        dim,
        [[-5.0, 5.0]] * dim,
        c[None],
        offset,
        params={"A": q.T @ np.diag(lam) @ q, "c": c, "offset": np.asarray(offset)},
    )


def bowl() -> Surface:
    """A well-conditioned 2-D bowl: eigenvalues 10 and 20, rotated, minimum at (0.5, −0.5)."""
    return quadratic([10.0, 20.0], seed=3, center=[0.5, -0.5])


def group(name: str, starts, **overrides) -> engine.Group:
    """One engine group: optimizer `name` at its YAML defaults (plus `overrides`) from `starts`."""
    hparams = optimizer_defaults(name) | overrides
    hparams.pop("name")
    spec, traced = optimizers.split(name, hparams)
    starts = np.atleast_2d(np.asarray(starts, dtype=float))
    return engine.Group(spec, {k: np.full(len(starts), v) for k, v in traced.items()}, starts)
