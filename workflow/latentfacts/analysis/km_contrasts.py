"""Kaplan-Meier contrasts between knowledge classes, a headline that needs no proportional hazards.

Per knowledge class: the median event time and the restricted mean event-free time (RMST, epochs 0..horizon);
and the RMST difference latent - unknown (negative: latent facts have their event sooner). Pooled over seeds
(rows stacked) and per seed; 95% intervals from the fact-cluster bootstrap (`bootstrap`).
"""

import pandas as pd

from latentfacts.analysis.bootstrap import fact_weights, interval, median_time, restricted_mean, survival_curves, weighted_counts
from latentfacts.analysis.cox import canonical_order
from latentfacts.analysis.effects import seed_scopes

CONTRAST = ("latent", "unknown")
CONTRAST_COLUMNS = ["seed", "measure", "group", "n", "events", "horizon", "estimate", "ci_lower", "ci_upper", "replicates"]


def class_summaries(rows, weights, horizon):
    """{class: (n, events, rmst per replicate, median per replicate)} for each knowledge class present."""
    summaries = {}
    for knowledge in sorted(rows["knowledge"].unique()):
        members = (rows["knowledge"] == knowledge).to_numpy()
        at_risk, events = weighted_counts(weights[:, members], rows["duration"].to_numpy()[members], rows["event"].to_numpy()[members], horizon)
        curves = survival_curves(at_risk, events)
        summaries[knowledge] = (int(members.sum()), int(rows["event"].to_numpy()[members].sum()), restricted_mean(curves, horizon), median_time(curves))
    return summaries


def km_contrasts(table, horizon, replicates, seed):
    """The contrasts table (CONTRAST_COLUMNS) of one endpoint's survival table."""
    table = canonical_order(table)  # sums in one order: the row order of the table changes no digit
    out = []
    for scope, rows in seed_scopes(table):
        rows = rows.reset_index(drop=True)
        summaries = class_summaries(rows, fact_weights(rows["fact_id"], replicates, seed), horizon)
        base = {"seed": scope, "horizon": horizon, "replicates": replicates}
        for knowledge, (n, events, rmst, median) in summaries.items():
            for measure, values in [("median", median), ("rmst", rmst)]:
                estimate, lower, upper = interval(values)
                out.append({**base, "measure": measure, "group": knowledge, "n": n, "events": events,
                            "estimate": estimate, "ci_lower": lower, "ci_upper": upper})  # fmt: skip
        if all(name in summaries for name in CONTRAST):
            (n_a, events_a, rmst_a, _), (n_b, events_b, rmst_b, _) = (summaries[name] for name in CONTRAST)
            estimate, lower, upper = interval(rmst_a - rmst_b)
            out.append({**base, "measure": "rmst_difference", "group": " - ".join(CONTRAST), "n": n_a + n_b,
                        "events": events_a + events_b, "estimate": estimate, "ci_lower": lower, "ci_upper": upper})  # fmt: skip
    return pd.DataFrame(out, columns=CONTRAST_COLUMNS).astype({"estimate": float, "ci_lower": float, "ci_upper": float})

