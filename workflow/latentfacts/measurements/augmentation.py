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
from latentfacts.analysis.trajectories import build_trajectories

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


def compare_template_modes(pairs, covariates, baseline, evals, probes, modes, analysis, paths):
    """The augmentation measurement: recall gap per arm, seed and epoch, and acquisition Cox models per arm.

    `evals`: {(arm, seed, epoch): eval table}; `probes`: {(arm, seed): held-out template scores};
    `modes`: {arm: "first" | "all"}; `analysis`: covariates, stable_k, cox_penalizer, ph_alpha (as config
    section `analysis`); `paths`: "pairs", "covariates", "baseline" and each key of `evals` -> its file, for
    errors. Both measures are restricted to the trained facts. Returns (gaps, hazard ratios, {arm: model facts})."""
    trained = pairs.loc[pairs["split"] == "train", ["fact_id"]]
    by_arm = {}
    for (arm, seed, epoch), table in evals.items():
        by_arm.setdefault(arm, {})[(seed, epoch)] = table
    trajectories = {
        arm: build_trajectories(pairs, covariates, baseline, tables, {**paths, **{k: paths[(arm, *k)] for k in tables}})
        for arm, tables in by_arm.items()
    }
    memorization = pd.concat([t.assign(arm=arm) for arm, t in trajectories.items()]).merge(trained, on="fact_id")
    semantic = pd.concat([table.assign(arm=arm) for (arm, _), table in probes.items()]).merge(trained, on="fact_id")
    gaps = recall_gap(memorization, semantic)
    gaps["train_templates"] = gaps["arm"].map(modes)
    ratios, models = acquisition_by_arm(
        trajectories,
        modes,
        analysis["covariates"],
        sorted(pairs["ontology"].unique()),
        analysis["stable_k"],
        analysis["cox_penalizer"],
        analysis["ph_alpha"],
    )
    return gaps, ratios, models
