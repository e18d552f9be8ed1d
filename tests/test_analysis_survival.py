"""Survival tables from hand-made trajectories whose durations and events are known by construction."""

import numpy as np
import pandas as pd
import pytest

from latentfacts.analysis.survival import (
    band_table,
    bands_within,
    check_epoch_bands,
    check_stable_k,
    horizon,
    model_columns,
    sensitivity_columns,
    survival_table,
    usable_covariates,
)
from latentfacts.analysis.trajectories import InputError, build_trajectories

COVARIATES = ["latent", "log1p_id_frequency", "log1p_label_frequency", "log1p_n_annotations", "depth", "ontology"]
LEVELS = ["HPO", "GO"]


def fact_rows(fact_id, ontology, split, knowledge, correct_by_seed, **covariates):
    """Trajectory rows of one fact: `correct_by_seed` = {seed: "0110..." correctness at epochs 0..E}."""
    rows = []
    for seed, marks in correct_by_seed.items():
        for epoch, mark in enumerate(marks):
            rows.append(
                {
                    "seed": seed,
                    "fact_id": fact_id,
                    "epoch": epoch,
                    "correct": mark == "1",
                    "ontology": ontology,
                    "split": split,
                    "bin": 0,
                    "knowledge": knowledge,
                    "baseline_p_sample": 0.3 if knowledge == "latent" else 0.0,
                    "id_frequency": covariates.get("id_frequency", 10),
                    "label_frequency": covariates.get("label_frequency", 5),
                    "n_annotations": covariates.get("n_annotations", 3),
                    "depth": covariates.get("depth", 4),
                }
            )
    return rows


def trajectories(*facts):
    return pd.DataFrame([row for rows in facts for row in rows])


HAND_MADE = trajectories(
    fact_rows("HP:1", "HPO", "train", "latent", {0: "00011"}),  # acquired at 3
    fact_rows("HP:2", "HPO", "train", "unknown", {0: "00000"}),  # censored at 4
    fact_rows("HP:3", "HPO", "train", "known", {0: "11111"}),  # known at epoch 0: not at risk of acquisition
    fact_rows("HP:4", "HPO", "train", "unknown", {0: "01011"}),  # first correct 1; stable (k=2) from 3
    fact_rows("GO:1", "GO", "train", "unknown", {0: "01101"}),  # first correct 1; stable (k=2) at 1
    fact_rows("GO:5", "GO", "withheld", "unknown", {0: "00100"}),  # generalized at 2
    fact_rows("GO:6", "GO", "withheld", "known", {0: "11101"}),  # degrades at 3 (withheld)
    fact_rows("GO:7", "GO", "train", "known", {0: "11111"}),  # never degrades: censored at 4
)


def table(endpoint, stable_k=2):
    return survival_table(HAND_MADE, endpoint, COVARIATES, LEVELS, stable_k).set_index("fact_id")


def test_acquisition_excludes_baseline_known_and_censors_at_last_epoch():
    acquisition = table("acquisition")
    assert sorted(acquisition.index) == ["GO:1", "HP:1", "HP:2", "HP:4"]
    assert acquisition.loc["HP:1", ["duration", "event"]].tolist() == [3, 1]
    assert acquisition.loc["HP:2", ["duration", "event"]].tolist() == [4, 0]
    assert acquisition.loc["HP:4", ["duration", "event"]].tolist() == [1, 1]
    assert acquisition.loc["HP:1", "latent"] == 1 and acquisition.loc["HP:2", "latent"] == 0
    assert acquisition.loc["GO:1", "ontology_GO"] == 1 and acquisition.loc["HP:1", "ontology_GO"] == 0
    assert acquisition.loc["HP:1", "log1p_id_frequency"] == pytest.approx(np.log1p(10))


def test_stable_variant_needs_k_correct_epochs_and_censors_where_k_no_longer_fit():
    stable = table("acquisition_stable", stable_k=2)
    # HP:4 is correct at 1 but not 2: its stable run starts at 3 (epochs 3 and 4 correct).
    assert stable.loc["HP:4", ["duration", "event"]].tolist() == [3, 1]
    assert stable.loc["GO:1", ["duration", "event"]].tolist() == [1, 1]
    assert stable.loc["HP:1", ["duration", "event"]].tolist() == [3, 1]
    # no run: censored at E - k + 1 = 3, the last epoch at which a run of 2 can start
    assert stable.loc["HP:2", ["duration", "event"]].tolist() == [3, 0]
    three = table("acquisition_stable", stable_k=3)
    # HP:1 is correct at 3 and 4 only: a run of 3 cannot be confirmed, so it is censored at 2
    assert three.loc["HP:1", ["duration", "event"]].tolist() == [2, 0]
    assert three.loc["HP:4", ["duration", "event"]].tolist() == [2, 0]
    assert horizon("acquisition_stable", 4, 3) == 2 and horizon("acquisition", 4, 3) == 4


