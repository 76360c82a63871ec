"""Statistics of a comparison (NumPy; the signed-rank test from SciPy): tied ranks, COCO's aRT,
Wilson intervals, a seeded bootstrap, Wilcoxon signed-rank tests with Holm's correction.

Each function cites the published definition it implements; tests/test_stats.py checks each one
on a small input worked out by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Z95 = 1.959963984540054  # the 97.5% quantile of the standard normal: two-sided 95%
RESAMPLES = 1000
SEED = 0


def average_ranks(keys: np.ndarray) -> np.ndarray:
    """Ranks 1 … n of the rows of `keys` (n, m), ordered lexicographically (column 0 first,
    smaller is better); rows that are exactly equal share the mean of the ranks they span.

    Fractional ("average") ranking of ties, as in Kendall & Gibbons, Rank Correlation Methods
    (5th ed., 1990), §3.1, and as used for mean ranks over data sets by Demšar (2006),
    Statistical comparisons of classifiers over multiple data sets, JMLR 7:1–30, §3.2.1.
    NaN sorts last (as +inf does) and equals NaN.
    """
    k = np.asarray(keys, dtype=float)
    k = k.reshape(len(k), -1)
    k = np.where(np.isnan(k), np.inf, k)
    n = len(k)
    order = np.lexsort(k.T[::-1]) if k.shape[1] else np.arange(n)
    s = k[order]
    new = np.ones(n, dtype=bool)
    new[1:] = np.any(s[1:] != s[:-1], axis=1)
    group = np.cumsum(new) - 1  # tie group of each sorted row
    first = np.flatnonzero(new)  # 0-based position where each group starts
    size = np.diff(np.append(first, n))
    mean_rank = first + (size + 1) / 2.0  # mean of ranks first+1 … first+size
    ranks = np.empty(n)
    ranks[order] = mean_rank[group]
    return ranks


def art(hit_cost: np.ndarray, budget: np.ndarray, axis: int = -1) -> np.ndarray:
    """COCO's average runtime over the runs on `axis`: the cost of every run, successful runs
    counted to their hit (`hit_cost`, inf or NaN where the target was missed) and failed runs over
    their whole `budget`, divided by the number of successes; inf with none.

    aRT = (Σ_successes RTˢ + Σ_failures RTᵘˢ) / #successes: Hansen, Auger, Brockhoff, Tušar and
    Tušar (2021), COCO: performance assessment, Optimization Methods and Software 36(1):114–144,
    §3 (arXiv:1605.03560, 2016); Price (1997), Differential evolution vs. the functions of the
    2nd ICEO.
    """
    hit = np.asarray(hit_cost, dtype=float)
    budget = np.broadcast_to(np.asarray(budget, dtype=float), hit.shape)
    ok = np.isfinite(hit)
    total = np.where(ok, hit, budget).sum(axis=axis)
    n = ok.sum(axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.inf)


def wilson(successes: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval of a success rate k/n: (low, high), NaN where n = 0.

    center = (p̂ + z²/2n) / (1 + z²/n), half-width = z/(1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²):
    Wilson (1927), Probable inference, the law of succession, and statistical inference,
    JASA 22(158):209–212; recommended by Brown, Cai and DasGupta (2001), Statist. Sci. 16(2).
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1 + z * z / n
        center = (p + z * z / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = np.where(n > 0, np.clip(center - half, 0.0, 1.0), np.nan)
    high = np.where(n > 0, np.clip(center + half, 0.0, 1.0), np.nan)
    return low, high


def resamples(n: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` bootstrap resamples of n items: indices (count, n) drawn with replacement.

    Efron and Tibshirani (1993), An Introduction to the Bootstrap, ch. 6 (nonparametric bootstrap).
    """
    return rng.integers(0, n, size=(count, n))


