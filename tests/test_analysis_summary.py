"""Headline numbers of summary.md from small tables whose answers are known."""

import numpy as np
import pandas as pd

from latentfacts.analysis.summary import (
    Tables,
    baseline_recall,
    dynamic_line,
    effect_line,
    hazard_ratio,
    headline_table,
    markdown,
    proportional_hazards_lines,
    reading,
    recall_at,
)

TRAJECTORIES = pd.DataFrame(
    {
        "seed": [0, 0, 0, 0, 1, 1, 1, 1],
        "fact_id": ["HP:1", "HP:2", "HP:1", "HP:2"] * 2,
        "epoch": [0, 0, 2, 2] * 2,
        "ontology": "HPO",
        "split": "train",
        "baseline_correct": [True, False, True, False] * 2,
        "correct": [True, False, True, True, True, False, False, False],
    }
)


def test_recall_counts_facts_once_and_reports_seed_range():
    assert baseline_recall(TRAJECTORIES, "HPO") == "50.0% (1/2)"
    assert recall_at(TRAJECTORIES[TRAJECTORIES["seed"] == 0], 2, "HPO") == "100.0% (2/2)"
    assert recall_at(TRAJECTORIES, 2, "HPO") == "50.0% mean of 2 seeds (range 0.0-100.0%)"
    assert recall_at(TRAJECTORIES, 2, "GO") == "n/a (no facts)"


def test_hazard_ratio_text_and_the_reason_when_missing():
    hazard_ratios = pd.DataFrame([{"endpoint": "acquisition", "model": "cox", "covariate": "latent", "hr": 2.61,
                                   "hr_lower": 1.5, "hr_upper": 4.0, "p": 0.0002}])  # fmt: skip
    models = pd.DataFrame([{"endpoint": "degradation", "model": "cox", "reason": "no events among 12 facts at risk"}])
    assert hazard_ratio(hazard_ratios, models, "acquisition", "cox", "latent") == "HR 2.61 (95% CI 1.50-4.00), p < 0.001"
    assert "no events among 12" in hazard_ratio(hazard_ratios, models, "degradation", "cox", "seen")


def effect(seed, band, hr, lower, upper, model="cox_band", covariate="latent"):
    return {"endpoint": "acquisition", "seed": seed, "model": model, "band": band, "covariate": covariate, "coef": 0.0,
            "se": 0.1, "hr": hr, "hr_lower": lower, "hr_upper": upper, "p": 0.01, "n": 100, "events": 80, "note": ""}  # fmt: skip


EFFECTS = pd.DataFrame([effect("pooled", "1-4", 12.7, 6.0, 27.0), effect("0", "1-4", 10.0, 3.0, 33.0),
                        effect("1", "1-4", 15.0, 4.0, 56.0), effect("pooled", "11-20", 1.0, 0.7, 1.4),
                        effect("0", "11-20", 0.9, 0.5, 1.6), effect("1", "11-20", np.nan, np.nan, np.nan)])  # fmt: skip
EFFECTS.loc[5, "note"] = "Cox fit did not converge"
DYNAMICS = pd.DataFrame(
    [{"seed": seed, "knowledge": knowledge, "measure": "peak_epoch", "n": 50, "estimate": value, "ci_lower": value - 3,
      "ci_upper": value + 3, "note": ""}
     for seed in ["pooled", "0", "1"] for knowledge, value in [("latent", 17), ("unknown", 18), ("latent - unknown", -1)]]
)  # fmt: skip


def tables():
    empty = pd.DataFrame(columns=["endpoint", "seed", "measure", "group"])
    return Tables(EFFECTS, empty, DYNAMICS, pd.DataFrame(columns=["endpoint", "seed"]), seeds=[0, 1])


def test_words_follow_the_interval_never_the_point_estimate():
    assert reading(1.2, 3.0, 1, "lower", "higher") == "higher"
    assert reading(0.2, 0.9, 1, "lower", "higher") == "lower"
    assert reading(0.9, 3.0, 1, "lower", "higher") == "no difference shown (CI includes 1)"
    # "earlier for latent" from 17 vs 18 is not a finding when the difference's interval spans 0
    line = dynamic_line(tables(), "Epoch of the peak rate", "earlier for latent", "peak_epoch", ("earlier", "later"))
    assert line.read == "difference -1 (-4 to 2): no difference shown (CI includes 0)"
    assert line.cells[0] == "latent 17 (14 to 20); n 50; unknown 18 (15 to 21); n 50"
    assert headline_table([line], seeds=[0, 1])[1][0][4] == "latent - unknown: -1 to -1"  # the seeds' differences


def test_band_rows_show_pooled_and_per_seed_estimates_their_spread_and_missing_fits():
    early = effect_line(tables(), "latent HR, epochs 1-4", "-", "acquisition", "cox_band", "1-4", "latent", ("slower", "faster"))
    late = effect_line(tables(), "latent HR, epochs 11-20", "-", "acquisition", "cox_band", "11-20", "latent", ("slower", "faster"))
    columns, body = headline_table([early, late], seeds=[0, 1])
    assert columns == ["measure", "pooled (95% CI)", "seed 0", "seed 1", "per-seed range", "reading (pooled CI)", "paper"]
    assert body[0] == ["latent HR, epochs 1-4", "HR 12.70 (6.00-27.00), p = 0.010; n 100, 80 events", "10.00 (3.00-33.00)",
                       "15.00 (4.00-56.00)", "10 to 15", "faster", "-"]  # fmt: skip
    assert body[1][3] == "n/a (Cox fit did not converge)" and body[1][4] == "one seed"
    assert body[1][5] == "no difference shown (CI includes 1)"


def test_covariates_that_fail_the_ph_test_are_named_with_their_band_estimates():
    ph = pd.DataFrame({"endpoint": ["acquisition", "acquisition"], "covariate": ["latent", "depth"], "p": [1e-7, 0.4],
                       "violation": [True, False]})  # fmt: skip
    text = "\n".join(proportional_hazards_lines(ph, tables(), 0.05))
    assert "| acquisition | latent | p < 0.001 | 1-4: 12.70 (6.00-27.00); 11-20: 1.00 (0.70-1.40) |" in text
    assert "depth" not in text
    none = proportional_hazards_lines(ph.assign(violation=False), tables(), 0.05)
    assert none[-1] == "No covariate fails the proportional-hazards test at alpha = 0.05."


def test_markdown_table_has_a_row_per_measure():
    text = markdown(["measure", "pooled (95% CI)", "paper"], [["a", "1|2", "3"]], seeds=[0], epochs=20)
    assert "| measure | pooled (95% CI) | paper |" in text and "| a | 1/2 | 3 |" in text


def test_scoring_rule_follows_the_answer_setting():
    from latentfacts.analysis.run_facts import scoring_rule

    assert "end-of-turn token" in scoring_rule({"answer": "exact"})
    extract = scoring_rule({"answer": "extract", "max_new_tokens": 128, "json_field": "{ontology}_ID",
                            "identifier_patterns": {}, "reply_chars": 200})  # fmt: skip
    assert "extracted" in extract and "128 tokens" in extract and "{ontology}_ID" in extract
