"""Proportional-hazards test of a fitted Cox model, as R's `cox.zph` (survival >= 3).

The model is extended by x * g(t) for every covariate, with g the Kaplan-Meier transform of time
(1 - S(t-), all rows pooled, centred on its mean over the events), and the score test of the extra
coefficients is made at the fitted coefficients with the full information matrix of the extended
model: one test per covariate (its own x * g(t), all coefficients of x free) and a global one. Tied
event times share one g(t), so the answer depends on the rows as a set, never on their order.
"""

import numpy as np
from scipy import stats

TRANSFORM = "km"


def km_transform(duration, event, times):
    """1 - S(t-) at each of `times`, S the Kaplan-Meier curve of all rows (strata pooled)."""
    event_times = np.unique(duration[event])
    at_risk = np.array([(duration >= t).sum() for t in event_times])
    deaths = np.array([(event & (duration == t)).sum() for t in event_times])
    survival = np.cumprod(1 - deaths / at_risk)
    before = np.searchsorted(event_times, times, side="left")  # event times strictly before t
    return 1 - np.concatenate([[1.0], survival])[before]


def zph_test(likelihood, beta):
    """({covariate index: (chi-square, df)}, (global chi-square, df)) for the model at `beta`."""
    moments = likelihood.moments(beta)
    duration, event, x = likelihood.duration, likelihood.event, likelihood.x
    g_events = km_transform(duration, event, duration[event])
    centre = g_events.mean()
    g_terms = km_transform(duration, event, moments.term_time) - centre
    p = x.shape[1]
    # score of the x * g(t) coefficients; that of x is zero at the fit (R takes it as zero)
    score = np.concatenate(
        [np.zeros(p), (x[event] * (g_events - centre)[:, None]).sum(axis=0) - g_terms @ moments.term_mean]
    )
    covariance = moments.term_covariance
    cross = np.einsum("t,tab->ab", g_terms, covariance)
    information = np.block(
        [[covariance.sum(axis=0), cross], [cross, np.einsum("t,tab->ab", g_terms**2, covariance)]]
    )
    per_covariate = {j: (quadratic_form(score, information, [*range(p), p + j]), 1) for j in range(p)}
    return per_covariate, (quadratic_form(score, information, list(range(2 * p))), p)


def quadratic_form(score, information, keep):
    """u'I^-1 u on the `keep` coordinates; NaN when I is singular there (e.g. a single event time,
    where g(t) does not vary and PH cannot be tested)."""
    u = score[keep]
    try:
        return float(u @ np.linalg.solve(information[np.ix_(keep, keep)], u))
    except np.linalg.LinAlgError:
        return float("nan")


def p_value(statistic, df):
    return float(stats.chi2.sf(statistic, df))
