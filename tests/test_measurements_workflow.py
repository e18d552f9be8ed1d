"""The measurements and both arms through Snakemake on a shrunken embedded study (few facts, a small base
model, three epochs): every measurement's table and figure, the arms' runs under results/models/default/arms/ with the
right training sets, and the main run's paths untouched."""

import json

import pandas as pd
import pytest

from conftest import run_snakemake, small_study_args, table_violations

# Over conftest.SMALL_STUDY: three epochs, one training template, and both arms on.
ARMS_ON = """
prompts: {train_templates: first}
finetune: {epochs: 3}
measurements:
  linear_probe: {every: 3}
  withdrawal: {enabled: true, fraction: 0.5, after_epoch: 1, min_gain: 0.1}
  augmentation: {enabled: true, every: 1}
"""
TARGETS = [
    "results/models/default/analysis/effectivity.parquet",
    "results/models/default/analysis/logprob_threshold.json",
    "results/models/default/analysis/forgetting_exposure_fit.json",
    "results/models/default/analysis/reverse_probe.parquet",
    "results/models/default/analysis/linear_probe.parquet",
    "results/models/default/analysis/retainability_fit.json",
    "results/models/default/analysis/augmentation_gap.csv",
    "results/models/default/analysis/augmentation_cox.csv",
]
FIGURES = ["logprob_dynamics", "forgetting_exposure", "reverse_probe", "linear_probe", "retainability", "augmentation"]


@pytest.mark.workflow
def test_measurements_and_arms(project):
    assert 'include: "workflow/rules/measurements.smk"' in (project / "Snakefile").read_text(), "Snakefile lacks measurements.smk"
    run_snakemake(project, *TARGETS, *small_study_args(project, ARMS_ON))
    for name in FIGURES:
        assert (project / f"results/models/default/figures/{name}.png").stat().st_size > 0
    pairs = pd.read_parquet(project / "results/data/pairs.parquet")
    trained = set(pairs.loc[pairs["split"] == "train", "fact_id"])
    # the tables passing between the measurements' rules follow the data contract
    contract = ["withdrawn", "heldout_templates", "augmentation_gap", "augmentation_cox"]
    assert table_violations(project, contract) == ({}, 4)

    # withdrawal arm: epoch 1 is the main run's own; later epochs train without the withdrawn facts
    withdrawn = set(pd.read_parquet(project / "results/models/default/arms/withdrawal/seed0/withdrawn.parquet")["fact_id"])
    assert len(withdrawn) == len(trained) // 2 and withdrawn <= trained
    arm = project / "results/models/default/arms/withdrawal/seed0"
    assert not (arm / "finetune/epoch_01").exists() and not (arm / "eval/epoch_01.parquet").exists()
    for epoch in (2, 3):
        seen = pd.read_parquet(arm / f"finetune/epoch_{epoch:02d}/seen_order.parquet")
        assert set(seen["fact_id"]) == trained - withdrawn
    main_seen = pd.read_parquet(project / "results/models/default/runs/seed0/finetune/epoch_01/seen_order.parquet")
    assert set(main_seen["fact_id"]) == trained and set(main_seen["template"]) == {0}

    # augmentation arm (main trains on template 0): all paraphrases, every trained fact once per epoch
    for epoch in (1, 2, 3):
        seen = pd.read_parquet(
            project / f"results/models/default/arms/paraphrases/seed0/finetune/epoch_{epoch:02d}/seen_order.parquet"
        )
        assert seen["template"].nunique() > 1 and sorted(seen["fact_id"]) == sorted(trained)

    fit = json.loads((project / "results/models/default/analysis/retainability_fit.json").read_text())
    assert fit["after_epoch"] == 1 and fit["n_withdrawn"] == len(withdrawn)
    exposure = json.loads((project / "results/models/default/analysis/forgetting_exposure_fit.json").read_text())
    assert exposure["n"] == 3 * len(trained) and exposure["ci_low"] <= exposure["slope"] <= exposure["ci_high"]
    gaps = pd.read_csv(project / "results/models/default/analysis/augmentation_gap.csv")
    assert set(gaps["arm"]) == {"main", "paraphrases"} and sorted(set(gaps["epoch"])) == [0, 1, 2, 3]
    probe = pd.read_parquet(project / "results/models/default/analysis/linear_probe.parquet")
    assert sorted(set(probe["epoch"])) == [0, 3] and set(probe["layer"]) == {0, 1, 2}
    assert (probe["n_test"] == len(trained) - len(trained) // 2).all()
    reverse = pd.read_parquet(project / "results/models/default/analysis/reverse_probe.parquet")
    assert sorted(set(reverse["epoch"])) == [0, 3] and len(reverse) == 2 * len(pairs)
    effect = pd.read_parquet(project / "results/models/default/analysis/effectivity.parquet")
    assert len(effect) == len(pairs) and effect["best_epoch"].between(1, 3).all()
