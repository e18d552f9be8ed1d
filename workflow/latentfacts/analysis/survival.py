"""Survival tables (duration, event, covariates) for the study's endpoints, from trajectories.

Time is counted in epochs. Every fact is observed at epochs 0..E; epoch 0 is the base model and
decides the risk set, events can happen at epochs 1..E, and a fact without an event is
right-censored at the last epoch at which an event could still be seen (E, or E - k + 1 for the
variants whose event needs a run of k epochs to be confirmed: `acquisition_stable`, k correct epochs;
`degradation_persistent`, k wrong epochs).
"""

import numpy as np
import pandas as pd

ENDPOINTS = ["acquisition", "acquisition_stable", "generalization", "degradation", "degradation_persistent"]
# endpoints whose event is a run of stable_k epochs, and those whose risk set is the baseline-correct facts
RUN_ENDPOINTS = ["acquisition_stable", "degradation_persistent"]
DEGRADATION_ENDPOINTS = ["degradation", "degradation_persistent"]
# the endpoints in which a fact's knowledge class varies (degradation's facts are all known)
CLASS_ENDPOINTS = ["acquisition", "acquisition_stable", "generalization"]
DESCRIPTORS = ["ontology", "split", "bin", "knowledge"]
# the exposure of the sensitivity model: replaces the latent flag by log10 of the baseline sampling probability
CONTINUOUS_EXPOSURE = "log10_p_sample"


def check_stable_k(stable_k, epochs):
    """An event of the `stable` variant must fit in the observed epochs (called at DAG build time)."""
    if stable_k > epochs:
        raise ValueError(
            f"config key analysis.stable_k ({stable_k}) exceeds finetune.epochs ({epochs}): "
            "no run of stable_k correct epochs can be observed"
        )


def check_epoch_bands(bands):
    """Epoch bands are consecutive [first, last] ranges from epoch 1 (called at DAG build time)."""
    expected_first = 1
    for i, (first, last) in enumerate(bands):
        if first != expected_first or last < first:
            raise ValueError(
                f"config key analysis.epoch_bands: band {i} is [{first}, {last}]; expected [{expected_first}, last] "
                f"with last >= {expected_first} (bands are consecutive epoch ranges starting at epoch 1)"
            )
        expected_first = last + 1


def bands_within(bands, horizon):
    """The bands adapted to an endpoint's horizon: a band starting after it is dropped and the last band
    kept ends at it, so every event time belongs to exactly one band."""
    kept = [[first, min(last, horizon)] for first, last in bands if first <= horizon]
    kept[-1][1] = horizon
    return [tuple(band) for band in kept]


def band_table(table, first, last):
    """The rows of a survival table still at risk at epoch `first`, followed until epoch `last`.

    With every coefficient band-specific, the Cox partial likelihood of the episode-split data is a
    product over bands, each factor involving only its band's events and risk sets, so a Cox fit of
    this table gives the band's hazard ratios of the time-varying model (estimates and SEs)."""
    rows = table[table["duration"] >= first].copy()
    rows["event"] = ((rows["event"] == 1) & (rows["duration"] <= last)).astype(int)
    rows["duration"] = rows["duration"].clip(upper=last)
    return rows.reset_index(drop=True)


def horizon(endpoint, epochs, stable_k):
    """Last epoch at which an event of `endpoint` can be observed (the censoring time)."""
    return epochs - stable_k + 1 if endpoint in RUN_ENDPOINTS else epochs


def model_columns(covariates, ontology_levels, endpoint):
    """Names of the model columns for config `analysis.covariates`; the first ontology level is the reference."""
    columns = []
    for name in covariates:
        if name == "ontology":
            columns += [f"ontology_{level}" for level in ontology_levels[1:]]
        else:
            columns.append(name)
    if endpoint in DEGRADATION_ENDPOINTS:
        columns.append("seen")
    return columns


def sensitivity_columns(columns):
    """`columns` with the latent flag replaced by the continuous exposure (log10 baseline sampling probability)."""
    return [CONTINUOUS_EXPOSURE if name == "latent" else name for name in columns]


def design(facts, covariates, ontology_levels, endpoint, p_sample_floor=None):
    """The model columns of `facts` (one row per fact, trajectory columns), transformed as they enter the models;
    with `p_sample_floor`, also the continuous exposure of the sensitivity model: log10 of the baseline sampling
    probability, floored there (below it a probability only says "not sampled")."""
    columns = {}
    if p_sample_floor is not None:
        p_sample = facts["baseline_p_sample"].astype(float)
        columns[CONTINUOUS_EXPOSURE] = np.log10(np.maximum(p_sample, p_sample_floor))
    for name in covariates:
        if name == "latent":
            columns[name] = (facts["knowledge"] == "latent").astype(int)
        elif name == "p_sample":
            columns[name] = facts["baseline_p_sample"].astype(float)
        elif name.startswith("log1p_"):
            columns[name] = np.log1p(facts[name.removeprefix("log1p_")].astype(float))
        elif name == "ontology":
            for level in ontology_levels[1:]:
                columns[f"ontology_{level}"] = (facts["ontology"] == level).astype(int)
        else:
            columns[name] = facts[name].astype(float)
    if endpoint in DEGRADATION_ENDPOINTS:
        columns["seen"] = (facts["split"] == "train").astype(int)
    return pd.DataFrame(columns, index=facts.index)


