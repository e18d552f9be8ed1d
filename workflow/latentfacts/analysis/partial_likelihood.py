"""The Cox partial likelihood with Efron ties and strata, and a Newton optimiser that never lets it fall.

Efron's log partial likelihood is sum_i x_i'b over events minus, for every stratum, event time t with d
tied events D and risk set R, and k = 0..d-1, the term log sum_j c_j exp(x_j'b) with c_j = 1 - k/d on D and
1 on R without D. Every such term is a log-sum-exp of the linear predictor, so its derivatives are the
moments of x under the weights c_j exp(x_j'b): mean (score), covariance (information), third central
moment (the derivative of the information, for Firth's penalty). A term's weighted sums are those of its
risk set minus k/d times those of its tied events, so only one pair of sums per stratum and time is
computed, however many ties there are.
"""

from dataclasses import dataclass
from functools import cached_property

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
        risk, tied, group, fraction, times = [], [], [], [], []
        for stratum in np.unique(strata):
            in_stratum = strata == stratum
            for time in np.unique(duration[in_stratum & event]):
                at_time = in_stratum & event & (duration == time)
                d = int(at_time.sum())
                group += [len(risk)] * d
                fraction += [k / d for k in range(d)]
                times += [time] * d
                risk.append(in_stratum & (duration >= time))
                tied.append(at_time)
        n = len(duration)
        self.sets = np.array(risk + tied, dtype=float).reshape(2 * len(risk), n)  # risk sets, then tied sets
        self.term_group = np.array(group, dtype=int)
        self.term_fraction = np.array(fraction)
        self.term_time = np.array(times, dtype=float)
        self._last_moments = None

    def term_sums(self, weights, values):
        """sum_j c_j w_j v_j for every term (terms, ...): risk-set sum minus k/d times the tied-set sum."""
        flat = values.reshape(len(values), -1)
        per_set = self.sets @ (weights[:, None] * flat)
        groups = len(per_set) // 2
        risk, tied = per_set[:groups][self.term_group], per_set[groups:][self.term_group]
        return (risk - self.term_fraction[:, None] * tied).reshape(len(self.term_group), *values.shape[1:])

    def weights(self, beta):
        eta = self.x @ beta
        shift = eta.max() if len(eta) else 0.0
        return eta, shift, np.exp(eta - shift)

    @cached_property
    def squares(self):
        """x_a x_b of every row (n, p, p): the same at every beta."""
        return self.x[:, :, None] * self.x[:, None, :]

    @cached_property
    def cubes(self):
        """x_a x_b x_c of every row (n, p, p, p), for the information's derivative."""
        x = self.x
        return x[:, :, None, None] * x[:, None, :, None] * x[:, None, None, :]

    def weighted_moments(self, beta):
        """(eta, shift, weights, total, mean, second) at `beta`: the per-term weighted sums and the first
        two moments. The last is kept: Firth's objective asks for the moments and the information's
        derivative at the same beta."""
        key = np.asarray(beta, dtype=float).tobytes()
        if self._last_moments is None or self._last_moments[0] != key:
            eta, shift, weights = self.weights(beta)
            total = self.term_sums(weights, np.ones(len(eta)))
            mean = self.term_sums(weights, self.x) / total[:, None]
            second = self.term_sums(weights, self.squares) / total[:, None, None]
            self._last_moments = key, (eta, shift, weights, total, mean, second)
        return self._last_moments[1]

    def moments(self, beta):
        """Value, score and information at `beta`, with the per-term means and covariances."""
        eta, shift, _, total, mean, second = self.weighted_moments(beta)
        covariance = second - mean[:, :, None] * mean[:, None, :]
        log_likelihood = eta[self.event].sum() - (np.log(total) + shift).sum()
        score = self.x[self.event].sum(axis=0) - mean.sum(axis=0)
        return Moments(log_likelihood, score, covariance.sum(axis=0), mean, covariance, self.term_time)

    def information_derivative(self, beta):
        """d information / d beta_r for every r, (p, p, p): the summed third central moments of x
        (the information is a sum of covariances, and a covariance's derivative is the third cumulant)."""
        _, _, weights, total, mean, second = self.weighted_moments(beta)
        third = self.term_sums(weights, self.cubes) / total[:, None, None, None]
        cross = np.einsum("ta,tbc->abc", mean, second)
        cubed = np.einsum("ta,tb,tc->abc", mean, mean, mean)
        return third.sum(axis=0) - cross - cross.transpose(1, 0, 2) - cross.transpose(1, 2, 0) + 2 * cubed


@dataclass
class Optimum:
    beta: np.ndarray
    value: float
    iterations: int
    converged: bool
    halvings: int


def newton(objective, beta, max_iterations=50, tolerance=1e-10, max_halvings=40, value_of=None):
    """Maximise `objective(beta) -> (value, gradient, information)` by Newton steps, halving a step
    until the value does not fall (an unguarded step overshoots on sparse events). Converged when
    the relative change of the value falls below `tolerance` (the criterion of R's coxph). With
    `value_of` (beta -> the objective's value alone, where that costs much less than its derivatives),
    candidate steps are judged by their value and the derivatives are computed only where a step
    starts: the same iterates, without the derivatives of halved steps and of the optimum."""
    value, gradient, information = objective(beta)
    halvings = 0
    for iteration in range(1, max_iterations + 1):
        step = np.linalg.lstsq(information, gradient, rcond=None)[0]
        for _ in range(max_halvings):
            candidate = value_of(beta + step) if value_of else objective(beta + step)
            candidate_value = candidate if value_of else candidate[0]
            if np.isfinite(candidate_value) and candidate_value >= value - tolerance * abs(value):
                break
            step = step / 2
            halvings += 1
        else:
            return Optimum(beta, value, iteration, False, halvings)
        previous = value
        beta = beta + step
        value = candidate_value
        if abs(value - previous) <= tolerance * abs(value):
            return Optimum(beta, value, iteration, True, halvings)
        _, gradient, information = objective(beta) if value_of else candidate
    return Optimum(beta, value, max_iterations, False, halvings)
