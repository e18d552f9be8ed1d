"""Forgetting: steps since exposure, the exposure slope and the power-law fit recover planted values."""

import numpy as np
import pandas as pd
import pytest

from latentfacts.measurements.forgetting import (
    exposure_table,
    fit_exposure_slope,
    fit_power_law,
    iqr_outliers,
    mean_retainability,
    retainability,
    steps_since_exposure,
)


def test_steps_since_exposure_counts_the_exposure_update():
    # the model layer's log: global 0-based steps; this epoch ran steps 10..20
    seen = pd.DataFrame({"fact_id": ["a", "b", "a", "c"], "step": [11, 15, 13, 20]})
    since = steps_since_exposure(seen).set_index("fact_id")["steps_since"]
    assert since.to_dict() == {"a": 8, "b": 6, "c": 1}  # a: last seen at 13 -> updates 13..20


def planted_exposure_run(slope, n_facts=300, epochs=4, steps_per_epoch=30, seed=0):
    """Each epoch each fact is seen once at a random step; its gain falls with log(steps since)."""
    rng = np.random.default_rng(seed)
    facts = [f"F{i}" for i in range(n_facts)]
    logprob = {f: -10.0 for f in facts}
    evals = [dict(seed=0, fact_id=f, epoch=0, logprob=logprob[f]) for f in facts]
    seen_orders = {}
    for epoch in range(1, epochs + 1):
        # 0-based global steps; every step of the epoch holds some fact, as in a real epoch
        steps = (epoch - 1) * steps_per_epoch + np.arange(n_facts) % steps_per_epoch
        rng.shuffle(steps)
        seen_orders[(0, epoch)] = pd.DataFrame({"fact_id": facts, "step": steps})
        since = epoch * steps_per_epoch - steps
        for f, s in zip(facts, since):
            # epoch-specific learning curve + the planted forgetting + noise
            logprob[f] += 3.0 / epoch + slope * np.log(s) + rng.normal(0, 0.2)
            evals.append(dict(seed=0, fact_id=f, epoch=epoch, logprob=logprob[f]))
    return pd.DataFrame(evals), seen_orders


def test_exposure_slope_recovers_a_planted_slope():
    evals, seen_orders = planted_exposure_run(slope=-0.5)
    table = exposure_table(evals, seen_orders)
    assert len(table) == 300 * 4 and table["steps_since"].between(1, 30).all()
    fit = fit_exposure_slope(table, alpha=0.01)
    assert fit["ci_low"] < -0.5 < fit["ci_high"]
    assert fit["ci_high"] - fit["ci_low"] < 0.1
    assert fit["r2_within"] > 0.8


def test_exposure_without_forgetting_has_a_slope_near_zero():
    fit = fit_exposure_slope(exposure_table(*planted_exposure_run(slope=0.0, seed=1)))
    assert fit["ci_low"] < 0 < fit["ci_high"]


def test_exposure_table_names_a_fact_without_evaluation():
    evals, seen_orders = planted_exposure_run(slope=-0.5, n_facts=5, epochs=2)
    evals = evals[~((evals.fact_id == "F3") & (evals.epoch == 2))]
    with pytest.raises(ValueError, match="F3"):
        exposure_table(evals, seen_orders)


def planted_withdrawal(decay, intercept=1.0, n_facts=200, k=5, epochs=15, outliers=0.05, seed=0):
    """Log-probabilities whose retained fraction of the gain follows intercept - decay*log t, with gross outliers."""
    rng = np.random.default_rng(seed)
    rows, withdrawn = [], []
    for i in range(n_facts):
        fact = f"F{i}"
        lp0, gain = rng.uniform(-12, -8), rng.uniform(3, 8)
        withdrawn.append(fact)
        for epoch in range(epochs + 1):
            if epoch <= k:
                lp = lp0 + gain * epoch / k
            else:
                r = intercept - decay * np.log(epoch - k) + rng.normal(0, 0.03)
                if rng.random() < outliers:
                    r += rng.choice([-1, 1]) * rng.uniform(3, 6)
                lp = lp0 + gain * r
            rows.append(dict(seed=0, fact_id=fact, epoch=epoch, logprob=lp))
    # an unwithdrawn fact and a withdrawn fact that never gained anything
    rows += [dict(seed=0, fact_id="kept", epoch=e, logprob=-1.0 * e) for e in range(epochs + 1)]
    rows += [dict(seed=0, fact_id="flat", epoch=e, logprob=-5.0) for e in range(epochs + 1)]
    withdrawn.append("flat")
    return pd.DataFrame(rows), pd.DataFrame({"seed": 0, "fact_id": withdrawn}), k


def test_power_law_fit_recovers_a_planted_decay_constant():
    evals, withdrawn, k = planted_withdrawal(decay=0.2)
    table = retainability(evals, withdrawn, after_epoch=k, min_gain=0.5)
    assert set(table["fact_id"]) == {f"F{i}" for i in range(200)}  # unwithdrawn and flat facts left out
    assert table.attrs["n_below_min_gain"] == 1
    assert table["t"].min() == 1 and table["t"].max() == 10
    outliers = iqr_outliers(table, factor=1.5)
    assert 0.03 < outliers.mean() < 0.08
    fit = fit_power_law(table[~outliers])
    assert fit["decay_ci_low"] < 0.2 < fit["decay_ci_high"]
    assert fit["x_intercept"] == pytest.approx(np.exp(1.0 / 0.2), rel=0.1)
    assert fit["r2"] > 0.9
    # the outliers would spoil it: the raw fit is far less certain
    raw = fit_power_law(table)
    assert raw["decay_ci_high"] - raw["decay_ci_low"] > 2 * (fit["decay_ci_high"] - fit["decay_ci_low"])
    curve = mean_retainability(table[~outliers])
    assert curve.loc[curve.t == 1, "mean_R"].item() == pytest.approx(1.0, abs=0.02)


def test_no_decay_gives_no_finite_threshold():
    evals, withdrawn, k = planted_withdrawal(decay=0.0, outliers=0.0, seed=3)
    fit = fit_power_law(retainability(evals, withdrawn, after_epoch=k, min_gain=0.5))
    assert fit["decay_ci_low"] < 0 < fit["decay_ci_high"]
    assert fit["x_intercept"] > 1e3  # far beyond any horizon


def test_growth_after_withdrawal_has_no_threshold():
    evals, withdrawn, k = planted_withdrawal(decay=-0.1, outliers=0.0, seed=4)
    fit = fit_power_law(retainability(evals, withdrawn, after_epoch=k, min_gain=0.5))
    assert fit["decay_ci_high"] < 0 and fit["x_intercept"] is None
