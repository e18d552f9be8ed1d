"""The survival models against independent computations: statsmodels PHReg, a hand-made KM, a planted hazard ratio."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.hazard_regression import PHReg

from latentfacts.analysis.cox import fit_cox
from latentfacts.analysis.discrete_time import collapse_epochs, fit_discrete, person_period
from latentfacts.analysis.kaplan_meier import kaplan_meier


def simulated_epochs(n, log_hr, seeds=(0,), epochs=10, rng_seed=2):
    """Discrete-time data with hazard 1 - exp(-exp(a_t + log_hr * x)): events at whole epochs, many ties."""
    rng = np.random.default_rng(rng_seed)
    baseline = np.linspace(-2.5, -1.5, epochs)  # a_t
    rows = []
    for seed in seeds:
        x = rng.integers(0, 2, n)
        z = rng.normal(size=n)
        hazard = 1 - np.exp(-np.exp(baseline[None, :] + (log_hr * x + 0.3 * z)[:, None]))
        hit = rng.random((n, epochs)) < hazard
        duration, event = np.where(hit.any(1), hit.argmax(1) + 1, epochs), hit.any(1).astype(int)
        rows.append(pd.DataFrame({"fact_id": [f"F{i}" for i in range(n)], "seed": seed, "duration": duration,
                                  "event": event, "latent": x, "depth": z, "knowledge": np.where(x, "latent", "unknown")}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def test_cox_matches_statsmodels_efron_fit():
    table = simulated_epochs(300, np.log(2.0))
    hazard_ratios, ph, facts = fit_cox(table, ["latent", "depth"], penalizer=0.0, ph_alpha=0.05)
    reference = PHReg(table["duration"], table[["latent", "depth"]], status=table["event"], ties="efron").fit()
    np.testing.assert_allclose(hazard_ratios["coef"], reference.params, atol=1e-4)
    np.testing.assert_allclose(hazard_ratios["se"], reference.bse, atol=1e-4)
    assert facts["events"] == table["event"].sum() and facts["strata"] == [] and facts["reason"] is None
    assert ph["covariate"].tolist() == ["depth", "latent"] or ph["covariate"].tolist() == ["latent", "depth"]
    assert ph["violation"].dtype == bool


def test_cox_with_several_seeds_stratifies_by_seed_like_phreg_strata():
    table = simulated_epochs(150, np.log(2.0), seeds=(0, 1))
    hazard_ratios, _, facts = fit_cox(table, ["latent", "depth"], penalizer=0.0, ph_alpha=0.05)
    reference = PHReg(table["duration"], table[["latent", "depth"]], status=table["event"], ties="efron",
                      strata=table["seed"]).fit()  # fmt: skip
    assert facts["strata"] == ["seed"]
    np.testing.assert_allclose(hazard_ratios["coef"], reference.params, atol=1e-4)


def test_cloglog_recovers_a_planted_hazard_ratio_within_its_ci():
    # a 95% interval misses one draw in twenty: this fixed draw is one that the interval covers
    table = simulated_epochs(1500, np.log(2.5), epochs=8)
    hazard_ratios, facts = fit_discrete(table, ["latent", "depth"], min_events=5)
    latent, depth = hazard_ratios.set_index("covariate").loc[["latent", "depth"]].itertuples()
    assert latent.hr_lower < 2.5 < latent.hr_upper
    assert depth.hr_lower < np.exp(0.3) < depth.hr_upper
    assert latent.hr_upper / latent.hr_lower < 1.6  # informative, not a vacuous interval
    assert facts["converged"] and facts["clusters"] == 1500


def test_person_period_rows_and_sparse_epochs_collapse():
    table = pd.DataFrame({"fact_id": ["a", "b", "c"], "seed": 0, "duration": [2, 3, 1], "event": [1, 0, 1], "x": [1, 0, 1]})
    rows = person_period(table, ["x"])
    assert rows[["fact_id", "epoch", "y"]].values.tolist() == [
        ["a", 1, 0], ["a", 2, 1], ["b", 1, 0], ["b", 2, 0], ["b", 3, 0], ["c", 1, 1]]  # fmt: skip
    # epoch 1: 1 event, epoch 2: 1 event, epoch 3: none -> with 2 events needed, one period 1-3
    assert set(collapse_epochs(rows, min_events=2).values()) == {"epochs 1-3"}
    assert collapse_epochs(rows, min_events=1) == {1: "epoch 1", 2: "epochs 2-3", 3: "epochs 2-3"}


def test_constant_covariate_is_dropped_not_fatal():
    table = simulated_epochs(200, np.log(2.0)).assign(ontology_GO=1)
    hazard_ratios, _, facts = fit_cox(table, ["latent", "ontology_GO"], penalizer=0.0, ph_alpha=0.05)
    assert hazard_ratios["covariate"].tolist() == ["latent"] and "ontology_GO" in facts["dropped"]
    discrete, discrete_facts = fit_discrete(table, ["latent", "ontology_GO"], min_events=5)
    assert discrete["covariate"].tolist() == ["latent"] and "ontology_GO" in discrete_facts["dropped"]


def test_collinear_covariate_is_dropped_not_fatal():
    # `seen` = 1 - ontology_GO: together with the intercept the design would be singular.
    table = simulated_epochs(200, np.log(2.0))
    table = table.assign(ontology_GO=table["latent"], seen=1 - table["latent"])
    columns = ["latent", "depth", "ontology_GO", "seen"]
    hazard_ratios, _, facts = fit_cox(table, columns, penalizer=0.0, ph_alpha=0.05)
    assert hazard_ratios["covariate"].tolist() == ["latent", "depth"]
    assert set(facts["dropped"]) == {"ontology_GO", "seen"} and "collinear" in facts["dropped"]["seen"]
    discrete, discrete_facts = fit_discrete(table, columns, min_events=5)
    assert discrete["covariate"].tolist() == ["latent", "depth"] and "collinear" in discrete_facts["dropped"]["seen"]


def test_no_events_gives_empty_tables_and_a_reason():
    table = simulated_epochs(50, 0.0).assign(event=0)
    hazard_ratios, ph, facts = fit_cox(table, ["latent"], penalizer=0.0, ph_alpha=0.05)
    assert hazard_ratios.empty and ph.empty and "no events" in facts["reason"]
    discrete, discrete_facts = fit_discrete(table, ["latent"], min_events=5)
    assert discrete.empty and "no events" in discrete_facts["reason"]


def test_kaplan_meier_equals_hand_computation():
    # class u: durations 1,2,2,3 events 1,1,0,0 ; class l: 1,1,3 events 1,1,1
    table = pd.DataFrame({"fact_id": [f"F{i}" for i in range(7)], "seed": 0,
                          "duration": [1, 2, 2, 3, 1, 1, 3], "event": [1, 1, 0, 0, 1, 1, 1],
                          "knowledge": ["unknown"] * 4 + ["latent"] * 3})  # fmt: skip
    curves, test, rmst = kaplan_meier(table, horizon=3, permutation={"min_expected": 5, "resamples": 999, "seed": 0})
    unknown = curves[curves["knowledge"] == "unknown"].set_index("epoch")["survival"]
    np.testing.assert_allclose(unknown.loc[[0, 1, 2, 3]], [1, 3 / 4, 3 / 4 * 2 / 3, 3 / 4 * 2 / 3])
    latent = curves[curves["knowledge"] == "latent"].set_index("epoch")["survival"]
    np.testing.assert_allclose(latent.loc[[0, 1, 2, 3]], [1, 1 / 3, 1 / 3, 0])
    # RMST over [0, 3] is the area under the step function
    got = rmst.set_index("knowledge")["rmst"]
    assert got["unknown"] == pytest.approx(1 + 3 / 4 + 1 / 2)
    assert got["latent"] == pytest.approx(1 + 1 / 3 + 1 / 3)
    # its standard error: events at 1 (n=4, d=1, area after 1 = 1.25) and 2 (n=3, d=1, area after 2 = 0.5)
    se = rmst.set_index("knowledge")["rmst_se"]
    assert se["unknown"] == pytest.approx(np.sqrt(1.25**2 / (4 * 3) + 0.5**2 / (3 * 2)))
    assert test["groups"] == "latent, unknown" and 0 < test["p"] < 1
    # 5 events among 7 facts: no class expects 5, so the p-value is a permutation one
    assert test["p_method"].startswith("permutation") and test["min_expected"] < 5
    assert curves.set_index(["knowledge", "epoch"]).loc[("all", 2), "at_risk"] == 4


def test_complete_separation_is_fitted_and_flagged_not_fatal():
    table = simulated_epochs(40, 0.0)
    latent = table["latent"] == 1
    table.loc[latent, ["duration", "event"]] = [1, 1]  # every latent fact at epoch 1, no other fact ever
    table.loc[~latent, ["duration", "event"]] = [10, 0]
    _, _, facts = fit_cox(table, ["latent", "depth"], penalizer=0.0, ph_alpha=0.05)
    _, discrete_facts = fit_discrete(table, ["latent", "depth"], min_events=5)
    assert facts["reason"] is None and any("separation" in w for w in facts["warnings"])
    assert any("separation" in w.lower() for w in discrete_facts["warnings"])
