"""Degradation of baseline-correct facts, trained vs withheld, as the paper compares it.

Kaplan-Meier curves per exposure (Greenwood 95% bands) and a log-rank test stratified by ontology (each
ontology its own risk sets). Per seed the test is the classic one (hypergeometric variance). Pooled over
seeds the strata are seed x ontology and the variance is the fact-clustered robust one (Lin & Wei): the sum
over facts of the squared total of their rows' score residuals at HR = 1, since a fact's seeds are not
independent.
"""

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from scipy.stats import chi2

from latentfacts.analysis.effects import POOLED, seed_scopes

EXPOSURES = {1: "trained", 0: "withheld"}
CURVE_COLUMNS = ["seed", "exposure", "epoch", "survival", "ci_lower", "ci_upper", "at_risk", "events"]
LOGRANK_COLUMNS = ["seed", "strata", "variance", "n_trained", "events_trained", "expected_trained", "n_withheld",
                   "events_withheld", "expected_withheld", "test_statistic", "p", "note"]  # fmt: skip


def exposure_curves(table, horizon):
    """KM curve per exposure and seed scope on epochs 0..horizon."""
    frames = []
    timeline = np.arange(horizon + 1)
    for scope, rows in seed_scopes(table):
        for seen, name in EXPOSURES.items():
            members = rows[rows["seen"] == seen]
            if members.empty:
                continue
            fitter = KaplanMeierFitter().fit(members["duration"], members["event"], timeline=timeline)
            band = fitter.confidence_interval_survival_function_.to_numpy()
            duration, event = members["duration"].to_numpy(), members["event"].to_numpy() == 1
            frames.append(pd.DataFrame({"seed": scope, "exposure": name, "epoch": timeline,
                                        "survival": fitter.survival_function_.iloc[:, 0].to_numpy(),
                                        "ci_lower": band[:, 0], "ci_upper": band[:, 1],
                                        "at_risk": [(duration >= t).sum() for t in timeline],
                                        "events": [(event & (duration == t)).sum() for t in timeline]}))  # fmt: skip
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CURVE_COLUMNS)


def logrank_parts(duration, event, group, strata):
    """Per row, the log-rank score residual of `group` at HR = 1, and the stratified (observed, expected,
    hypergeometric variance) of the group's events.

    Residual of row i: event_i (x_i - xbar(t_i)) - sum over event times t <= t_i of d_t / n_t (x_i - xbar_t),
    with xbar_t the share of the group among those at risk in i's stratum; the residuals sum to O - E."""
    residuals = np.zeros(len(duration))
    observed = expected = variance = 0.0
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        t_i, d_i, x_i = duration[rows], event[rows] == 1, group[rows].astype(float)
        compensator = np.zeros(len(rows))
        for t in np.unique(t_i[d_i]):
            at_risk = t_i >= t
            n, d = at_risk.sum(), (d_i & (t_i == t)).sum()
            share = x_i[at_risk].mean()
            dying = d_i & (t_i == t)
            residuals[rows[dying]] += x_i[dying] - share
            compensator[at_risk] += d / n * (x_i[at_risk] - share)
            observed += x_i[dying].sum()
            expected += d * share
            if n > 1:
                variance += d * share * (1 - share) * (n - d) / (n - 1)
        residuals[rows] -= compensator
    return residuals, observed, expected, variance


def trained_vs_withheld(rows, strata_columns, clustered):
    """One log-rank row: trained (`seen` = 1) vs withheld, stratified by `strata_columns`."""
    duration, event, seen = rows["duration"].to_numpy(), rows["event"].to_numpy(), rows["seen"].to_numpy()
    strata = rows.groupby(strata_columns, sort=True).ngroup().to_numpy()
    residuals, observed, expected, variance = logrank_parts(duration, event, seen, strata)
    if clustered:
        variance = float((pd.Series(residuals).groupby(rows["fact_id"].to_numpy()).sum() ** 2).sum())
    counts = {}
    for seen_value, name in EXPOSURES.items():
        members = seen == seen_value
        counts[f"n_{name}"] = int(members.sum())
        counts[f"events_{name}"] = int(event[members].sum())
    total_events = int(event.sum())
    counts.update(expected_trained=expected, expected_withheld=total_events - expected)
    result = {"strata": " x ".join(strata_columns), "variance": "robust, clustered by fact" if clustered else "hypergeometric",
              **counts, "test_statistic": np.nan, "p": np.nan, "note": ""}  # fmt: skip
    if variance > 0:
        statistic = (observed - expected) ** 2 / variance
        result.update(test_statistic=float(statistic), p=float(chi2.sf(statistic, 1)))
    else:
        result["note"] = "no comparable events: trained and withheld never share a risk set of one stratum"
    if min(counts["expected_trained"], counts["expected_withheld"]) < 5:
        result["note"] = (result["note"] + "; " if result["note"] else "") + "fewer than 5 expected events in a group"
    return result


def degradation_comparison(table, horizon):
    """(curves, log-rank table) of a degradation endpoint's survival table."""
    tests = []
    for scope, rows in seed_scopes(table):
        pooled = scope == POOLED and rows["seed"].nunique() > 1
        strata = ["seed", "ontology"] if pooled else ["ontology"]
        tests.append({"seed": scope, **trained_vs_withheld(rows, strata, clustered=pooled)})
    return exposure_curves(table, horizon), pd.DataFrame(tests, columns=LOGRANK_COLUMNS)
