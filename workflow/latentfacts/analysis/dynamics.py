"""Learning dynamics from the acquisition table: per-epoch acquisition rate, its peak, and convergence.

rate(e)        = facts first correct at epoch e / facts still at risk (not yet acquired) at e
cumulative(e)  = facts acquired by epoch e / facts in the risk set at epoch 0
peak rate      = max over e of rate(e); peak epoch = the first epoch with that rate
convergence    = first epoch with cumulative(e) >= fraction * cumulative(E) (undefined if nothing is acquired)
Computed per knowledge class (and for all facts), per seed and pooled over seeds ("pooled").
"""

import numpy as np
import pandas as pd

POOLED = "pooled"
ALL = "all"


def scopes(table):
    """(seed label, rows) for each seed and for the seeds pooled; within each, per class and all."""
    seeds = [(str(seed), rows) for seed, rows in table.groupby("seed", sort=True)] + [(POOLED, table)]
    for seed, rows in seeds:
        yield seed, ALL, rows
        for knowledge, members in rows.groupby("knowledge", sort=True):
            yield seed, knowledge, members


def rate_curve(rows, horizon):
    """At risk, acquired, rate and cumulative fraction for epochs 1..horizon."""
    epochs = np.arange(1, horizon + 1)
    duration, event = rows["duration"].to_numpy(), rows["event"].to_numpy() == 1
    at_risk = np.array([(duration >= e).sum() for e in epochs])
    acquired = np.array([((duration == e) & event).sum() for e in epochs])
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(at_risk > 0, acquired / at_risk, np.nan)
    return pd.DataFrame(
        {
            "epoch": epochs,
            "at_risk": at_risk,
            "acquired": acquired,
            "rate": rate,
            "cumulative": np.cumsum(acquired) / max(len(rows), 1),
        }
    )


def curve_summary(curve, convergence_fraction):
    final = curve["cumulative"].iloc[-1]
    rates = curve["rate"]
    peak_rate = rates.max() if rates.notna().any() else np.nan
    reached = curve.loc[curve["cumulative"] >= convergence_fraction * final, "epoch"]
    return {
        "acquired": int(curve["acquired"].sum()),
        "final_fraction": float(final),
        "peak_rate": float(peak_rate),
        "peak_epoch": int(curve.loc[rates.idxmax(), "epoch"]) if rates.notna().any() else np.nan,
        "convergence_epoch": int(reached.iloc[0]) if final > 0 else np.nan,
    }


def dynamics(table, horizon, convergence_fraction):
    """(curves, summary): per seed scope and knowledge class, epoch-wise rates and their summary measures."""
    curves, summaries = [], []
    for seed, knowledge, rows in scopes(table):
        curve = rate_curve(rows, horizon)
        curves.append(curve.assign(seed=seed, knowledge=knowledge))
        summaries.append({"seed": seed, "knowledge": knowledge, "n": len(rows), **curve_summary(curve, convergence_fraction)})
    curve_columns = ["seed", "knowledge", "epoch", "at_risk", "acquired", "rate", "cumulative"]
    curves = pd.concat(curves, ignore_index=True)[curve_columns] if curves else pd.DataFrame(columns=curve_columns)
    return curves, pd.DataFrame(summaries)
