"""Finite-sum surfaces on real data: f(w) = (1/N) Σᵢ ℓ(w; xᵢ, yᵢ) + (l2/2) ‖w‖².

`surface=logistic`: ℓ = log(1 + exp(−yᵢ wᵀxᵢ)) (L2-regularized logistic regression, l2 > 0);
`surface=least_squares`: ℓ = ½ (wᵀxᵢ − yᵢ)². The data sets ship inside scikit-learn (never
downloaded); features are standardized (columns of zero variance dropped) and a constant 1 is
appended for the intercept (regularized like every weight), labels are yᵢ ∈ {−1, +1}:

    breast_cancer  569 × 30   benign (+1) vs malignant (−1)
    wine           178 × 13   cultivar 0 (+1) vs the other two (−1)
    digits        1797 × 61   even (+1) vs odd (−1) digit (8×8 pixels; 3 constant pixels dropped)

The data are the surface's `data_x` (N, p) and `data_y` (N,) parameters, so `restrict` gives the
surface of any minibatch (the same formula on fewer rows) and `per_example` each ℓᵢ. f* and the
minimizer come from a float64 Newton solve on the full data (to ‖∇f‖ < 1e-13, so f − f* is exact
to ~1e-12), cached per process.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from optlab.errors import UserError
from optlab.surfaces.base import Surface, SurfaceInfo, box
from optlab.surfaces.registry import register

DATASETS = ("breast_cancer", "wine", "digits")
LOSSES = ("logistic", "least_squares")
DATA_KEYS = ("data_x", "data_y")
MAX_DIM = 1024  # the dimension is the data's (features + 1), not a parameter
SOURCE = "scikit-learn's bundled data sets (Dua & Graff, UCI Machine Learning Repository)"


def is_finite_sum(surface: Surface) -> bool:
    """Whether `surface` is a mean over examples whose minibatches `restrict` can draw."""
    return all(k in surface.params for k in DATA_KEYS)


def size(surface: Surface) -> int:
    """N, the number of examples of a finite-sum surface."""
    return int(np.shape(surface.params["data_y"])[0])


def restrict(surface: Surface, index: jax.Array) -> Any:
    """x ↦ the surface's formula on the examples `index` only (a minibatch's mean loss)."""
    params = surface.params | {k: jnp.asarray(surface.params[k])[index] for k in DATA_KEYS}
    return lambda x: surface.fn(x, **params)


def per_example(surface: Surface, x: jax.Array) -> jax.Array:
    """ℓᵢ(x) + (l2/2)‖x‖² for every example i (N,): their mean is f(x)."""
    x_, y_ = (surface.params[k] for k in DATA_KEYS)
    rest = {k: v for k, v in surface.params.items() if k not in DATA_KEYS}
    return jax.vmap(lambda a, b: surface.fn(x, a[None], b[None], **rest))(x_, y_)


def _logistic(w, data_x, data_y, l2):
    margins = data_y * (data_x @ w)
    return jnp.mean(jax.nn.softplus(-margins)) + 0.5 * l2 * jnp.sum(w**2)


def _least_squares(w, data_x, data_y, l2):
    return 0.5 * jnp.mean((data_x @ w - data_y) ** 2) + 0.5 * l2 * jnp.sum(w**2)


def check_data(name: Any) -> str:
    """`name` if it is a bundled data set, else a one-line UserError naming the available ones."""
    if name not in DATASETS:
        raise UserError(
            f"surface.data={name!r} is invalid: not a data set shipped with scikit-learn here; "
            f"available: {', '.join(DATASETS)}"
        )
    return name


@functools.cache
def dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Standardized features with an appended 1 (N, p + 1) and labels ±1 (N,), float64."""
    from optlab.ml.data import require_sklearn

    datasets = require_sklearn(f"surface.data={name}")
    data = getattr(datasets, f"load_{check_data(name)}")()
    x, target = np.asarray(data.data, dtype=np.float64), np.asarray(data.target)
    y = {"breast_cancer": target == 1, "wine": target == 0, "digits": target % 2 == 0}[name]
    std = x.std(axis=0)
    x = (x[:, std > 0] - x.mean(axis=0)[std > 0]) / std[std > 0]
    return np.hstack([x, np.ones((len(x), 1))]), np.where(y, 1.0, -1.0)


