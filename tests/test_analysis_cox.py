"""The Cox fit's internals on planted data: guarded Newton steps, Firth's penalty, the cox.zph PH test,
collinearity, permutation log-rank, the vcovCL sandwich, and tables whose row order changes nothing."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from latentfacts.analysis.collinearity import variance_inflation
from latentfacts.analysis.cox import fit_cox
from latentfacts.analysis.discrete_time import cluster_robust_covariance, fit_discrete
from latentfacts.analysis.kaplan_meier import kaplan_meier
from latentfacts.analysis.logrank import logrank_test
from latentfacts.analysis.partial_likelihood import newton
from test_analysis_models import simulated_epochs

PERMUTATION = {"min_expected": 5, "resamples": 2000, "seed": 7}


def test_newton_halves_steps_that_overshoot():
    # -log cosh(b - 3): from 0 the plain Newton step jumps by ~100, far past the maximum at 3
    def objective(beta):
        b = beta[0] - 3
        return -np.log(np.cosh(b)), np.array([-np.tanh(b)]), np.array([[1 / np.cosh(b) ** 2]])

    optimum = newton(objective, np.zeros(1))
    assert optimum.converged and optimum.halvings > 0
    assert optimum.beta[0] == pytest.approx(3, abs=1e-6)


def sparse_table(rng_seed=5):
    """Few events for three covariates: events per covariate far below 10."""
    table = simulated_epochs(60, np.log(3.0), epochs=10, rng_seed=rng_seed)
    table["event"] = np.where(table.index % 3 == 0, table["event"], 0)
    table["duration"] = np.where(table["event"] == 1, table["duration"], 10)
    table["frequency"] = np.random.default_rng(rng_seed).normal(size=len(table))
    return table


def test_few_events_per_covariate_give_a_firth_fit_with_profile_intervals():
    table = sparse_table()
    events = int(table["event"].sum())
    assert events / 3 < 10
    hazard_ratios, ph, facts = fit_cox(table, ["latent", "depth", "frequency"], 0.0, 0.05, firth_min_events_per_covariate=10)
    assert facts["estimation"] == "firth" and f"{events} events for 3 covariates" in facts["estimation_reason"]
    assert facts["converged"]
    rows = hazard_ratios.set_index("covariate")
    assert (rows["hr_lower"] < rows["hr"]).all() and (rows["hr"] < rows["hr_upper"]).all()
    # the profile interval and the penalized likelihood-ratio p come from one curve: they agree about 1
    np.testing.assert_array_equal(rows["p"] < 0.05, (rows["hr_lower"] > 1) | (rows["hr_upper"] < 1))
    # Firth pulls estimates towards zero relative to maximum likelihood
    ml, _, ml_facts = fit_cox(table, ["latent", "depth", "frequency"], 0.0, 0.05)
    assert ml_facts["estimation"] == "maximum likelihood"
    assert (np.abs(hazard_ratios["coef"]) < np.abs(ml["coef"])).all()
    assert set(ph["covariate"]) == {"latent", "depth", "frequency"}


def test_complete_separation_gives_a_finite_firth_estimate():
    table = simulated_epochs(40, 0.0)
    latent = table["latent"] == 1
    table.loc[latent, ["duration", "event"]] = [3, 1]
    table.loc[~latent, ["duration", "event"]] = [10, 0]
    table.loc[table.index[:4], "duration"] = [1, 2, 4, 5]  # several event times, so PH is testable
    hazard_ratios, _, facts = fit_cox(table, ["latent", "depth"], 0.0, 0.05)
    assert any("may be infinite" in w and "latent" in w for w in facts["warnings"])
    assert facts["estimation"] == "firth" and "monotone likelihood" in facts["estimation_reason"]
    latent_row = hazard_ratios.set_index("covariate").loc["latent"]
    assert np.isfinite(latent_row["hr"]) and latent_row["hr"] > 10 and latent_row["hr_lower"] > 1


def test_zph_flags_a_planted_time_varying_effect_and_not_a_constant_one():
    rng = np.random.default_rng(11)
    n, epochs = 600, 12
    x = rng.integers(0, 2, n)
    baseline = np.full(epochs, -2.0)
    for log_hr, flagged in [(np.linspace(2.0, -2.0, epochs), True), (np.full(epochs, 0.7), False)]:
        hazard = 1 - np.exp(-np.exp(baseline[None, :] + log_hr[None, :] * x[:, None]))
        hit = rng.random((n, epochs)) < hazard
        table = pd.DataFrame({"fact_id": [f"F{i}" for i in range(n)], "seed": 0,
                              "duration": np.where(hit.any(1), hit.argmax(1) + 1, epochs),
                              "event": hit.any(1).astype(int), "latent": x})  # fmt: skip
        _, ph, facts = fit_cox(table, ["latent"], 0.0, 0.05)
        assert bool(ph["violation"].iloc[0]) == flagged
        assert facts["ph_violations"] == (["latent"] if flagged else [])
        assert facts["ph_global"]["df"] == 1 and facts["ph_global"]["p"] == pytest.approx(ph["p"].iloc[0])


def test_vif_is_one_over_one_minus_r_squared_and_warns_above_five():
    rng = np.random.default_rng(3)
    table = simulated_epochs(300, np.log(2.0))
    table["id_frequency"] = table["depth"] + 0.2 * rng.normal(size=len(table))
    vif = variance_inflation(table, ["depth", "id_frequency", "latent"])
    others = np.column_stack([np.ones(len(table)), table[["id_frequency", "latent"]]])
    residual = np.linalg.lstsq(others, table["depth"], rcond=None)[1][0]
    r_squared = 1 - residual / ((table["depth"] - table["depth"].mean()) ** 2).sum()
    assert vif["depth"] == pytest.approx(1 / (1 - r_squared))
    assert vif["depth"] > 5 and vif["latent"] < 1.1
    _, _, facts = fit_cox(table, ["depth", "id_frequency", "latent"], 0.0, 0.05)
    flagged = [w for w in facts["warnings"] if w.startswith("VIF")]
    assert len(flagged) == 2 and all("depth" in w or "id_frequency" in w for w in flagged)


def test_permutation_logrank_is_seeded_and_agrees_with_chi_square_when_events_abound():
    table = simulated_epochs(400, np.log(1.4))
    chi_square = logrank_test(table["duration"], table["event"], table["latent"], min_expected=5)
    assert chi_square["p_method"] == "chi-square"
    forced = dict(PERMUTATION, min_expected=1e9)
    permuted = logrank_test(table["duration"], table["event"], table["latent"], **forced)
    assert permuted["p_method"].startswith("permutation") and permuted["test_statistic"] == chi_square["test_statistic"]
    assert permuted["p"] == pytest.approx(chi_square["p"], abs=0.02)
    assert logrank_test(table["duration"], table["event"], table["latent"], **forced)["p"] == permuted["p"]


def test_vcovcl_sandwich_equals_statsmodels_where_observed_and_expected_information_agree():
    # under the canonical logit link the two breads coincide, so statsmodels' cluster errors are the
    # reference once its linear-model factor (n - 1) / (n - k) is taken out
    rng = np.random.default_rng(4)
    x = sm.add_constant(rng.normal(size=(500, 2)))
    y = (rng.random(500) < 1 / (1 + np.exp(-(x @ [-0.5, 1.0, 0.3])))).astype(float)
    clusters = np.repeat(np.arange(100), 5)
    model = sm.GLM(y, x, family=sm.families.Binomial())
    reference = model.fit(cov_type="cluster", cov_kwds={"groups": clusters})
    n, k = x.shape
    expected = reference.cov_params() * (n - k) / (n - 1)
    np.testing.assert_allclose(cluster_robust_covariance(model.fit(), clusters), expected, rtol=1e-8)


def test_row_order_of_a_survival_table_changes_no_number():
    table = simulated_epochs(120, np.log(2.0), seeds=(0, 1))
    table["knowledge"] = np.where(table.index % 40 == 0, "known", table["knowledge"])  # a small class
    assert kaplan_meier(table, 10, PERMUTATION)[1]["p_method"].startswith("permutation")
    shuffled = table.sample(frac=1.0, random_state=1).reset_index(drop=True)
    for fit in [
        lambda t: fit_cox(t, ["latent", "depth"], 0.0, 0.05),
        lambda t: fit_cox(t, ["latent", "depth"], 0.0, 0.05, firth_min_events_per_covariate=1e9),
        lambda t: fit_discrete(t, ["latent", "depth"], min_events=5),
        lambda t: kaplan_meier(t, 10, PERMUTATION),
    ]:
        for original, reordered in zip(fit(table), fit(shuffled)):
            if isinstance(original, pd.DataFrame):
                pd.testing.assert_frame_equal(original, reordered, check_exact=True)
            else:
                assert original == reordered


def test_logrank_without_any_event_says_why_instead_of_failing():
    table = simulated_epochs(60, np.log(2.0), seeds=(0,))
    table["event"] = 0
    _, test, rmst = kaplan_meier(table, 10, PERMUTATION)
    assert np.isnan(test["test_statistic"]) and test["reason"] == "no events among the facts at risk; the test needs some"
    assert (rmst["rmst"] == 10).all()  # no event: every curve stays at 1 through the horizon
