"""The Cox partial likelihood with Efron ties and strata, and a Newton optimiser that never lets it fall.

Efron's log partial likelihood is sum_i x_i'b over events minus, for every stratum, event time t with d
tied events D and risk set R, and k = 0..d-1, the term log sum_j c_j exp(x_j'b) with c_j = 1 - k/d on D and
1 on R without D. Every such term is a log-sum-exp of the linear predictor, so its derivatives are the
moments of x under the weights c_j exp(x_j'b): mean (score), covariance (information), third central
moment (the derivative of the information, for Firth's penalty). The terms are a dense matrix
(terms x facts): the study's tables hold at most a few thousand facts.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class Moments:
    """The log partial likelihood and its derivatives at one coefficient vector."""

    log_likelihood: float
    score: np.ndarray  # (p,)
    information: np.ndarray  # (p, p), minus the Hessian
    term_mean: np.ndarray  # (terms, p): weighted mean of x in each term
    term_covariance: np.ndarray  # (terms, p, p)
    term_time: np.ndarray  # (terms,): the event time of each term


class PartialLikelihood:
    """Efron partial likelihood of covariates `x` (n x p) for right-censored `duration`, `event`,
    optionally stratified (`strata`: one label per row). Its value depends on the rows as a set, not
    on their order."""

    def __init__(self, duration, event, x, strata=None):
        self.x = np.asarray(x, dtype=float)
        duration = np.asarray(duration, dtype=float)
        event = np.asarray(event) == 1
        strata = np.zeros(len(duration)) if strata is None else np.asarray(strata)
        self.duration, self.event = duration, event
        coefficients, times = [], []
        for stratum in np.unique(strata):
            in_stratum = strata == stratum
            for time in np.unique(duration[in_stratum & event]):
                tied = in_stratum & event & (duration == time)
                at_risk = (in_stratum & (duration >= time)).astype(float)
                d = int(tied.sum())
                for k in range(d):
                    coefficients.append(at_risk - tied * (k / d))
                    times.append(time)
        self.coefficients = np.array(coefficients).reshape(len(times), len(duration))
        self.term_time = np.array(times, dtype=float)

    def moments(self, beta):
        """Value, score and information at `beta`, with the per-term means and covariances."""
        eta = self.x @ beta
        shift = eta.max() if len(eta) else 0.0
        weights = self.coefficients * np.exp(eta - shift)
        total = weights.sum(axis=1)
        share = weights / total[:, None]
        mean = share @ self.x
        second = np.einsum("tn,na,nb->tab", share, self.x, self.x)
        covariance = second - mean[:, :, None] * mean[:, None, :]
        log_likelihood = eta[self.event].sum() - (np.log(total) + shift).sum()
        score = self.x[self.event].sum(axis=0) - mean.sum(axis=0)
        return Moments(log_likelihood, score, covariance.sum(axis=0), mean, covariance, self.term_time)

    def information_derivative(self, beta):
        """d information / d beta_r for every r, (p, p, p): the summed third central moments of x
        (the information is a sum of covariances, and a covariance's derivative is the third cumulant)."""
        eta = self.x @ beta
        weights = self.coefficients * np.exp(eta - eta.max())
        share = weights / weights.sum(axis=1)[:, None]
        mean = share @ self.x
        second = np.einsum("tn,na,nb->tab", share, self.x, self.x)
        # sum_t E_t[(x - m_t)^3] from raw moments, without a terms x facts x p array
        raw = np.einsum("n,na,nb,nc->abc", share.sum(axis=0), self.x, self.x, self.x)
        cross = np.einsum("ta,tbc->abc", mean, second)
        cubed = np.einsum("ta,tb,tc->abc", mean, mean, mean)
        return raw - cross - cross.transpose(1, 0, 2) - cross.transpose(1, 2, 0) + 2 * cubed


@dataclass
class Optimum:
    beta: np.ndarray
    value: float
    iterations: int
    converged: bool
    halvings: int


def newton(objective, beta, max_iterations=50, tolerance=1e-10, max_halvings=40):
    """Maximise `objective(beta) -> (value, gradient, information)` by Newton steps, halving a step
    until the value does not fall (an unguarded step overshoots on sparse events). Converged when
    the relative change of the value falls below `tolerance` (the criterion of R's coxph)."""
    value, gradient, information = objective(beta)
    halvings = 0
    for iteration in range(1, max_iterations + 1):
        step = np.linalg.lstsq(information, gradient, rcond=None)[0]
        for _ in range(max_halvings):
            candidate = objective(beta + step)
            if np.isfinite(candidate[0]) and candidate[0] >= value - tolerance * abs(value):
                break
            step = step / 2
            halvings += 1
        else:
            return Optimum(beta, value, iteration, False, halvings)
        previous = value
        beta = beta + step
        value, gradient, information = candidate
        if abs(value - previous) <= tolerance * abs(value):
            return Optimum(beta, value, iteration, True, halvings)
    return Optimum(beta, value, max_iterations, False, halvings)
