"""Effects over time and the paper's comparisons against independent computations: R's survival package
(episode-split time-varying Cox, survdiff, the robust score test), lifelines' KM, a planted time-varying hazard."""

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from latentfacts.analysis.cox import fit_cox
from latentfacts.analysis.degradation import degradation_comparison
from latentfacts.analysis.dynamics import dynamics
from latentfacts.analysis.effects import effects
from latentfacts.analysis.kaplan_meier import kaplan_meier
from latentfacts.analysis.km_contrasts import km_contrasts

PERMUTATION = {"min_expected": 5, "resamples": 1000, "seed": 0}
COX = {"penalizer": 0.0, "ph_alpha": 0.05, "firth_min_events_per_covariate": 10}
needs_r = pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs Rscript with the survival package")


def time_varying_study(n=400, seeds=(0, 1), epochs=10, early_log_hr=np.log(6.0), rng_seed=5):
    """Discrete hazards with a latent effect of HR 6 in epochs 1-3 and none afterwards; a fact keeps its
    covariates across seeds."""
    rng = np.random.default_rng(rng_seed)
    latent = rng.integers(0, 2, n)
    depth = rng.normal(size=n)
    rows = []
    for seed in seeds:
        log_hr = np.where(np.arange(1, epochs + 1)[None, :] <= 3, early_log_hr * latent[:, None], 0.0)
        hazard = 1 - np.exp(-np.exp(-2.2 + log_hr + 0.3 * depth[:, None]))
        hit = rng.random((n, epochs)) < hazard
        rows.append(pd.DataFrame({"fact_id": [f"F{i}" for i in range(n)], "seed": seed,
                                  "duration": np.where(hit.any(1), hit.argmax(1) + 1, epochs), "event": hit.any(1).astype(int),
                                  "latent": latent, "depth": depth, "knowledge": np.where(latent, "latent", "unknown"),
                                  "log10_p_sample": np.where(latent, -1.0, -5.0) + 0.5 * depth}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def run_r(script, tmp_path, **tables):
    for name, table in tables.items():
        table.to_csv(tmp_path / f"{name}.csv", index=False)
    result = subprocess.run(["Rscript", "-e", script], cwd=tmp_path, capture_output=True, text=True, check=True)
    return np.array([float(v) for v in result.stdout.split()])


def test_band_hazard_ratios_recover_a_planted_time_varying_effect():
    table = time_varying_study()
    got = effects(table, "acquisition", ["latent", "depth"], [[1, 3], [4, 10]], 10, COX)
    pooled = got[(got["seed"] == "pooled") & (got["covariate"] == "latent")].set_index(["model", "band"])
    early, late = pooled.loc[("cox_band", "1-3")], pooled.loc[("cox_band", "4-10")]
    assert early["hr_lower"] > 3 and late["hr_lower"] < 1 < late["hr_upper"]
    overall = pooled.loc[("cox", "all")]
    assert late["hr"] < overall["hr"] < early["hr"]  # the all-epoch HR averages the two
    assert overall["errors"] == "robust, clustered by fact"
    assert set(got["seed"]) == {"pooled", "0", "1"} and set(got["model"]) == {"cox", "cox_band", "cox_log10_p_sample"}
    sensitivity = got[(got["model"] == "cox_log10_p_sample") & (got["seed"] == "pooled")].set_index("covariate")
    assert list(sensitivity.index) == ["log10_p_sample", "depth"] and sensitivity.loc["log10_p_sample", "hr"] > 1


@needs_r
def test_band_fits_equal_the_episode_split_time_varying_cox_model_in_r(tmp_path):
    table = time_varying_study(n=250, seeds=(0,))
    got = effects(table, "degradation", ["latent", "depth"], [[1, 3], [4, 10]], 10, COX)
    bands = got[got["model"] == "cox_band"].drop_duplicates(["band", "covariate"]).set_index(["band", "covariate"])
    script = """
    library(survival)
    d <- read.csv("table.csv")
    s <- survSplit(Surv(duration, event) ~ ., data = d, cut = 3, episode = "band")
    s$early <- as.integer(s$band == 1); s$late <- 1L - s$early
    f <- coxph(Surv(tstart, duration, event) ~ latent:early + depth:early + latent:late + depth:late, data = s, ties = "efron")
    cat(sprintf("%.12g", c(coef(f), sqrt(diag(vcov(f))))))
    """
    r = run_r(script, tmp_path, table=table)
    ours = [bands.loc[(band, name), column] for column in ["coef", "se"] for band, name in
            [("1-3", "latent"), ("1-3", "depth"), ("4-10", "latent"), ("4-10", "depth")]]  # fmt: skip
    # 1e-4: lifelines stops its Newton steps at a looser tolerance than R (same optimum, fitted alone in R)
    np.testing.assert_allclose(ours, r, atol=1e-4)


@needs_r
def test_trained_vs_withheld_log_rank_matches_survdiff_and_the_robust_score_test(tmp_path):
    table = time_varying_study(n=150, seeds=(0, 1, 2)).rename(columns={"latent": "seen"})
    table["ontology"] = np.where(table["fact_id"].str[-1].astype(int) % 2, "GO", "HPO")
    _, tests = degradation_comparison(table, 10, PERMUTATION)
    tests = tests.set_index("seed")
    script = """
    library(survival)
    d <- read.csv("table.csv")
    one <- survdiff(Surv(duration, event) ~ seen + strata(ontology), data = d[d$seed == 1, ])
    pooled <- coxph(Surv(duration, event) ~ seen + strata(seed, ontology), data = d, ties = "breslow", cluster = fact_id)
    cat(sprintf("%.12g", c(one$chisq, summary(pooled)$robscore["test"])))
    """
    r = run_r(script, tmp_path, table=table)
    np.testing.assert_allclose([tests.loc["1", "test_statistic"], tests.loc["pooled", "test_statistic"]], r, rtol=1e-6)
    assert tests.loc["1", "variance"] == "hypergeometric" and tests.loc["pooled", "strata"] == "seed x ontology"
    assert tests.loc["1", "events_trained"] + tests.loc["1", "events_withheld"] == table.loc[table["seed"] == 1, "event"].sum()


def test_trained_vs_withheld_without_withheld_facts_says_so():
    table = time_varying_study(n=40, seeds=(0,)).assign(seen=1, ontology="HPO")
    curves, tests = degradation_comparison(table, 10, PERMUTATION)
    assert set(curves["exposure"]) == {"trained"} and tests["p"].isna().all()
    assert "never share a risk set" in tests["note"].iloc[0]


def test_rmst_contrast_equals_the_kaplan_meier_area_and_its_interval_covers_it():
    table = time_varying_study(n=200, seeds=(0,))
    contrasts = km_contrasts(table, 10, replicates=300, seed=0)
    _, _, rmst = kaplan_meier(table, 10, PERMUTATION)
    rmst = rmst.set_index("knowledge")["rmst"]
    got = contrasts[contrasts["seed"] == "pooled"].set_index(["measure", "group"])
    assert got.loc[("rmst", "latent"), "estimate"] == pytest.approx(rmst["latent"])
    difference = got.loc[("rmst_difference", "latent - unknown")]
    assert difference["estimate"] == pytest.approx(rmst["latent"] - rmst["unknown"])
    assert difference["ci_lower"] < difference["estimate"] < difference["ci_upper"] < 0  # planted: latent sooner
    # the bootstrap interval is close to the Greenwood-type one for one seed (every fact its own cluster)
    _, _, rmst_table = kaplan_meier(table, 10, PERMUTATION)
    se = np.hypot(*rmst_table.set_index("knowledge").loc[["latent", "unknown"], "rmst_se"])
    assert (difference["ci_upper"] - difference["ci_lower"]) / (2 * 1.96 * se) == pytest.approx(1, abs=0.25)


def test_row_order_changes_no_effect_or_contrast():
    table = time_varying_study(n=120, seeds=(0, 1))
    shuffled = table.sample(frac=1, random_state=4).reset_index(drop=True)
    for compute in [
        lambda t: effects(t, "acquisition", ["latent", "depth"], [[1, 3], [4, 10]], 10, COX).drop(columns="note"),
        lambda t: degradation_comparison(t.rename(columns={"latent": "seen"}).assign(ontology="HPO"), 10, PERMUTATION)[1],
        lambda t: km_contrasts(t, 10, replicates=100, seed=0),
        lambda t: dynamics(t.assign(reverted=0), 10, 0.9, 10, replicates=100, seed=0)[1],
    ]:
        pd.testing.assert_frame_equal(compute(table), compute(shuffled), check_exact=True)


@needs_r
def test_pooled_cox_errors_are_rs_fact_clustered_robust_errors_in_any_row_order(tmp_path):
    table = time_varying_study(n=120, seeds=(0, 1))
    script = """
    library(survival)
    d <- read.csv("table.csv")
    f <- coxph(Surv(duration, event) ~ latent + depth + strata(seed), data = d, ties = "efron", cluster = fact_id)
    cat(sprintf("%.12g", c(coef(f), sqrt(diag(vcov(f))))))
    """
    r = run_r(script, tmp_path, table=table)
    for rows in [table, table.sample(frac=1, random_state=9)]:
        hazard_ratios, _, facts = fit_cox(rows, ["latent", "depth"], **COX)
        np.testing.assert_allclose([*hazard_ratios["coef"], *hazard_ratios["se"]], r, rtol=1e-5)
    assert facts["standard_errors"] == "robust, clustered by fact"
