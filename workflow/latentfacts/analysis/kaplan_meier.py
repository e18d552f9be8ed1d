"""Kaplan-Meier curves by knowledge class with 95% bands, log-rank test and restricted mean survival time.

The log-rank p is a seeded permutation p when a class expects too few events (see `logrank`)."""

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter

from latentfacts.analysis.cox import canonical_order
from latentfacts.analysis.logrank import logrank_test

GROUP = "knowledge"
ALL = "all"
CURVE_COLUMNS = [GROUP, "epoch", "survival", "ci_lower", "ci_upper", "at_risk", "events"]
RMST_COLUMNS = [GROUP, "n", "events", "horizon", "rmst", "rmst_se"]


def fitted_groups(table, horizon):
    """{group: KaplanMeierFitter on epochs 0..horizon} for every knowledge class present and for all facts."""
    groups = {ALL: table, **dict(tuple(table.groupby(GROUP, sort=True)))}
    timeline = np.arange(horizon + 1)
    return {
        name: KaplanMeierFitter(label=name).fit(rows["duration"], rows["event"], timeline=timeline)
        for name, rows in groups.items()
        if len(rows)
    }


def curves(table, fitters):
    """Survival, Greenwood (exponential) 95% band, at risk and events per group and epoch."""
    frames = []
    for name, fitter in fitters.items():
        rows = table if name == ALL else table[table[GROUP] == name]
        times = fitter.survival_function_.index.to_numpy()
        band = fitter.confidence_interval_survival_function_.to_numpy()
        duration, event = rows["duration"].to_numpy(), rows["event"].to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    GROUP: name,
                    "epoch": times.astype(int),
                    "survival": fitter.survival_function_.iloc[:, 0].to_numpy(),
                    "ci_lower": band[:, 0],
                    "ci_upper": band[:, 1],
                    "at_risk": [(duration >= t).sum() for t in times],
                    "events": [((duration == t) & (event == 1)).sum() for t in times],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def logrank(table, permutation):
    """Log-rank test across the knowledge classes present (needs two or more); `permutation` holds
    min_expected, resamples and seed of `logrank_test`."""
    classes = sorted(table[GROUP].unique())
    result = {"groups": ", ".join(classes), "test_statistic": np.nan, "df": np.nan, "p": np.nan, "p_method": "",
              "min_expected": np.nan, "reason": ""}  # fmt: skip
    if len(classes) < 2:
        result["reason"] = f"{len(classes)} knowledge class(es) at risk; the test needs two"
        return result
    if not (table["event"] == 1).any():
        result["reason"] = "no events among the facts at risk; the test needs some"
        return result
    result.update(logrank_test(table["duration"], table["event"], table[GROUP], **permutation))
    return result


def rmst(table, fitters, horizon):
    """Restricted mean event-free time over epochs 0..horizon per group, with its standard error.

    The curve is a step function constant on [t, t + 1), so the area is a sum. The variance is the
    Greenwood-type formula (Klein & Moeschberger 4.5): sum over event epochs t of
    A(t)^2 d / (n (n - d)), with A(t) the area from t to the horizon."""
    rows = []
    for name, fitter in fitters.items():
        members = table if name == ALL else table[table[GROUP] == name]
        steps = fitter.survival_function_.iloc[:horizon, 0].to_numpy()
        area_after = np.cumsum(steps[::-1])[::-1]  # area_after[t] = area from t to the horizon
        duration, event = members["duration"].to_numpy(), members["event"].to_numpy() == 1
        variance = 0.0
        for t in range(1, horizon):
            at_risk, events = (duration >= t).sum(), ((duration == t) & event).sum()
            if events and at_risk > events:
                variance += area_after[t] ** 2 * events / (at_risk * (at_risk - events))
        rows.append(
            {
                GROUP: name,
                "n": len(members),
                "events": int(event.sum()),
                "horizon": horizon,
                "rmst": float(steps.sum()),
                "rmst_se": float(np.sqrt(variance)),
            }
        )
    return pd.DataFrame(rows)


def kaplan_meier(table, horizon, permutation):
    """(curves, log-rank row, RMST table) for one endpoint's survival table (seeds stacked)."""
    if table.empty:
        return pd.DataFrame(columns=CURVE_COLUMNS), logrank(table, permutation), pd.DataFrame(columns=RMST_COLUMNS)
    table = canonical_order(table)
    fitters = fitted_groups(table, horizon)
    return curves(table, fitters), logrank(table, permutation), rmst(table, fitters, horizon)