def _derivatives(loss: str, w: np.ndarray, x: np.ndarray, y: np.ndarray, l2: float):
    """(f, ∇f, ∇²f) at w in NumPy float64 (independent of JAX's precision setting)."""
    n, z = len(y), x @ w
    if loss == "logistic":
        m = y * z
        f = np.mean(np.logaddexp(0.0, -m))
        s = 0.5 * (1.0 - np.tanh(0.5 * m))  # σ(−m), stable
        g = -(x.T @ (y * s)) / n
        h = (x.T * (s * (1.0 - s))) @ x / n
    else:
        r = z - y
        f, g, h = 0.5 * np.mean(r**2), x.T @ r / n, x.T @ x / n
    eye = np.eye(len(w))
    return f + 0.5 * l2 * w @ w, g + l2 * w, h + l2 * eye


@functools.cache
def solve(loss: str, name: str, l2: float, tol: float = 1e-13) -> tuple[np.ndarray, float]:
    """(w*, f*) by damped Newton in float64 on the full data (Armijo backtracking), cached."""
    x, y = dataset(name)
    w = np.zeros(x.shape[1])
    f, g, h = _derivatives(loss, w, x, y, l2)
    for _ in range(200):
        if np.linalg.norm(g) < tol:
            break
        step = np.linalg.lstsq(h, -g, rcond=None)[0]
        t = 1.0
        while True:
            fn, gn, hn = _derivatives(loss, w + t * step, x, y, l2)
            if fn <= f + 1e-4 * t * (g @ step) or t < 1e-12:
                break
            t *= 0.5
        if fn > f:  # no decrease at the float64 floor: converged as far as f can tell
            break
        w, f, g, h = w + t * step, fn, gn, hn
    return w, float(f)


def _finite_sum(loss: str, data: str, l2: float) -> Surface:
    name = check_data(data)
    if isinstance(l2, bool) or not isinstance(l2, int | float) or not np.isfinite(l2):
        raise UserError(f"surface.l2={l2!r} is invalid: must be a finite number")
    if l2 < 0 or (loss == "logistic" and l2 == 0):
        allowed = "> 0 (the data may be separable: no minimum)" if loss == "logistic" else ">= 0"
        raise UserError(f"surface.l2={l2!r} is invalid: must be {allowed}")
    x, y = dataset(name)
    w, f_min = solve(loss, name, float(l2))
    d = x.shape[1]
    formula = {
        "logistic": r"\frac1N\sum_i \log(1+e^{-y_i w^\top x_i}) + \frac{\lambda}{2}\|w\|^2",
        "least_squares": r"\frac1{2N}\sum_i (w^\top x_i - y_i)^2 + \frac{\lambda}{2}\|w\|^2",
    }[loss]
    info = SurfaceInfo(
        formula=formula,
        source=SOURCE,
        f_min_note="f* by float64 Newton on the full data",
    )
    fn = _logistic if loss == "logistic" else _least_squares
    return Surface(
        loss,
        fn,
        d,
        box(-2.0, 2.0, d),
        w[None],
        f_min,
        params={"data_x": x, "data_y": y, "l2": float(l2)},
        info=info,
        config={"data": name, "l2": float(l2)},
    )


@register("logistic", min_dim=1, max_dim=MAX_DIM)
def logistic(data: str = "breast_cancer", l2: float = 1e-3) -> Surface:
    """L2-regularized logistic regression on a bundled data set (d = features + 1)."""
    return _finite_sum("logistic", data, l2)


@register("least_squares", min_dim=1, max_dim=MAX_DIM)
def least_squares(data: str = "breast_cancer", l2: float = 0.0) -> Surface:
    """Least squares regression of the ±1 labels on a bundled data set (d = features + 1)."""
    return _finite_sum("least_squares", data, l2)
