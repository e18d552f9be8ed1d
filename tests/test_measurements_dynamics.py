"""Log-probability dynamics: gains, effectivity and the correctness threshold on hand-made trajectories."""

import numpy as np
import pandas as pd
import pytest

from latentfacts.measurements.logprob_dynamics import best_threshold, effectivity, gain_by_epoch, logprob_gains, threshold_summary


def trajectories():
    rows = []
    # fact A: gains 1, 3, 0.5 -> best epoch 2; first correct at epoch 2 (logprob -1.0, before -4.0)
    for epoch, (lp, ok) in enumerate([(-8.0, 0), (-7.0, 0), (-4.0, 0), (-1.0, 1)]):
        rows.append(("A", epoch, lp, ok))
    # fact B: correct from the start
    for epoch, (lp, ok) in enumerate([(-0.5, 1), (-0.4, 1), (-0.3, 1), (-0.2, 1)]):
        rows.append(("B", epoch, lp, ok))
    # fact C: never correct, equal gains (tie -> earliest epoch)
    for epoch, (lp, ok) in enumerate([(-9.0, 0), (-8.0, 0), (-7.0, 0), (-7.5, 0)]):
        rows.append(("C", epoch, lp, ok))
    table = pd.DataFrame(rows, columns=["fact_id", "epoch", "logprob", "correct"])
    return table.assign(seed=0, correct=table["correct"].astype(bool))


def test_gains_are_differences_of_consecutive_epochs():
    gains = logprob_gains(trajectories().sample(frac=1, random_state=1))
    a = gains[gains.fact_id == "A"].set_index("epoch")["gain"]
    assert np.isnan(a[0])
    assert a[1:].tolist() == [1.0, 3.0, 3.0]


def test_effectivity_and_first_correct():
    effect = effectivity(logprob_gains(trajectories())).set_index("fact_id")
    assert effect.loc["A", "best_epoch"] == 2 and effect.loc["A", "best_gain"] == 3.0
    assert effect.loc["A", "first_correct_epoch"] == 3
    assert effect.loc["A", "logprob_at_first_correct"] == -1.0
    assert effect.loc["A", "logprob_before"] == -4.0
    assert effect.loc["B", "first_correct_epoch"] == 0 and np.isnan(effect.loc["B", "logprob_before"])
    assert effect.loc["C", "best_epoch"] == 1  # tie between epochs 1 and 2
    assert np.isnan(effect.loc["C", "first_correct_epoch"])


def test_missing_epoch_is_an_error_naming_the_fact():
    table = trajectories()
    table = table[~((table.fact_id == "C") & (table.epoch == 2))]
    with pytest.raises(ValueError, match="fact C"):
        logprob_gains(table)


def test_best_threshold_separates_a_planted_cut():
    rng = np.random.default_rng(0)
    logprob = rng.uniform(-10, 0, 500)
    correct = logprob > -3.0
    tau, accuracy = best_threshold(logprob, correct)
    assert accuracy == 1.0
    assert logprob[correct].min() > tau > logprob[~correct].max()
    # equal values are never split: a cut lies between distinct values
    tau, accuracy = best_threshold(np.array([-1.0, -1.0, -1.0]), np.array([True, False, True]))
    assert accuracy == pytest.approx(2 / 3) and tau < -1.0


def test_threshold_summary_counts_only_facts_acquired_in_training():
    gains = logprob_gains(trajectories())
    summary = threshold_summary(gains, effectivity(gains))
    assert summary["n_acquired_in_training"] == 1
    assert summary["logprob_at_first_correct_quantiles"]["q50"] == -1.0
    assert summary["best_threshold_accuracy"] == 1.0
    table = gain_by_epoch(gains)
    assert table[table.epoch == 2]["mean_gain"].item() == pytest.approx((3.0 + 0.1 + 1.0) / 3)


def test_read_evals_names_a_bad_file(tmp_path):
    from latentfacts.measurements.runs import read_evals, read_seen_order
    from latentfacts.analysis.trajectories import InputError

    good = trajectories().query("epoch == 0").drop(columns="seed").assign(p_sample=0.1, first_token_rank=1)
    good.to_parquet(tmp_path / "epoch_00.parquet")
    good.assign(epoch=5).to_parquet(tmp_path / "epoch_01.parquet")
    good.drop(columns="logprob").to_parquet(tmp_path / "epoch_02.parquet")
    stacked = read_evals({(0, 0): tmp_path / "epoch_00.parquet"})
    assert len(stacked) == 3 and (stacked["seed"] == 0).all()
    with pytest.raises(InputError, match="epoch_01.parquet: epoch column must be 1"):
        read_evals({(0, 1): tmp_path / "epoch_01.parquet"})
    with pytest.raises(InputError, match=r"epoch_02.parquet: missing column\(s\) \['logprob'\]"):
        read_evals({(0, 2): tmp_path / "epoch_02.parquet"})
    good.to_parquet(tmp_path / "seen_order.parquet")  # a table without the `step` column
    with pytest.raises(InputError, match="seen_order.parquet: missing column"):
        read_seen_order(tmp_path)