def test_generalization_is_withheld_facts_wrong_at_baseline():
    generalization = table("generalization")
    assert generalization.index.tolist() == ["GO:5"]
    assert generalization.loc["GO:5", ["duration", "event"]].tolist() == [2, 1]


def test_degradation_risk_set_is_every_fact_correct_at_baseline_with_seen_flag():
    degradation = table("degradation")
    assert sorted(degradation.index) == ["GO:6", "GO:7", "HP:3"]
    assert degradation.loc["GO:6", ["duration", "event", "seen"]].tolist() == [3, 1, 0]
    assert degradation.loc["GO:7", ["duration", "event", "seen"]].tolist() == [4, 0, 1]
    assert degradation.loc["HP:3", "seen"] == 1


def test_persistent_degradation_needs_k_wrong_epochs_and_censors_where_k_no_longer_fit():
    persistent = table("degradation_persistent", stable_k=2)
    assert sorted(persistent.index) == ["GO:6", "GO:7", "HP:3"]
    # GO:6 "11101": wrong at 3 only, then correct: degraded at 3 but never for 2 epochs -> censored at E - k + 1 = 3
    assert persistent.loc["GO:6", ["duration", "event", "seen"]].tolist() == [3, 0, 0]
    assert table("degradation").loc["GO:6", ["duration", "event"]].tolist() == [3, 1]
    assert horizon("degradation_persistent", 4, 2) == 3
    two_wrong = survival_table(trajectories(fact_rows("GO:8", "GO", "train", "known", {0: "11001"})),
                               "degradation_persistent", COVARIATES, LEVELS, 2)  # fmt: skip
    assert two_wrong[["duration", "event", "seen"]].values.tolist() == [[2, 1, 1]]


def test_acquisition_marks_first_hits_that_revert():
    acquisition = table("acquisition")
    # HP:4 "01011" and GO:1 "01101" are wrong again after their first hit; HP:1 "00011" stays correct
    assert acquisition["reverted"].to_dict() == {"HP:1": 0, "HP:2": 0, "HP:4": 1, "GO:1": 1}
    assert "reverted" not in table("generalization").columns


def test_continuous_exposure_is_log10_sampling_probability_floored():
    rows = trajectories(
        fact_rows("HP:1", "HPO", "train", "latent", {0: "0001"}),
        fact_rows("HP:2", "HPO", "train", "unknown", {0: "0000"}),
    )
    rows.loc[rows["fact_id"] == "HP:2", "baseline_p_sample"] = 1e-20
    acquisition = survival_table(rows, "acquisition", COVARIATES, LEVELS, 2, p_sample_floor=1e-6).set_index("fact_id")
    assert acquisition.loc["HP:1", "log10_p_sample"] == pytest.approx(np.log10(0.3))
    assert acquisition.loc["HP:2", "log10_p_sample"] == pytest.approx(-6)
    assert sensitivity_columns(["latent", "depth"]) == ["log10_p_sample", "depth"]


def test_epoch_bands_are_checked_adapted_to_the_horizon_and_split_the_follow_up():
    check_epoch_bands([[1, 4], [5, 10], [11, 20]])
    for bad in ([[2, 4]], [[1, 4], [6, 10]], [[1, 4], [5, 3]]):
        with pytest.raises(ValueError, match=r"config key analysis.epoch_bands: band \d is"):
            check_epoch_bands(bad)
    assert bands_within([[1, 4], [5, 10], [11, 20]], 18) == [(1, 4), (5, 10), (11, 18)]
    assert bands_within([[1, 4], [5, 10], [11, 20]], 2) == [(1, 2)]
    assert bands_within([[1, 4], [5, 10]], 30) == [(1, 4), (5, 30)]
    rows = pd.DataFrame({"duration": [2, 5, 7, 9], "event": [1, 1, 0, 1]})
    middle = band_table(rows, 5, 8)
    # the fact with its event at 2 is no longer at risk; 9 is censored at the band's end
    assert middle[["duration", "event"]].values.tolist() == [[5, 1], [7, 0], [8, 0]]


