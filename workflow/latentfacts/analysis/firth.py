"""Firth-penalized Cox regression (Heinze & Schemper 2001) with profile-likelihood intervals.

With few events per covariate, or a covariate that separates events from non-events, the maximum
partial-likelihood estimate is biased away from zero or infinite. Firth's penalty, half the log
determinant of the information (Jeffreys' prior), removes the first-order bias and keeps every
estimate finite. Wald intervals are poor there, so intervals and p-values come from the profile of
the penalized likelihood, as R's coxphf does.
"""

import numpy as np
from scipy import optimize, stats

from latentfacts.analysis.partial_likelihood import newton

LEVEL = 0.95
# A profile that stays within the interval's bound this far from the estimate (a hazard ratio
# beyond e^30) is treated as unbounded on that side.
MAX_DISTANCE = 30.0


def firth_objective(likelihood, ridge):
    """beta -> (penalized log-likelihood, its gradient, the information used for Newton steps)."""

    def objective(beta):
        moments = likelihood.moments(beta)
        sign, log_det = np.linalg.slogdet(moments.information)
        if sign <= 0:
            return -np.inf, moments.score, moments.information
        inverse = np.linalg.inv(moments.information)
        # d/d b_r of 0.5 log det I = 0.5 trace(I^-1 dI/d b_r)
        correction = 0.5 * np.einsum("ab,bar->r", inverse, likelihood.information_derivative(beta))
        value = moments.log_likelihood + 0.5 * log_det - 0.5 * beta @ ridge @ beta
        return value, moments.score + correction - ridge @ beta, moments.information + ridge

    return objective


def profile_maximum(objective, beta, j, value):
    """Maximum of `objective` over every coefficient but the j-th, which is fixed at `value`."""
    free = np.arange(len(beta)) != j

    def restricted(sub):
        full = beta.copy()
        full[free], full[j] = sub, value
        result, gradient, information = objective(full)
        return result, gradient[free], information[np.ix_(free, free)]

    if not free.any():
        return restricted(beta[free])[0]
    return newton(restricted, beta[free]).value


def profile_inference(objective, beta, maximum, se):
    """(lower, upper, p) per coefficient: the profile-likelihood interval at LEVEL and the penalized
    likelihood-ratio p for beta_j = 0; an interval side the profile never crosses is infinite."""
    quantile = stats.chi2.ppf(LEVEL, 1)
    results = []
    for j in range(len(beta)):

        def excess(value):
            return 2 * (maximum - profile_maximum(objective, beta, j, value)) - quantile

        bounds = []
        for direction in (-1, 1):
            inner, step = beta[j], max(se[j], 0.1)
            outer = inner + direction * step
            while excess(outer) < 0 and abs(outer - beta[j]) < MAX_DISTANCE:
                inner, step = outer, 2 * step
                outer = beta[j] + direction * step
            if excess(outer) < 0:
                bounds.append(direction * np.inf)
            else:
                bounds.append(optimize.brentq(excess, inner, outer, xtol=1e-9))
        statistic = max(excess(0.0) + quantile, 0.0)
        results.append((bounds[0], bounds[1], float(stats.chi2.sf(statistic, 1))))
    return results
