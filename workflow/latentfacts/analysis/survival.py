"""Survival tables (duration, event, covariates) for the study's endpoints, from trajectories.

Time is counted in epochs. Every fact is observed at epochs 0..E; epoch 0 is the base model and
decides the risk set, events can happen at epochs 1..E, and a fact without an event is
right-censored at the last epoch at which an event could still be seen (E, or E - k + 1 for the
`stable` variant, whose event needs k correct epochs to be confirmed).
"""

import numpy as np
import pandas as pd

ENDPOINTS = ["acquisition", "acquisition_stable", "generalization", "degradation"]
DESCRIPTORS = ["ontology", "split", "bin", "knowledge"]


def check_stable_k(stable_k, epochs):
    """An event of the `stable` variant must fit in the observed epochs (called at DAG build time)."""
    if stable_k > epochs:
        raise ValueError(
            f"config key analysis.stable_k ({stable_k}) exceeds finetune.epochs ({epochs}): "
            "no run of stable_k correct epochs can be observed"
        )


def horizon(endpoint, epochs, stable_k):
    """Last epoch at which an event of `endpoint` can be observed (the censoring time)."""
    return epochs - stable_k + 1 if endpoint == "acquisition_stable" else epochs


def model_columns(covariates, ontology_levels, endpoint):
    """Names of the model columns for config `analysis.covariates`; the first ontology level is the reference."""
    columns = []
    for name in covariates:
        if name == "ontology":
            columns += [f"ontology_{level}" for level in ontology_levels[1:]]
        else:
            columns.append(name)
    if endpoint == "degradation":
        columns.append("seen")
    return columns


def design(facts, covariates, ontology_levels, endpoint):
    """The model columns of `facts` (one row per fact, trajectory columns), transformed as they enter the models."""
    columns = {}
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
    if endpoint == "degradation":
        columns["seen"] = (facts["split"] == "train").astype(int)
    return pd.DataFrame(columns, index=facts.index)


def first_event(hits):
    """(duration, event) from a facts x times boolean matrix whose column j is time j + 1.

    The event time is the first True column; a row without one is censored at the last time."""
    any_hit = hits.any(axis=1)
    duration = np.where(any_hit, hits.argmax(axis=1) + 1, hits.shape[1])
    return duration, any_hit.astype(int)


def stable_runs(correct, stable_k):
    """hits[:, j] is True when epochs j+1 .. j+k are all correct (j + k <= E)."""
    later = correct[:, 1:]
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
    raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {ENDPOINTS}")


def survival_table(trajectories, endpoint, covariates, ontology_levels, stable_k):
    """fact_id, seed, duration, event, descriptors and model columns; one row per seed x fact at risk."""
    correct = trajectories.pivot(index=["seed", "fact_id"], columns="epoch", values="correct").sort_index(axis=1)
    facts = trajectories[trajectories["epoch"] == 0].set_index(["seed", "fact_id"]).loc[correct.index]
    at_risk, hits = risk_set_and_hits(endpoint, correct.to_numpy(bool), facts["split"].to_numpy(), stable_k)
    duration, event = first_event(hits[at_risk])
    facts = facts[at_risk]
    table = pd.DataFrame(
        {
            "fact_id": facts.index.get_level_values("fact_id"),
            "seed": facts.index.get_level_values("seed"),
            "duration": duration,
            "event": event,
        }
    )
    descriptors = facts[DESCRIPTORS].reset_index(drop=True)
    model = design(facts, covariates, ontology_levels, endpoint).reset_index(drop=True)
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
