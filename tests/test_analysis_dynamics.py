"""Learning dynamics and the fact-cluster bootstrap on hand-made acquisition tables whose answers are known."""

import numpy as np
import pandas as pd
import pytest

from latentfacts.analysis.bootstrap import fact_weights, interval
from latentfacts.analysis.dynamics import dynamics


def measures(summary, knowledge, scope="pooled"):
    rows = summary[(summary["seed"] == scope) & (summary["knowledge"] == knowledge)]
    return rows.set_index("measure")


def test_peak_and_convergence_on_epochs_with_enough_facts_at_risk():
    # 10 facts: 4 acquired at 1, 4 at 2, 1 at 5, one censored at 5
    table = pd.DataFrame({"fact_id": [f"F{i}" for i in range(10)], "seed": 0, "knowledge": "unknown",
                          "duration": [1] * 4 + [2] * 4 + [5, 5], "event": [1] * 9 + [0], "reverted": 0})  # fmt: skip
    curves, summary = dynamics(table, horizon=5, convergence_fraction=0.8, min_at_risk=1, replicates=200, seed=0)
    got = measures(summary, "all")["estimate"]
    # rates: 4/10, 4/6, 0/2, 0/2, 1/2 -> peak 2/3 at epoch 2; cumulative .4 .8 .8 .8 .9 -> 0.8 * 0.9 = .72 first at 2
    assert got["peak_rate"] == pytest.approx(2 / 3) and got["peak_epoch"] == 2
    assert got["convergence_epoch"] == 2 and got["final_fraction"] == pytest.approx(0.9)
    assert set(curves["seed"]) == {"0", "pooled"}
    # with 3 facts needed at risk, epochs 3-5 (2 at risk) no longer count: the 1/2 at epoch 5 could not be the peak
    _, strict = dynamics(table, horizon=5, convergence_fraction=0.8, min_at_risk=3, replicates=200, seed=0)
    row = measures(strict, "all").loc["peak_rate"]
    assert row["estimate"] == pytest.approx(2 / 3) and row["note"] == "epochs 1-2 have >= 3 at risk"
    assert row["ci_lower"] <= row["estimate"] <= row["ci_upper"]


def test_a_tail_of_few_facts_gives_no_peak_and_a_small_class_no_convergence():
    # latent: 3 facts, all acquired late (the "peak rate 1 of 3 facts at risk" of a tiny tail)
    table = pd.DataFrame({"fact_id": ["A", "B", "C"], "seed": 0, "knowledge": "latent", "duration": [5, 5, 5],
                          "event": 1, "reverted": 0})  # fmt: skip
    _, summary = dynamics(table, horizon=5, convergence_fraction=0.95, min_at_risk=10, replicates=100, seed=0)
    latent = measures(summary, "latent")
    assert np.isnan(latent.loc["peak_rate", "estimate"]) and "fewer than 10 facts at risk" in latent.loc["peak_rate", "note"]
    assert np.isnan(latent.loc["convergence_epoch", "estimate"]) and latent.loc["convergence_epoch", "note"] == "fewer than 10 facts"


def test_reverted_share_counts_first_hits_before_the_last_epoch():
    table = pd.DataFrame({"fact_id": ["A", "B", "C", "D", "E"], "seed": 0, "knowledge": "unknown",
                          "duration": [1, 2, 3, 5, 5], "event": [1, 1, 1, 1, 0], "reverted": [1, 0, 1, 0, 0]})  # fmt: skip
    _, summary = dynamics(table, horizon=5, convergence_fraction=0.95, min_at_risk=1, replicates=300, seed=0)
    row = measures(summary, "all").loc["reverted_share"]
    # first hits at 1, 2 and 3 can revert (a hit at the last epoch cannot be seen to); 2 of 3 do
    assert row["estimate"] == pytest.approx(2 / 3) and row["note"] == "3 first hits before epoch 5"
    assert 0 <= row["ci_lower"] <= row["estimate"] <= row["ci_upper"] <= 1


def test_latent_minus_unknown_differences_and_same_seed_same_table():
    rng = np.random.default_rng(3)
    rows = []
    for seed in (0, 1):
        for i in range(120):
            latent = i < 40
            duration = int(min(rng.geometric(0.5 if latent else 0.15), 8))
            rows.append({"fact_id": f"F{i}", "seed": seed, "knowledge": "latent" if latent else "unknown",
                         "duration": duration, "event": int(duration < 8 or rng.random() < 0.5), "reverted": 0})  # fmt: skip
    table = pd.DataFrame(rows)
    _, summary = dynamics(table, horizon=8, convergence_fraction=0.9, min_at_risk=10, replicates=300, seed=7)
    difference = measures(summary, "latent - unknown")
    assert difference.loc["convergence_epoch", "ci_upper"] < 0  # planted: latent facts converge earlier
    assert set(summary["seed"]) == {"pooled", "0", "1"}
    _, again = dynamics(table, horizon=8, convergence_fraction=0.9, min_at_risk=10, replicates=300, seed=7)
    pd.testing.assert_frame_equal(summary, again)


def test_bootstrap_draws_facts_and_keeps_a_facts_rows_together():
    fact_ids = np.array(["b", "a", "b", "c", "a", "c"])  # each fact once per seed
    weights = fact_weights(fact_ids, replicates=50, seed=1)
    assert weights.shape == (51, 6) and (weights[0] == 1).all()
    for fact in "abc":
        rows = weights[:, fact_ids == fact]
        assert (rows == rows[:, :1]).all()  # one weight per fact, shared by its seeds
    assert (weights[1:, [1, 0, 3]].sum(axis=1) == 3).all()  # three facts drawn per replicate
    estimate, lower, upper = interval(np.array([2.0, 1.0, 3.0, np.inf, 2.0]))
    assert (estimate, lower, upper) == (2.0, 1.0, np.inf)
