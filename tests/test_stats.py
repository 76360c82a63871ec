"""optlab.stats on small inputs whose answers are worked out by hand in each test."""

from __future__ import annotations

import numpy as np
import pytest

from optlab import stats

INF = np.inf


def test_average_ranks_share_the_ranks_they_span():
    # one key: 1 is first; the two 2s span ranks 2 and 3 -> 2.5 each; 3 is 4th
    np.testing.assert_array_equal(stats.average_ranks([[2], [1], [2], [3]]), [2.5, 1, 2.5, 4])
    # lexicographic: (0, 9) < (1, 3) = (1, 3) < (1, 5)
    keys = [[1, 5], [1, 3], [0, 9], [1, 3]]
    np.testing.assert_array_equal(stats.average_ranks(keys), [4, 2.5, 1, 2.5])
    # three equal rows span ranks 1, 2, 3 -> 2 each
    np.testing.assert_array_equal(stats.average_ranks([[7, 1]] * 3), [2, 2, 2])
    # inf and NaN both sort last and tie with each other
    np.testing.assert_array_equal(stats.average_ranks([[INF], [np.nan], [0.0]]), [2.5, 2.5, 1])


def test_art_by_hand():
    # two successes at costs 10 and 20, two failures that used 100 each: (10+20+100+100)/2 = 115
    assert stats.art([10.0, INF, 20.0, np.nan], [50.0, 100.0, 60.0, 100.0]) == 115.0
    assert stats.art([INF, INF], [5.0, 5.0]) == INF  # no success
    assert stats.art([3.0, 5.0], [9.0, 9.0]) == 4.0  # all succeed: the mean
    # along an axis: rows are targets
    out = stats.art([[1.0, 2.0], [3.0, INF]], [[10.0, 10.0], [10.0, 10.0]])
    np.testing.assert_array_equal(out, [1.5, 13.0])


def test_art_is_monotone_where_the_median_among_successes_is_not():
    # 4 runs, 3 targets (loose -> tight): fast runs fail at the tight targets, slow ones don't
    hit = np.array(
        [
            [10.0, 20.0, 30.0],  # reaches all three
            [2.0, 4.0, INF],  # fast, stops short of the tightest
            [2.0, INF, INF],
            [2.0, INF, INF],
        ]
    )
    budget = np.full(4, 100.0)
    a = stats.art(hit.T, budget)  # (targets,)
    # loose: (10+2+2+2)/4 = 4; middle: (20+4+100+100)/2 = 112; tight: (30+300)/1 = 330
    np.testing.assert_array_equal(a, [4.0, 112.0, 330.0])
    assert np.all(np.diff(a) >= 0)
    med = [np.median(h[np.isfinite(h)]) for h in hit.T]  # survivor-biased: 2 -> 12 -> 30
    assert med == [2.0, 12.0, 30.0]


def test_wilson_by_hand():
    # 8 of 10, z = 1.96: p = 0.8, z²/n = 0.38415, center = (0.8 + 0.19207)/1.38415 = 0.71679,
    # half = (1.96/1.38415)·√(0.016 + 0.0096037) = 0.22658  ->  [0.4902, 0.9433]
    low, high = stats.wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    # 0 of 10: low 0, high = (z²/n)/(1 + z²/n) = 0.38415/1.38415 = 0.2775
    low, high = stats.wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    low, high = stats.wilson(np.array([10, 0]), np.array([10, 0]))
    assert high[0] == pytest.approx(1.0) and low[0] == pytest.approx(1 - 0.2775, abs=1e-4)
    assert np.isnan(low[1]) and np.isnan(high[1])


def test_holm_by_hand():
    # sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 -> running max 0.06
    p = stats.holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(p, [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(stats.holm([0.5, 0.9]), [1.0, 1.0])


def test_signed_rank_by_hand():
    # n = 5 differences all positive: W⁻ = 0, P(W⁻ ≤ 0) = 1/32, two-sided 2/32
    assert stats.signed_rank_p([2, 3, 4, 5, 6], [1, 1, 1, 1, 1]) == pytest.approx(2 / 32)
    # d = 1, −2, 3, 4, 5: W⁻ = 2; subsets of {1..5} summing to ≤ 2: {}, {1}, {2} -> 2·3/32
    assert stats.signed_rank_p([1, -2, 3, 4, 5], [0] * 5) == pytest.approx(6 / 32)
    # zero differences are dropped: the same as the n = 5 case above
    assert stats.signed_rank_p([2, 3, 4, 5, 6, 7], [1, 1, 1, 1, 1, 7]) == pytest.approx(2 / 32)
    assert stats.signed_rank_p([1.0, 2.0], [1.0, 2.0]) == 1.0  # identical runs
    # a diverged run (inf) is worse than every finite one; inf against inf is a tie
    assert stats.signed_rank_p([INF, 1, 1, 1, 1, INF], [0, 0, 0, 0, 0, INF]) == pytest.approx(
        2 / 32
    )


def test_versus_best_marks_who_the_test_cannot_separate():
    best = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    worse = best + np.array([1, 2, 3, 4, 5, 6.0])  # all 6 worse: p = 2/64 = 0.03125
    twin = best.copy()  # identical: p = 1
    noisy = best + np.array([1, -2, 3, -4, 5, -6.0])
    p, same = stats.versus_best(np.stack([worse, best, twin, noisy]), best=1)
    assert np.isnan(p[1]) and same[1]
    # raw p: worse 1/32, twin 1, noisy: W⁻ = 2+4+6 = 12 of 21 -> p = 1 (symmetric, > 0.5)
    # Holm over 3: worse 3/32 = 0.094 -> not below 0.05
    assert p[0] == pytest.approx(3 / 32) and p[2] == 1.0 and same.all()
    p, same = stats.versus_best(np.stack([worse, best]), best=1)  # one comparison: 1/32 < 0.05
    assert p[0] == pytest.approx(1 / 32) and list(same) == [False, True]


def test_bootstrap_is_seeded_and_collapses_on_a_single_start():
    # two groups of one start each: every resample is the original, the interval is the point
    ranks = np.array([[1.0, 2.0], [2.0, 1.0]])
    iv = stats.bootstrap_mean_rank(lambda idx: ranks, [1, 1], count=50)
    np.testing.assert_array_equal(iv, [[1.5, 1.5], [1.5, 1.5]])
    # a group of 3 starts where solver 0 wins starts 0 and 1 and loses start 2
    wins = np.array([[1.0, 2.0], [1.0, 2.0], [2.0, 1.0]])  # ranks per start

    def ranks_of(idx):
        mean = wins[idx[0]].mean(axis=0)
        return stats.average_ranks(mean[:, None])[None]

    a = stats.bootstrap_mean_rank(ranks_of, [3], count=200, seed=5)
    b = stats.bootstrap_mean_rank(ranks_of, [3], count=200, seed=5)
    np.testing.assert_array_equal(a, b)
    # a resample may draw start 2 twice or more (solver 1 wins) or tie: rank 1 … 2 for both
    np.testing.assert_array_equal(a[:, 0], [1.0, 2.0])


def test_quantile_with_inf():
    assert stats.quantile(np.array([1.0, 2.0, INF]), 0.5) == 2.0
    assert stats.quantile(np.array([1.0, INF]), 0.5) == INF
    assert np.isnan(stats.quantile(np.array([]), 0.5))