def first_event(hits):
    """(duration, event) from a facts x times boolean matrix whose column j is time j + 1.

    The event time is the first True column; a row without one is censored at the last time."""
    any_hit = hits.any(axis=1)
    duration = np.where(any_hit, hits.argmax(axis=1) + 1, hits.shape[1])
    return duration, any_hit.astype(int)


def stable_runs(marks, stable_k):
    """hits[:, j] is True when `marks` holds at epochs j+1 .. j+k (j + k <= E)."""
    later = marks[:, 1:]
    n_starts = later.shape[1] - stable_k + 1
    return np.stack([later[:, j : j + stable_k].all(axis=1) for j in range(n_starts)], axis=1)


def risk_set_and_hits(endpoint, correct, split, stable_k):
    """Which facts are at risk of `endpoint` and, per later epoch, whether its event holds."""
    at_baseline = correct[:, 0]
    if endpoint == "acquisition":
        return ~at_baseline & (split == "train"), correct[:, 1:]
    if endpoint == "acquisition_stable":
        return ~at_baseline & (split == "train"), stable_runs(correct, stable_k)
    if endpoint == "generalization":
        return ~at_baseline & (split == "withheld"), correct[:, 1:]
    if endpoint == "degradation":
        return at_baseline, ~correct[:, 1:]
    if endpoint == "degradation_persistent":
        return at_baseline, stable_runs(~correct, stable_k)
    raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {ENDPOINTS}")


def reverts(correct, duration, event):
    """Whether a fact is wrong again at an epoch after its first correct epoch `duration` (events only)."""
    epochs = np.arange(correct.shape[1])
    after_hit = epochs[None, :] > duration[:, None]
    return (event == 1) & (after_hit & ~correct).any(axis=1)


def survival_table(trajectories, endpoint, covariates, ontology_levels, stable_k, p_sample_floor=None):
    """fact_id, seed, duration, event, descriptors and model columns; one row per seed x fact at risk.
    The acquisition table adds `reverted` (the first hit is wrong again at a later epoch); with
    `p_sample_floor`, every table adds the sensitivity model's exposure (see `design`)."""
    correct = trajectories.pivot(index=["seed", "fact_id"], columns="epoch", values="correct").sort_index(axis=1)
    facts = trajectories[trajectories["epoch"] == 0].set_index(["seed", "fact_id"]).loc[correct.index]
    at_risk, hits = risk_set_and_hits(endpoint, correct.to_numpy(bool), facts["split"].to_numpy(), stable_k)
    duration, event = first_event(hits[at_risk])
    extra = {}
    if endpoint == "acquisition":
        extra["reverted"] = reverts(correct.to_numpy(bool)[at_risk], duration, event).astype(int)
    facts = facts[at_risk]
    table = pd.DataFrame(
        {
            "fact_id": facts.index.get_level_values("fact_id"),
            "seed": facts.index.get_level_values("seed"),
            "duration": duration,
            "event": event,
            **extra,
        }
    )
    descriptors = facts[DESCRIPTORS].reset_index(drop=True)
    model = design(facts, covariates, ontology_levels, endpoint, p_sample_floor).reset_index(drop=True)
    return pd.concat([table, descriptors, model], axis=1)


def usable_covariates(table, columns):
    """Split `columns` into those a model can estimate in `table` and {dropped column: reason} for the
    rest: constant columns, columns with missing values, and columns that are a linear combination of
    the intercept and the columns kept before them (e.g. `seen` when every seen fact is of one
    ontology), which would make the information matrix singular."""
    kept, dropped = [], {}
    design = np.ones((len(table), 1))
    for column in columns:
        if table[column].nunique(dropna=False) < 2:
            dropped[column] = f"constant ({table[column].iloc[0] if len(table) else 'no rows'}) in this endpoint's table"
        elif table[column].isna().any():
            dropped[column] = "has missing values"
        else:
            candidate = np.column_stack([design, table[column].to_numpy(dtype=float)])
            if np.linalg.matrix_rank(candidate) < candidate.shape[1]:
                dropped[column] = f"collinear with the intercept and {', '.join(kept) or 'no other covariate'}"
            else:
                kept.append(column)
                design = candidate
    return kept, dropped


def unfit_reason(table, covariates):
    """Why a model cannot be fitted to `table` with `covariates`, or None when it can."""
    events = int(table["event"].sum())
    if events == 0:
        return f"no events among {len(table)} facts at risk"
    if len(table) <= len(covariates) + 1:
        return f"too few facts at risk ({len(table)}) for {len(covariates)} covariates"
    return None
