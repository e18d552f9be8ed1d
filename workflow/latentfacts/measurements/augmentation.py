"""Augmentation arm (after Allen-Zhu & Li): one fixed template vs all paraphrases.

The main run and the augmentation arm differ only in the template mode (template 0 only vs rotating
through all paraphrases). Each is probed every epoch on template 0, which both train on (memorization),
and on held-out paraphrases that no arm trains on (semantic). The gap between the two recalls says how
much of what was learned is tied to the trained wording. Acquisition under each arm reuses the analysis stage's survival
table and Cox fit.
"""

import pandas as pd

from latentfacts.analysis.cox import fit_cox
from latentfacts.analysis.survival import model_columns, survival_table

ARM_COLUMN = "single_template"


def recall_gap(memorization, semantic):
    """Per arm, seed and epoch: recall on the trained template, recall on the held-out templates (all
    held-out prompts pooled), and gap = memorization - semantic.

    `memorization`: arm, seed, epoch, fact_id, correct. `semantic`: the same plus `template`; both
    restricted to the facts the arms train on."""
    keys = ["arm", "seed", "epoch"]
    memo = memorization.groupby(keys)["correct"].agg(memorization_recall="mean", n_facts="size")
    sem = semantic.groupby(keys)["correct"].agg(semantic_recall="mean", n_semantic="size")
    table = memo.join(sem, how="inner").reset_index()
    table["gap"] = table["memorization_recall"] - table["semantic_recall"]
    return table


def acquisition_by_arm(trajectories, modes, covariates, ontology_levels, stable_k, penalizer, ph_alpha):
    """Cox models of acquisition (first correct epoch on the evaluation template) for each arm, and one
    on both arms pooled with the indicator `single_template` (1 = trained on template 0 only).

    `trajectories`: {arm: trajectory table of the analysis stage}; `modes`: {arm: "first" | "all"}.
    Returns (hazard-ratio table with an `arm` column, where `pooled` is the joint model; {arm: model facts})."""
    columns = model_columns(covariates, ontology_levels, "acquisition")
    tables = {
        arm: survival_table(t, "acquisition", covariates, ontology_levels, stable_k) for arm, t in trajectories.items()
    }
    pooled = pd.concat(
        [t.assign(**{ARM_COLUMN: int(modes[arm] == "first")}) for arm, t in tables.items()], ignore_index=True
    )
    models = {arm: (table, columns) for arm, table in tables.items()}
    models["pooled"] = (pooled, [*columns, ARM_COLUMN])
    ratios, facts = [], {}
    for arm, (table, arm_columns) in models.items():
        hr, _, model = fit_cox(table, arm_columns, penalizer, ph_alpha)
        ratios.append(hr.assign(arm=arm))
        facts[arm] = model
    return pd.concat(ratios, ignore_index=True), facts
