"""Degradation of baseline-correct facts, trained vs withheld, as the paper compares it.

Kaplan-Meier curves per exposure (Greenwood 95% bands) and a log-rank test stratified by ontology (each
ontology its own risk sets). Per seed the test is the classic one (R's survdiff; a permutation p when a group
expects few events). Pooled over seeds the strata are seed x ontology and the variance is the fact-clustered
robust one (Lin & Wei; R's coxph(..., cluster =) robust score test): the sum over facts of the squared total of
their rows' score residuals at HR = 1, since a fact's seeds are not independent.
"""

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from scipy.stats import chi2

from latentfacts.analysis.cox import canonical_order
from latentfacts.analysis.effects import POOLED, seed_scopes
from latentfacts.analysis.logrank import logrank_test

EXPOSURES = {1: "trained", 0: "withheld"}
CURVE_COLUMNS = ["seed", "exposure", "epoch", "survival", "ci_lower", "ci_upper", "at_risk", "events"]
LOGRANK_COLUMNS = ["seed", "strata", "variance", "n_trained", "events_trained", "expected_trained", "n_withheld",
                   "events_withheld", "expected_withheld", "test_statistic", "p", "p_method", "note"]  # fmt: skip


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


def logrank_residuals(duration, event, group, strata):
    """Per row, the log-rank score residual of `group` at HR = 1; they sum to the group's observed minus
    expected events.

    Residual of row i: event_i (x_i - xbar(t_i)) - sum over event times t <= t_i of d_t / n_t (x_i - xbar_t),
    with xbar_t the share of the group among those at risk in i's stratum."""
    residuals = np.zeros(len(duration))
    for stratum in np.unique(strata):
        rows = np.flatnonzero(strata == stratum)
        t_i, d_i, x_i = duration[rows], event[rows] == 1, group[rows].astype(float)
        compensator = np.zeros(len(rows))
        for t in np.unique(t_i[d_i]):
            at_risk, dying = t_i >= t, d_i & (t_i == t)
            share = x_i[at_risk].mean()
            residuals[rows[dying]] += x_i[dying] - share
            compensator[at_risk] += dying.sum() / at_risk.sum() * (x_i[at_risk] - share)
        residuals[rows] -= compensator
    return residuals


def shares_a_risk_set(duration, event, group, strata):
    """Whether both groups are at risk at some event time of one stratum (else the test has no information)."""
    for stratum in np.unique(strata):
        rows = strata == stratum
        for time in np.unique(duration[rows & (event == 1)]):
            if len(np.unique(group[rows & (duration >= time)])) == 2:
                return True
    return False


def trained_vs_withheld(rows, strata_columns, clustered, permutation):
    """One log-rank row: trained (`seen` = 1) vs withheld, stratified by `strata_columns`; the classic test
    (`logrank.logrank_test`, a permutation p when a group expects few events), or with `clustered` the
    robust score test whose variance sums each fact's squared total residual."""
    duration, event, seen = rows["duration"].to_numpy(), rows["event"].to_numpy(), rows["seen"].to_numpy()
    strata = rows.groupby(strata_columns, sort=True).ngroup().to_numpy()
    residuals = logrank_residuals(duration, event, seen, strata)
    counts = {}
    for seen_value, name in EXPOSURES.items():
        members = seen == seen_value
        counts[f"n_{name}"] = int(members.sum())
        counts[f"events_{name}"] = int(event[members].sum())
    expected = counts["events_trained"] - residuals.sum()
    counts.update(expected_trained=expected, expected_withheld=int(event.sum()) - expected)
    result = {"strata": " x ".join(strata_columns), **counts, "test_statistic": np.nan, "p": np.nan, "p_method": "", "note": ""}
    if not shares_a_risk_set(duration, event, seen, strata):
        result.update(variance="", note="no comparable events: trained and withheld never share a risk set of one stratum")
        return result
    if clustered:
        variance = float((pd.Series(residuals).groupby(rows["fact_id"].to_numpy()).sum() ** 2).sum())
        statistic = residuals.sum() ** 2 / variance
        result.update(variance="robust, clustered by fact", test_statistic=float(statistic), p=float(chi2.sf(statistic, 1)), p_method="chi-square")
        if min(expected, counts["expected_withheld"]) < permutation["min_expected"]:
            result["note"] = f"fewer than {permutation['min_expected']} expected events in a group"
        return result
    test = logrank_test(duration, event, seen, strata=strata, **permutation)
    result.update(variance="hypergeometric", test_statistic=test["test_statistic"], p=test["p"], p_method=test["p_method"])
    return result


def degradation_comparison(table, horizon, permutation):
    """(curves, log-rank table) of a degradation endpoint's survival table; `permutation` holds
    min_expected, resamples and seed of `logrank.logrank_test`."""
    tests = []
    table = canonical_order(table)
    for scope, rows in seed_scopes(table):
        pooled = scope == POOLED and rows["seed"].nunique() > 1
        strata = ["seed", "ontology"] if pooled else ["ontology"]
        tests.append({"seed": scope, **trained_vs_withheld(rows, strata, pooled, permutation)})
    return exposure_curves(table, horizon), pd.DataFrame(tests, columns=LOGRANK_COLUMNS)
