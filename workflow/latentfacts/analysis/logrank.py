"""The k-group log-rank test (as R's `survdiff`, optionally stratified), with a permutation p-value
when a group expects too few events for the chi-square approximation.

Observed minus expected events per group and their covariance are summed over event times (and
strata); the statistic is U'V^-U on all groups but the last. The permutation test reshuffles the group
labels within each stratum, so it holds the risk sets' sizes and the strata fixed.
"""

import numpy as np
from scipy import stats

# Permutation labels are drawn in blocks of this many, to bound the memory of one matrix product.
BLOCK = 500


def event_table(duration, event, strata):
    """(at-risk indicator, event indicator), each (event times x rows), one row per stratum x time."""
    at_risk, events = [], []
    for stratum in np.unique(strata):
        rows = strata == stratum
        for time in np.unique(duration[rows & event]):
            at_risk.append(rows & (duration >= time))
            events.append(rows & event & (duration == time))
    return np.array(at_risk, dtype=float), np.array(events, dtype=float)


def statistics(at_risk, events, membership):
    """Log-rank chi-square for each column block of `membership` (rows x (labellings x groups)).

    Returns (statistics per labelling, expected events per group of the first labelling)."""
    k = membership.shape[2]
    n = at_risk @ membership.reshape(len(membership), -1)  # times x (labellings * groups)
    d = events @ membership.reshape(len(membership), -1)
    shape = (len(at_risk), -1, k)
    n, d = n.reshape(shape), d.reshape(shape)
    total_n, total_d = n.sum(axis=2, keepdims=True), d.sum(axis=2, keepdims=True)
    share = n / total_n
    expected = total_d * share
    scale = np.where(total_n > 1, total_d * (total_n - total_d) / np.maximum(total_n - 1, 1), 0.0)
    u = (d - expected).sum(axis=0)[:, :-1]
    eye = np.eye(k)[:-1, :-1]
    s = share[:, :, :-1]
    variance = np.einsum("tl,tla,ab->lab", scale[:, :, 0], s, eye) - np.einsum(
        "tl,tla,tlb->lab", scale[:, :, 0], s, s
    )
    chi_square = np.einsum("la,la->l", u, np.linalg.solve(variance, u[:, :, None])[:, :, 0])
    return chi_square, expected[:, 0, :].sum(axis=0)


def one_hot(codes, k):
    return np.eye(k)[codes]


def logrank_test(duration, event, group, strata=None, min_expected=5, resamples=10000, seed=0):
    """{"test_statistic", "df", "p", "p_method", "min_expected"}; the p-value is the chi-square one
    unless a group expects fewer than `min_expected` events, then a seeded permutation p
    ((1 + #{permuted >= observed}) / (1 + resamples))."""
    duration = np.asarray(duration, dtype=float)
    event = np.asarray(event) == 1
    strata = np.zeros(len(duration)) if strata is None else np.asarray(strata)
    levels, codes = np.unique(np.asarray(group), return_inverse=True)
    k = len(levels)
    at_risk, events = event_table(duration, event, strata)
    observed, expected = statistics(at_risk, events, one_hot(codes, k)[:, None, :])
    observed = float(observed[0])
    result = {
        "test_statistic": observed,
        "df": k - 1,
        "p": float(stats.chi2.sf(observed, k - 1)),
        "p_method": "chi-square",
        "min_expected": float(expected.min()),
    }
    if expected.min() >= min_expected:
        return result
    rng = np.random.default_rng(seed)
    exceed = 0
    for start in range(0, resamples, BLOCK):
        size = min(BLOCK, resamples - start)
        permuted = np.stack([shuffle_within(codes, strata, rng) for _ in range(size)], axis=1)
        chi_square, _ = statistics(at_risk, events, one_hot(permuted, k))
        exceed += int((chi_square >= observed * (1 - 1e-12)).sum())
    result.update(p=(1 + exceed) / (1 + resamples), p_method=f"permutation ({resamples} resamples, seed {seed})")
    return result


def shuffle_within(codes, strata, rng):
    """`codes` with its entries permuted within each stratum."""
    shuffled = codes.copy()
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        shuffled[rows] = codes[rng.permutation(rows)]
    return shuffled
