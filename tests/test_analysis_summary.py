"""Headline numbers of summary.md from small tables whose answers are known."""

import pandas as pd

from latentfacts.analysis.summary import baseline_recall, degradation_by_exposure, hazard_ratio, markdown, recall_at

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


def test_degradation_compares_withheld_with_trained():
    degradation = pd.DataFrame({"seen": [0, 0, 1, 1, 1, 1], "event": [1, 0, 1, 0, 0, 0]})
    assert degradation_by_exposure(degradation) == "withheld 50.0% (1/2); trained 25.0% (1/4)"


def test_markdown_table_has_a_row_per_measure():
    table = pd.DataFrame([("a", "1|2", "3")], columns=["measure", "this run", "paper"])
    text = markdown(table, seeds=[0], epochs=20)
    assert "| measure | this run | paper |" in text and "| a | 1/2 | 3 |" in text
