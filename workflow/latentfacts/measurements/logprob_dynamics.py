"""How each fact's log-probability moves from epoch to epoch (after Chang et al. 2024).

Input is a stacked evaluation table: seed, fact_id, epoch, correct, logprob (epoch 0 = the base model).
Three questions: how much does a fact gain per epoch; when does it gain most (effectivity); and at what
summed log-probability does it first become greedy-correct (is there a threshold?).
"""

import numpy as np
import pandas as pd

KEYS = ["seed", "fact_id"]


def check_epochs(evals):
    """Every (seed, fact) must have the same consecutive epochs 0..E, or gains would span gaps."""
    counts = evals.groupby(KEYS)["epoch"].agg(["min", "max", "count", "nunique"])
    bad = counts[(counts["min"] != 0) | (counts["count"] != counts["max"] + 1) | (counts["nunique"] != counts["count"])]
    if len(bad):
        seed, fact = bad.index[0]
        raise ValueError(
            f"evaluation tables: fact {fact} (seed {seed}) does not have each epoch 0..E exactly once "
            f"({len(bad)} facts affected)"
        )


def logprob_gains(evals):
    """One row per seed x fact x epoch with `gain` = logprob(epoch) - logprob(epoch - 1) (NaN at epoch 0)."""
    check_epochs(evals)
    table = evals.sort_values([*KEYS, "epoch"]).reset_index(drop=True)
    table["gain"] = table.groupby(KEYS)["logprob"].diff()
    return table


def effectivity(gains):
    """Per seed x fact: the epoch of the largest gain and its value, and the log-probability at the first
    greedy-correct epoch (with the epoch before it, the last time the fact was still wrong).

    Ties in the largest gain go to the earliest epoch. A fact never correct has NaN there; a fact correct
    at epoch 0 has first_correct_epoch 0 and no "before" value.
    """
    trained = gains[gains["epoch"] > 0]
    best = trained.loc[trained.groupby(KEYS)["gain"].idxmax(), [*KEYS, "epoch", "gain"]]
    best = best.rename(columns={"epoch": "best_epoch", "gain": "best_gain"})

    ordered = gains.sort_values([*KEYS, "epoch"])
    previous = ordered.groupby(KEYS)["logprob"].shift()
    first = ordered.assign(logprob_before=previous)[ordered["correct"].astype(bool)].groupby(KEYS).head(1)
    first = first[[*KEYS, "epoch", "logprob", "logprob_before"]].rename(
        columns={"epoch": "first_correct_epoch", "logprob": "logprob_at_first_correct"}
    )
    facts = gains[KEYS].drop_duplicates()
    return facts.merge(best, on=KEYS, how="left").merge(first, on=KEYS, how="left").reset_index(drop=True)


def best_threshold(logprob, correct):
    """The cut tau for the rule `correct iff logprob > tau` that classifies the most evaluations right.

    Returns (tau, accuracy). tau lies halfway between two neighbouring observed values, so it is
    not tied to a particular row.
    """
    order = np.argsort(logprob, kind="stable")
    values = np.asarray(logprob, dtype=float)[order]
    labels = np.asarray(correct, dtype=bool)[order]
    n = len(values)
    # Cut after position i (i = 0..n): rows < i are called wrong, rows >= i correct.
    wrong_below = np.concatenate([[0], np.cumsum(~labels)])
    correct_above = labels.sum() - np.concatenate([[0], np.cumsum(labels)])
    hits = wrong_below + correct_above
    # Only cut between distinct values, so equal log-probabilities get the same call.
    valid = np.concatenate([[True], values[1:] != values[:-1], [True]])
    cut = int(np.argmax(np.where(valid, hits, -1)))
    if cut == 0:
        tau = values[0] - 1.0
    elif cut == n:
        tau = values[-1] + 1.0
    else:
        tau = (values[cut - 1] + values[cut]) / 2
    return float(tau), float(hits[cut] / n)


def threshold_summary(gains, effect):
    """Distribution of the log-probability at which facts first become correct during training
    (facts already correct at epoch 0 excluded), and the best single logprob cut over all evaluations."""
    acquired = effect[effect["first_correct_epoch"] > 0]
    at_first = acquired["logprob_at_first_correct"].to_numpy()
    quantiles = [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0]
    tau, accuracy = best_threshold(gains["logprob"].to_numpy(), gains["correct"].to_numpy())
    summary = {
        "n_facts": int(len(effect)),
        "n_acquired_in_training": int(len(acquired)),
        "logprob_at_first_correct_quantiles": (
            {f"q{int(q * 100):02d}": float(np.quantile(at_first, q)) for q in quantiles} if len(at_first) else {}
        ),
        "logprob_before_first_correct_median": (float(acquired["logprob_before"].median()) if len(acquired) else None),
        "best_threshold": tau,
        "best_threshold_accuracy": accuracy,
        "majority_accuracy": float(max(gains["correct"].mean(), 1 - gains["correct"].mean())),
        "n_evaluations": int(len(gains)),
    }
    return summary


def gain_by_epoch(gains, by=("seed", "split")):
    """Mean and quartiles of the gain per epoch (and group), for the figure and the report."""
    keys = [*[b for b in by if b in gains], "epoch"]
    trained = gains[gains["epoch"] > 0]
    grouped = trained.groupby(keys)["gain"]
    return pd.DataFrame(
        {
            "mean_gain": grouped.mean(),
            "q25": grouped.quantile(0.25),
            "median": grouped.median(),
            "q75": grouped.quantile(0.75),
            "n": grouped.size(),
        }
    ).reset_index()
