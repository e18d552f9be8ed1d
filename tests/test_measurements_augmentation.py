"""Augmentation: the memorization-semantic gap and acquisition Cox models per arm on planted runs."""

import numpy as np
import pandas as pd
import pytest

from latentfacts.measurements.augmentation import ARM_COLUMN, compare_template_modes, recall_gap


def test_recall_gap_per_arm_and_epoch():
    memo = pd.DataFrame(
        {
            "arm": ["main"] * 4 + ["single_template"] * 4,
            "seed": 0,
            "epoch": [1, 1, 2, 2] * 2,
            "fact_id": ["a", "b"] * 4,
            "correct": [1, 0, 1, 1, 1, 1, 1, 1],
        }
    )
    sem = pd.DataFrame(
        {
            "arm": ["main"] * 4 + ["single_template"] * 4,
            "seed": 0,
            "epoch": [1, 1, 2, 2] * 2,
            "fact_id": ["a", "b"] * 4,
            "template": 0,
            "correct": [0, 0, 1, 0, 0, 0, 0, 0],
        }
    )
    gaps = recall_gap(memo, sem).set_index(["arm", "epoch"])
    assert gaps.loc[("main", 1), "gap"] == 0.5
    assert gaps.loc[("main", 2), "gap"] == 0.5
    assert gaps.loc[("single_template", 2), "gap"] == 1.0


def planted_arm(rate, n=300, epochs=10, seed=0):
    """Eval tables where each fact becomes correct at a geometric epoch with per-epoch hazard `rate`."""
    rng = np.random.default_rng(seed)
    first = rng.geometric(rate, n)
    facts = [f"HP:{i:07d}" for i in range(n)]
    return {
        (0, e): pd.DataFrame(
            {
                "fact_id": facts,
                "epoch": e,
                "correct": (first <= e) & (e > 0),
                "logprob": -1.0,
                "p_sample": 0.1,
                "first_token_rank": 1,
            }
        )
        for e in range(epochs + 1)
    }


def test_pooled_cox_recovers_a_slower_single_template_arm():
    n = 300
    facts = [f"HP:{i:07d}" for i in range(n)]
    pairs = pd.DataFrame({"fact_id": facts, "ontology": "HPO", "id": facts, "label": facts, "split": "train", "bin": 0})
    rng = np.random.default_rng(1)
    covariates = pd.DataFrame(
        {
            "fact_id": facts,
            "id_frequency": rng.integers(0, 50, n),
            "label_frequency": 1,
            "n_annotations": rng.integers(0, 9, n),
            "n_annotations_propagated": 9,
            "depth": 3,
            "n_parents": 1,
            "n_synonyms": 0,
            "label_tokens": 2,
            "label_chars": 10,
            "id_leading_zeros": 3,
        }
    )
    baseline = pd.DataFrame({"fact_id": facts, "correct": False, "p_sample": 0.0, "knowledge": "unknown"})
    paths = {"pairs": "pairs.parquet", "covariates": "covariates.parquet", "baseline": "baseline.parquet"}
    evals, probes = {}, {}
    for arm, rate, seed in [("main", 0.3, 2), ("single_template", 0.15, 3)]:
        for (_, epoch), table in planted_arm(rate, n, seed=seed).items():
            evals[(arm, 0, epoch)] = table
            paths[(arm, 0, epoch)] = f"{arm}/epoch_{epoch:02d}.parquet"
        # held-out wording: only the even-numbered facts that the trained wording gets right
        probes[(arm, 0)] = pd.concat(
            evals[(arm, 0, e)].assign(seed=0, template=0, correct=lambda t: t["correct"] & (t.index % 2 == 0))
            for e in (0, 5, 10)
        )
    modes = {"main": "all", "single_template": "first"}
    analysis = {"covariates": ["log1p_id_frequency", "ontology"], "stable_k": 3, "cox_penalizer": 0.0, "ph_alpha": 0.05}
    gaps, ratios, models = compare_template_modes(pairs, covariates, baseline, evals, probes, modes, analysis, paths)

    # The gap only at the probed epochs: trained-wording recall minus held-out recall, per arm.
    assert sorted(gaps["epoch"].unique()) == [0, 5, 10]
    for arm, gap in gaps.set_index(["arm", "epoch"])["gap"].items():
        correct = evals[(arm[0], 0, arm[1])]["correct"]
        assert gap == pytest.approx(correct.mean() - (correct & (correct.index % 2 == 0)).mean())
    assert dict(zip(gaps["arm"], gaps["train_templates"])) == modes
    assert set(ratios["arm"]) == {"main", "single_template", "pooled"}
    arm_effect = ratios[(ratios["arm"] == "pooled") & (ratios["covariate"] == ARM_COLUMN)].iloc[0]
    # per-epoch hazards 0.15 vs 0.3: acquisition is clearly slower (Cox on heavily tied epochs puts the HR
    # below the grouped-time value log(0.85)/log(0.7) ~ 0.46, so only the direction and size are checked)
    assert arm_effect["hr_upper"] < 0.6 and arm_effect["p"] < 1e-6
    per_arm = ratios[ratios["covariate"] == "log1p_id_frequency"]
    assert (per_arm["p"] > 0.01).all()  # no planted covariate effect
    assert models["pooled"]["n"] == 2 * n
    assert models["main"]["events"] > models["single_template"]["events"]
