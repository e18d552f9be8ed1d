"""Memorization vs semantic recall per epoch for each training arm, and acquisition Cox models per arm."""

import json

import pandas as pd

from latentfacts.measurements.augmentation import acquisition_by_arm, recall_gap
from latentfacts.analysis.figures import save
from latentfacts.measurements.figures import augmentation
from latentfacts.rulelog import log_to
from latentfacts.analysis.trajectories import build_trajectories


def main(smk):
    config = smk.config
    pairs = pd.read_parquet(smk.input.pairs)
    covariates = pd.read_parquet(smk.input.covariates)
    baseline = pd.read_parquet(smk.input.baseline)
    trained = pairs.loc[pairs["split"] == "train", ["fact_id"]]
    evals, paths = {}, {"pairs": smk.input.pairs, "covariates": smk.input.covariates, "baseline": smk.input.baseline}
    for (arm, seed, epoch), path in zip(smk.params.eval_arm_seed_epochs, smk.input.evals):
        evals.setdefault(arm, {})[(seed, epoch)] = pd.read_parquet(path)
        paths[(arm, seed, epoch)] = path
    trajectories = {
        arm: build_trajectories(pairs, covariates, baseline, tables, {**paths, **{k: paths[(arm, *k)] for k in tables}})
        for arm, tables in evals.items()
    }
    memorization = pd.concat([t.assign(arm=arm) for arm, t in trajectories.items()]).merge(trained, on="fact_id")
    semantic = pd.concat(
        [pd.read_parquet(path).assign(arm=arm) for (arm, _), path in zip(smk.params.probe_arm_seeds, smk.input.probes)]
    ).merge(trained, on="fact_id")
    gaps = recall_gap(memorization, semantic)
    gaps["train_templates"] = gaps["arm"].map(smk.params.modes)
    print(gaps[gaps["epoch"] == gaps["epoch"].max()].to_string(index=False))
    analysis = config["analysis"]
    ontology_levels = sorted(pairs["ontology"].unique())
    ratios, models = acquisition_by_arm(
        trajectories,
        smk.params.modes,
        analysis["covariates"],
        ontology_levels,
        analysis["stable_k"],
        analysis["cox_penalizer"],
        analysis["ph_alpha"],
    )
    gaps.to_csv(smk.output.gap, index=False)
    ratios.to_csv(smk.output.cox, index=False)
    with open(smk.output.models, "w") as stream:
        json.dump(models, stream, indent=2, default=str)
    save(augmentation(gaps), smk.output.png, smk.output.svg)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
