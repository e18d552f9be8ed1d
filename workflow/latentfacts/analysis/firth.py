"""Firth-penalized Cox regression (Heinze & Schemper 2001) with profile-likelihood intervals.

With few events per covariate, or a covariate that separates events from non-events, the maximum
partial-likelihood estimate is biased away from zero or infinite. Firth's penalty, half the log
determinant of the information (Jeffreys' prior), removes the first-order bias and keeps every
estimate finite. Wald intervals are poor there, so intervals and p-values come from the profile of
the penalized likelihood, as R's coxphf does.
"""

import functools

import numpy as np
from scipy import optimize, stats

from latentfacts.analysis.partial_likelihood import newton

LEVEL = 0.95
# A profile that stays within the interval's bound this far from the estimate (a hazard ratio
# beyond e^30) is treated as unbounded on that side.
MAX_DISTANCE = 30.0


class FirthObjective:
    """Firth's penalized log partial likelihood. Called at beta: (value, its gradient, the information
    used for Newton steps); `value(beta)` alone needs no third moments, the costliest part, so Newton
    judges its candidate steps by it (newton's `value_of`)."""

    def __init__(self, likelihood, ridge):
        self.likelihood, self.ridge = likelihood, ridge

    def penalized(self, beta):
        """(value, sign of the information's determinant, moments) at `beta`."""
        moments = self.likelihood.moments(beta)
        sign, log_det = np.linalg.slogdet(moments.information)
        if sign <= 0:
            return -np.inf, sign, moments
        return moments.log_likelihood + 0.5 * log_det - 0.5 * beta @ self.ridge @ beta, sign, moments

    def value(self, beta):
        return self.penalized(beta)[0]

    def __call__(self, beta):
        value, sign, moments = self.penalized(beta)
        if sign <= 0:
            return value, moments.score, moments.information
        inverse = np.linalg.inv(moments.information)
        # d/d b_r of 0.5 log det I = 0.5 trace(I^-1 dI/d b_r)
        correction = 0.5 * np.einsum("ab,bar->r", inverse, self.likelihood.information_derivative(beta))
        return value, moments.score + correction - self.ridge @ beta, moments.information + self.ridge


def profile_maximum(objective, beta, j, value):
    """Maximum of `objective` (a FirthObjective) over every coefficient but the j-th, which is fixed at `value`."""
    free = np.arange(len(beta)) != j

    def full(sub):
        point = beta.copy()
        point[free], point[j] = sub, value
        return point

    def restricted(sub):
        result, gradient, information = objective(full(sub))
        return result, gradient[free], information[np.ix_(free, free)]

    if not free.any():
        return objective.value(full(beta[free]))
    return newton(restricted, beta[free], value_of=lambda sub: objective.value(full(sub))).value


def profile_inference(objective, beta, maximum, se):
    """(lower, upper, p) per coefficient: the profile-likelihood interval at LEVEL and the penalized
    likelihood-ratio p for beta_j = 0; an interval side the profile never crosses is infinite."""
    quantile = stats.chi2.ppf(LEVEL, 1)
    results = []
    for j in range(len(beta)):
        # each point once: the bracketing loop, its last test and brentq's first two calls share points
        excess = functools.cache(lambda value, j=j: 2 * (maximum - profile_maximum(objective, beta, j, value)) - quantile)

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
