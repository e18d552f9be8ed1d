"""Fact-cluster bootstrap for summaries of survival tables whose seeds are stacked.

A fact appears once per seed, so its rows are not independent: a replicate draws facts with replacement and
keeps all of a fact's rows (a fact drawn twice counts twice). Intervals are percentile intervals. Every
summary here is a function of per-epoch at-risk and event counts, so a replicate is a weighted count:
counts = weights (replicates x rows) @ indicators (rows x epochs).
"""

import numpy as np

LEVEL = 0.95


def fact_weights(fact_ids, replicates, seed):
    """(replicates + 1) x rows weights: row 0 is the data itself (all ones), the others bootstrap draws of facts."""
    codes = np.unique(np.asarray(fact_ids), return_inverse=True)[1]
    if not len(codes):
        return np.ones((replicates + 1, 0))
    n_facts = int(codes.max()) + 1
    draws = np.random.default_rng(seed).multinomial(n_facts, np.full(n_facts, 1 / n_facts), size=replicates)
    return np.vstack([np.ones((1, n_facts)), draws])[:, codes]


def epoch_indicators(duration, event, horizon):
    """(at risk, event) indicators, rows x epochs 1..horizon."""
    epochs = np.arange(1, horizon + 1)
    duration = np.asarray(duration)[:, None]
    at_risk = duration >= epochs[None, :]
    events = (duration == epochs[None, :]) & (np.asarray(event)[:, None] == 1)
    return at_risk.astype(float), events.astype(float)


def weighted_counts(weights, duration, event, horizon):
    """(at risk, events), replicates x epochs 1..horizon."""
    at_risk, events = epoch_indicators(duration, event, horizon)
    return weights @ at_risk, weights @ events


def survival_curves(at_risk, events):
    """Kaplan-Meier S(t) for t = 0..horizon, replicates x (horizon + 1); an epoch nobody is at risk of keeps S."""
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(at_risk > 0, 1 - events / at_risk, 1.0)
    return np.hstack([np.ones((len(factor), 1)), np.cumprod(factor, axis=1)])


def restricted_mean(curves, horizon):
    """Area under the step curve over [0, horizon): the curve is constant on [t, t + 1)."""
    return curves[:, :horizon].sum(axis=1)


def median_time(curves):
    """First epoch with S(t) <= 0.5; inf when the curve does not reach it."""
    reached = curves <= 0.5
    return np.where(reached.any(axis=1), reached.argmax(axis=1), np.inf).astype(float)


def interval(values):
    """(estimate, lower, upper): row 0 is the estimate, the others its bootstrap distribution."""
    estimate, draws = values[0], values[1:]
    draws = draws[~np.isnan(draws)]
    if np.isnan(estimate) or not len(draws):
        return estimate, np.nan, np.nan
    # no interpolation: medians are whole epochs and may be inf (not reached)
    tail = (1 - LEVEL) / 2
    lower, upper = np.quantile(draws, [tail, 1 - tail], method="inverted_cdf")
    return float(estimate), float(lower), float(upper)
