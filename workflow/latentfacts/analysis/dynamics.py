"""Learning dynamics from the acquisition table: per-epoch acquisition rate, its peak, convergence and reversion.

rate(e)        = facts first correct at epoch e / facts still at risk (not yet acquired) at e
cumulative(e)  = facts acquired by epoch e / facts in the risk set at epoch 0
peak rate      = max of rate(e) over the epochs with at least `min_at_risk` facts at risk (a rate of 3 of 3
                 in a tail says nothing); peak epoch = the first epoch with it
convergence    = first epoch with cumulative(e) >= fraction * cumulative(E) (classes of at least
                 `min_at_risk` facts that acquire something)
reverted share = first hits before the last epoch that are wrong again at a later epoch
Per knowledge class (and all facts), per seed and pooled over seeds ("pooled"), with fact-cluster bootstrap
95% intervals, and the differences latent - unknown with theirs.
"""

import numpy as np
import pandas as pd

from latentfacts.analysis.bootstrap import fact_weights, interval, weighted_counts
from latentfacts.analysis.cox import canonical_order
from latentfacts.analysis.effects import seed_scopes
from latentfacts.analysis.km_contrasts import CONTRAST

ALL = "all"
CURVE_COLUMNS = ["seed", "knowledge", "epoch", "at_risk", "acquired", "rate", "cumulative", "counted"]
SUMMARY_COLUMNS = ["seed", "knowledge", "measure", "n", "estimate", "ci_lower", "ci_upper", "note"]
DIFFERENCES = ["final_fraction", "peak_rate", "peak_epoch", "convergence_epoch"]


def class_members(rows):
    """(class, boolean mask) for all facts and each knowledge class present."""
    yield ALL, np.ones(len(rows), bool)
    for knowledge in sorted(rows["knowledge"].unique()):
        yield knowledge, (rows["knowledge"] == knowledge).to_numpy()


def replicate_measures(weights, rows, horizon, min_at_risk, convergence_fraction):
    """({measure: values per replicate}, counted epochs mask, notes) of one class's rows."""
    duration, event = rows["duration"].to_numpy(), rows["event"].to_numpy()
    at_risk, acquired = weighted_counts(weights, duration, event, horizon)
    counted = at_risk[0] >= min_at_risk
    cumulative = np.cumsum(acquired, axis=1) / weights.sum(axis=1, keepdims=True)
    final = cumulative[:, -1]
    measures = {"final_fraction": final}
    notes = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(counted[None, :] & (at_risk > 0), acquired / at_risk, np.nan)
    if counted.any():
        filled = np.where(np.isnan(rate), -np.inf, rate)
        measures["peak_rate"] = np.nanmax(rate, axis=1)
        measures["peak_epoch"] = (filled.argmax(axis=1) + 1).astype(float)
        epochs = np.flatnonzero(counted) + 1
        notes["peak_rate"] = notes["peak_epoch"] = f"epochs {epochs.min()}-{epochs.max()} have >= {min_at_risk} at risk"
    else:
        notes["peak_rate"] = notes["peak_epoch"] = f"fewer than {min_at_risk} facts at risk at every epoch"
    if len(rows) >= min_at_risk and final[0] > 0:
        reached = cumulative >= convergence_fraction * final[:, None]
        measures["convergence_epoch"] = np.where(final > 0, reached.argmax(axis=1) + 1, np.nan).astype(float)
    else:
        notes["convergence_epoch"] = f"fewer than {min_at_risk} facts" if len(rows) < min_at_risk else "nothing acquired"
    early_hits = (event == 1) & (duration < horizon)
    if early_hits.any():
        reverted = early_hits & (rows["reverted"].to_numpy() == 1)
        with np.errstate(invalid="ignore", divide="ignore"):  # a replicate may draw no first hit: NaN, left out
            measures["reverted_share"] = (weights @ reverted) / (weights @ early_hits)
        notes["reverted_share"] = f"{int(early_hits.sum())} first hits before epoch {horizon}"
    else:
        notes["reverted_share"] = f"no first hit before epoch {horizon}"
    return measures, counted, notes


def rate_curve(rows, horizon, counted):
    """At risk, acquired, rate and cumulative fraction for epochs 1..horizon (unweighted)."""
    at_risk, acquired = weighted_counts(np.ones((1, len(rows))), rows["duration"].to_numpy(), rows["event"].to_numpy(), horizon)
    at_risk, acquired = at_risk[0].astype(int), acquired[0].astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(at_risk > 0, acquired / at_risk, np.nan)
    return pd.DataFrame({"epoch": np.arange(1, horizon + 1), "at_risk": at_risk, "acquired": acquired, "rate": rate,
                         "cumulative": np.cumsum(acquired) / max(len(rows), 1), "counted": counted})  # fmt: skip


def summary_rows(scope, knowledge, n, measures, notes):
    rows = []
    for measure in [*DIFFERENCES, "reverted_share"]:
        estimate, lower, upper = interval(measures[measure]) if measure in measures else (np.nan, np.nan, np.nan)
        rows.append({"seed": scope, "knowledge": knowledge, "measure": measure, "n": n, "estimate": estimate,
                     "ci_lower": lower, "ci_upper": upper, "note": notes.get(measure, "")})  # fmt: skip
    return rows


def dynamics(table, horizon, convergence_fraction, min_at_risk, replicates, seed):
    """(curves, summary): per seed scope and knowledge class, epoch-wise rates and their summary measures."""
    table = canonical_order(table)  # sums in one order: the row order of the table changes no digit
    curves, summaries = [], []
    for scope, rows in seed_scopes(table):
        rows = rows.reset_index(drop=True)
        weights = fact_weights(rows["fact_id"], replicates, seed)
        by_class = {}
        for knowledge, members in class_members(rows):
            measures, counted, notes = replicate_measures(weights[:, members], rows[members], horizon, min_at_risk, convergence_fraction)
            by_class[knowledge] = measures
            curves.append(rate_curve(rows[members], horizon, counted).assign(seed=scope, knowledge=knowledge))
            summaries += summary_rows(scope, knowledge, int(members.sum()), measures, notes)
        if all(name in by_class for name in CONTRAST):
            first, second = (by_class[name] for name in CONTRAST)
            difference = {m: first[m] - second[m] for m in DIFFERENCES if m in first and m in second}
            n = int(rows["knowledge"].isin(CONTRAST).sum())
            notes = {m: "a measure is missing for one class" for m in DIFFERENCES if m not in difference}
            summaries += summary_rows(scope, " - ".join(CONTRAST), n, difference, notes)[: len(DIFFERENCES)]
    curves = pd.concat(curves, ignore_index=True)[CURVE_COLUMNS] if curves else pd.DataFrame(columns=CURVE_COLUMNS)
    return curves, pd.DataFrame(summaries, columns=SUMMARY_COLUMNS)