def percentile_interval(samples: np.ndarray, level: float = 0.95, axis: int = 0) -> np.ndarray:
    """The bootstrap percentile interval: the (1 − level)/2 and (1 + level)/2 quantiles of
    `samples` along `axis` (Efron and Tibshirani 1993, §13.3); shape (2, ...)."""
    q = [(1 - level) / 2, (1 + level) / 2]
    return np.quantile(np.asarray(samples, dtype=float), q, axis=axis)


def bootstrap_mean_rank(
    ranks_of: Callable[[list[np.ndarray]], np.ndarray],
    sizes: list[int],
    count: int = RESAMPLES,
    seed: int = SEED,
    level: float = 0.95,
) -> np.ndarray:
    """A percentile interval (2, S) of each solver's mean rank over groups (surfaces).

    Each resample redraws the items (starts) of every group independently with replacement,
    the same draw for every solver (the design stays paired); `ranks_of(indices)` returns the
    solvers' ranks (G, S) on the resampled items. Seeded: the same input gives the same interval.
    Stratified nonparametric bootstrap, Efron and Tibshirani (1993), §8.3 and §13.3.
    """
    rng = np.random.default_rng(seed)
    draws = [resamples(n, count, rng) for n in sizes]
    means = np.array([ranks_of([d[b] for d in draws]).mean(axis=0) for b in range(count)])
    return percentile_interval(means, level)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values: sort p ascending, p̃₍ᵢ₎ = max_{j ≤ i} min(1, (m − j + 1)
    p₍ⱼ₎); reject H₍ᵢ₎ at level α when p̃₍ᵢ₎ ≤ α.

    Holm (1979), A simple sequentially rejective multiple test procedure, Scand. J. Statist.
    6(2):65–70; adjusted form: Wright (1992), Biometrics 48(4):1005–1013.
    """
    p = np.asarray(p, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.maximum.accumulate(scaled)
    return out


def signed_rank_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided p-value of the Wilcoxon signed-rank test of paired samples a, b (1 when every
    pair is equal). Infinite values (diverged runs) count as larger than every finite one.

    Wilcoxon (1945), Individual comparisons by ranking methods, Biometrics Bulletin 1(6):80–83;
    zero differences dropped (Wilcoxon's treatment), computed with scipy.stats.wilcoxon (exact
    null distribution for n ≤ 50 pairs without ties, else the normal approximation).
    """
    from scipy import stats as sps

    a, b = _finite_order(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    d = a - b
    if not np.any(d != 0):
        return 1.0
    return float(sps.wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)


def _finite_order(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """a, b with ±inf replaced by finite values beyond every finite one (order kept; inf = inf)."""
    both = np.concatenate([a, b])
    finite = both[np.isfinite(both)]
    top = float(np.abs(finite).max()) if finite.size else 1.0
    big = 4.0 * top + 1.0
    fix = lambda x: np.where(np.isposinf(x), big, np.where(np.isneginf(x), -big, x))  # noqa: E731
    return fix(a), fix(b)


def versus_best(
    values: np.ndarray, best: int, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Each solver (rows of `values` (S, N), paired by column) against solver `best`: Holm-adjusted
    Wilcoxon signed-rank p-values over the S − 1 comparisons (NaN for `best`) and whether the
    solver is NOT significantly different from the best at level `alpha` (True for `best`)."""
    values = np.asarray(values, dtype=float)
    others = [s for s in range(len(values)) if s != best]
    raw = np.array([signed_rank_p(values[s], values[best]) for s in others])
    p = np.full(len(values), np.nan)
    if others:
        p[others] = holm(raw)
    same = np.ones(len(values), dtype=bool)
    same[others] = p[others] > alpha
    return p, same


def quantile(x: np.ndarray, q: float) -> float:
    """The q-quantile (linear interpolation) of `x`, +inf when it falls on or next to an inf
    (Hyndman and Fan (1996) type 7, NumPy's default); NaN for an empty `x`."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return math.nan
    big = np.finfo(float).max
    value = float(np.quantile(np.where(np.isinf(x), big, x), q))
    return math.inf if value > big / 4 else value
