"""The model comparison's tables on planted survival data: a latent effect planted in one model only is
found as a latent x model interaction whose CI excludes 1, and equal effects give an interaction whose CI
holds 1; the estimate and rate tables keep each model's CI and n."""

import numpy as np
import pandas as pd

from latentfacts.analysis.comparison import POOLED_COLUMNS, estimate_table, pooled_interaction, rate_table

COX = {"penalizer": 0.0, "ph_alpha": 0.05, "firth_min_events_per_covariate": None}


def planted(hazard_ratio, seed, facts=400, horizon=10):
    """One seed's acquisition table: half the facts latent, whose per-epoch hazard is `hazard_ratio` x 0.1."""
    rng = np.random.default_rng(seed)
    latent = np.arange(facts) % 2
    hazard = 0.1 * np.where(latent == 1, hazard_ratio, 1.0)
    time = rng.geometric(np.clip(hazard, 0, 1))
    return pd.DataFrame(
        {
            "fact_id": [f"F:{i:04d}" for i in range(facts)],
            "seed": 0,
            "duration": np.minimum(time, horizon),
            "event": (time <= horizon).astype(int),
            "latent": latent,
        }
    )


def test_an_effect_planted_in_one_model_only_is_an_interaction_that_excludes_one():
    tables = {"a": planted(1.0, seed=1), "b": planted(4.0, seed=2)}
    pooled = pooled_interaction(tables, "acquisition", ["latent"], COX).set_index("term")
    interaction = pooled.loc["latent:b"]
    assert interaction["hr_lower"] > 1.5 and interaction["lr_p"] < 0.001 and interaction["lr_df"] == 1
    assert pooled.loc["latent", "hr_lower"] < 1 < pooled.loc["latent", "hr_upper"]  # the reference model: no effect
    assert interaction["n"] == 800 and interaction["reference_model"] == "a"
    assert interaction["errors"] == "robust, clustered by fact"


def test_equal_effects_give_an_interaction_whose_interval_holds_one():
    tables = {"a": planted(3.0, seed=3), "b": planted(3.0, seed=4)}
    interaction = pooled_interaction(tables, "acquisition", ["latent"], COX).set_index("term").loc["latent:b"]
    assert interaction["hr_lower"] < 1 < interaction["hr_upper"] and interaction["lr_p"] > 0.01


def test_without_the_focus_covariate_there_is_no_pooled_model_and_it_says_why():
    tables = {"a": planted(1.0, seed=1), "b": planted(1.0, seed=2)}
    rows = pooled_interaction(tables, "acquisition", [], COX)
    assert len(rows) == 1 and "latent is not among the model's covariates" in rows["note"].iloc[0]
    assert list(rows.columns) == POOLED_COLUMNS


def test_estimate_and_rate_tables_keep_each_models_interval_and_n():
    effects = pd.DataFrame(
        {"endpoint": ["acquisition"] * 3, "seed": ["pooled", "pooled", "0"], "model": ["cox", "cox_band", "cox"],
         "band": ["all", "1-2", "all"], "covariate": "latent", "coef": 0.5, "se": 0.1, "hr": [1.6, 2.0, 9.0],
         "hr_lower": [1.2, 1.1, 1.0], "hr_upper": [2.1, 3.0, 99.0], "p": 0.01, "n": [80, 60, 40], "events": 30,
         "estimation": "maximum likelihood", "errors": "robust", "note": ""}  # fmt: skip
    )
    contrasts = pd.DataFrame(
        {"endpoint": ["acquisition", "acquisition"], "seed": ["pooled", "pooled"], "measure": ["rmst", "rmst_difference"],
         "group": ["latent", "latent - unknown"], "n": [40, 80], "events": [20, 30], "horizon": 2,
         "estimate": [1.0, -0.4], "ci_lower": [0.8, -0.7], "ci_upper": [1.2, -0.1], "replicates": 100}  # fmt: skip
    )
    table = estimate_table({"m": effects}, {"m": contrasts})
    assert table[["measure", "fit", "band", "estimate", "ci_lower", "ci_upper", "n"]].values.tolist() == [
        ["hazard_ratio", "cox", "all", 1.6, 1.2, 2.1, 80],
        ["hazard_ratio", "cox_band", "1-2", 2.0, 1.1, 3.0, 60],
        ["rmst_difference", "kaplan_meier", "all", -0.4, -0.7, -0.1, 80],
    ]
    trajectories = pd.DataFrame({"fact_id": ["A", "B", "C", "D"], "epoch": 0, "knowledge": ["known", "latent", "latent", "unknown"]})
    survival = {"generalization": pd.DataFrame({"event": [1, 0, 0, 0]}), "degradation": pd.DataFrame({"event": [1, 1]})}
    rates = rate_table({"m": trajectories}, {"m": survival}).set_index(["measure", "group"])
    assert rates.loc[("knowledge_share", "latent"), ["events", "n", "estimate"]].tolist() == [2, 4, 0.5]
    assert rates.loc[("generalization_rate", "all"), ["events", "n"]].tolist() == [1, 4]
    low, high = rates.loc[("degradation_rate", "all"), ["ci_lower", "ci_upper"]]
    assert low < 1 and high == 1.0


def test_a_model_whose_latent_facts_have_no_event_gets_no_interaction_and_says_why():
    thin = planted(1.0, seed=5)
    thin.loc[thin["latent"] == 1, "event"] = 0
    rows = pooled_interaction({"a": thin, "b": planted(3.0, seed=6)}, "acquisition", ["latent"], COX)
    assert len(rows) == 1 and np.isnan(rows["hr"].iloc[0])
    assert rows["note"].iloc[0].startswith("a has 200 rows with latent = 1 and no event among them: the interaction needs")


def test_firth_fits_give_the_interaction_without_a_likelihood_ratio_test():
    firth = {**COX, "firth_min_events_per_covariate": 1e9}
    rows = pooled_interaction({"a": planted(1.0, seed=1), "b": planted(4.0, seed=2)}, "acquisition", ["latent"], firth)
    interaction = rows.set_index("term").loc["latent:b"]
    assert interaction["estimation"] == "firth" and interaction["hr_lower"] > 1.5
    assert np.isnan(interaction["lr_statistic"]) and np.isnan(interaction["lr_p"])