def test_seeds_are_stacked_with_their_own_epoch_zero():
    two_seeds = trajectories(
        fact_rows("HP:1", "HPO", "train", "unknown", {0: "0011", 1: "1111"}),
        fact_rows("HP:2", "HPO", "train", "latent", {0: "0001", 1: "0100"}),
    )
    acquisition = survival_table(two_seeds, "acquisition", COVARIATES, LEVELS, 2)
    got = {(r.seed, r.fact_id): (r.duration, r.event) for r in acquisition.itertuples()}
    assert got == {(0, "HP:1"): (2, 1), (0, "HP:2"): (3, 1), (1, "HP:2"): (1, 1)}


def test_model_columns_follow_config_order_and_degradation_adds_seen():
    assert model_columns(COVARIATES, LEVELS, "acquisition") == [
        "latent",
        "log1p_id_frequency",
        "log1p_label_frequency",
        "log1p_n_annotations",
        "depth",
        "ontology_GO",
    ]
    assert model_columns(["latent", "ontology"], LEVELS, "degradation") == ["latent", "ontology_GO", "seen"]


def test_constant_covariate_is_dropped_with_its_reason():
    generalization = table("generalization")
    kept, dropped = usable_covariates(generalization, ["ontology_GO", "depth"])
    assert kept == [] and set(dropped) == {"ontology_GO", "depth"}
    assert "constant" in dropped["ontology_GO"]


def test_stable_k_longer_than_training_is_a_config_error():
    with pytest.raises(ValueError, match="analysis.stable_k"):
        check_stable_k(5, 4)


def contract_tables(n_facts=3, epochs=2):
    facts = [f"HP:{i}" for i in range(n_facts)]
    pairs = pd.DataFrame({"fact_id": facts, "ontology": "HPO", "id": facts, "label": "x", "split": "train", "bin": 0})
    covariates = pd.DataFrame({"fact_id": facts, "id_frequency": 1, "label_frequency": 1, "n_annotations": 1,
                               "n_annotations_propagated": 1, "depth": 1, "n_parents": 1, "n_synonyms": 0,
                               "label_tokens": 1, "label_chars": 1, "id_leading_zeros": 3})  # fmt: skip
    baseline = pd.DataFrame({"fact_id": facts, "correct": False, "p_sample": 0.0, "knowledge": "unknown"})
    evals = {(0, e): pd.DataFrame({"fact_id": facts, "epoch": e, "correct": e > 0, "logprob": -1.0,
                                   "p_sample": 0.1, "first_token_rank": 0}) for e in range(epochs + 1)}  # fmt: skip
    paths = {"pairs": "pairs.parquet", "covariates": "covariates.parquet", "baseline": "baseline.parquet"}
    paths.update({key: f"seed0/eval/epoch_{key[1]:02d}.parquet" for key in evals})
    return pairs, covariates, baseline, evals, paths


def test_build_trajectories_joins_every_table():
    built = build_trajectories(*contract_tables())
    assert len(built) == 3 * 3
    assert {"seed", "fact_id", "epoch", "correct", "split", "knowledge", "baseline_p_sample", "depth"} <= set(built.columns)


def test_bad_inputs_name_the_file():
    pairs, covariates, baseline, evals, paths = contract_tables()
    with pytest.raises(InputError, match="epoch_01.parquet.*missing"):
        build_trajectories(pairs, covariates, baseline, {**evals, (0, 1): evals[(0, 1)].iloc[1:]}, paths)
    with pytest.raises(InputError, match="epoch_02.parquet: epoch column holds 1"):
        build_trajectories(pairs, covariates, baseline, {**evals, (0, 2): evals[(0, 1)]}, paths)
    with pytest.raises(InputError, match="baseline.parquet: knowledge 'maybe'"):
        build_trajectories(pairs, covariates, baseline.assign(knowledge="maybe"), evals, paths)
    with pytest.raises(InputError, match=r"covariates.parquet: missing column\(s\) \['depth'\]"):
        build_trajectories(pairs, covariates.drop(columns="depth"), baseline, evals, paths)
