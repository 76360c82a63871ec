"""Benchmarking profiles on a cost table: Dolan–Moré, Moré–Wild and COCO-style ECDFs (NumPy).

A cost table `t` (P, S) holds, per problem p and solver s, the cost solver s needed to pass the
convergence test on problem p; `inf` where it never did. Moré–Wild's test is relative to the best
value any solver reached (`convergence_targets`); the absolute one is f − f* ≤ target.
"""

from __future__ import annotations

import numpy as np

# COCO's 51 targets on f − f*: 10^2 down to 10^-8, five per decade.
COCO_TARGETS = tuple(10.0 ** (2 - k / 5) for k in range(51))
TAUS = (1e-1, 1e-3, 1e-5, 1e-7)  # Moré–Wild tolerances


def convergence_targets(gap0: np.ndarray, gap_low: np.ndarray, tau: float) -> np.ndarray:
    """Per problem, the f − f* that passes Moré and Wild's convergence test at tolerance τ.

    A run solves p once f(x₀) − f(x) ≥ (1 − τ)(f(x₀) − f_L), f_L the smallest value any solver
    reached on p: Moré & Wild (2009), Benchmarking derivative-free optimization algorithms, SIAM J.
    Optim. 20(1):172–191, eq. (2.2). On g = f − f*: g ≤ g_L + τ (g₀ − g_L).
    """
    gap0 = np.asarray(gap0, dtype=float)
    gap_low = np.asarray(gap_low, dtype=float)
    return gap_low + tau * (gap0 - gap_low)


def ratios(t: np.ndarray) -> np.ndarray:
    """Performance ratios r_ps = t_ps / min_s t_ps (inf where s failed or no solver succeeded)."""
    t = np.asarray(t, dtype=float)
    best = t.min(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = t / best
    return np.where(np.isfinite(best) & np.isfinite(t), r, np.inf)


def performance_profile(t: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Dolan–Moré: ρ_s(α) = |{p : r_ps ≤ α}| / P, as an array (len(alphas), S).

    Dolan & Moré (2002), Benchmarking optimization software with performance profiles,
    Math. Program. 91:201–213.
    """
    r = ratios(t)
    return _within(r, alphas)


def data_profile(t: np.ndarray, dims: np.ndarray, budgets: np.ndarray) -> np.ndarray:
    """Moré–Wild: d_s(κ) = |{p : t_ps / (n_p + 1) ≤ κ}| / P, κ in simplex gradients (K, S).

    Moré & Wild (2009), Benchmarking derivative-free optimization algorithms, SIAM J. Optim.
    20(1):172–191; n_p is the dimension of problem p.
    """
    scaled = np.asarray(t, dtype=float) / (np.asarray(dims, dtype=float)[:, None] + 1.0)
    return _within(scaled, budgets)


def ecdf(t: np.ndarray, budgets: np.ndarray) -> np.ndarray:
    """Fraction of (problem, target) pairs solved within each budget, per solver (B, S).

    `t` (P, S, K) holds evaluations to each of K targets (already divided by dimension for a COCO
    runtime distribution); pairs are pooled over problems and targets.
    """
    t = np.asarray(t, dtype=float)
    pooled = np.moveaxis(t, 1, -1).reshape(-1, t.shape[1])  # (P·K, S)
    return _within(pooled, budgets)


def breakpoints(
    t: np.ndarray, scale: np.ndarray | float = 1.0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per solver (column of `t` (P, S)), where its profile steps up: the distinct finite values of
    t / scale and the fraction of the P problems at or below each (an exact step function)."""
    x = np.asarray(t, dtype=float) / np.asarray(scale, dtype=float)
    out = []
    for col in x.T:
        v = np.unique(col[np.isfinite(col)])
        out.append((v, np.searchsorted(np.sort(col), v, side="right") / len(col)))
    return out


def _within(cost: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """Fraction of rows of `cost` (N, S) that are finite and ≤ each limit: (len(limits), S)."""
    ok = np.isfinite(cost)[None] & (cost[None] <= np.asarray(limits, dtype=float)[:, None, None])
    return ok.mean(axis=1)
