"""Forgetting between exposures (after Chang et al. 2024).

(a) From the logged training order: how many optimizer steps lie between a fact's last exposure in an
    epoch and that epoch's checkpoint, and does the epoch's change in log-probability fall with log(steps)?
(b) From the withdrawal arm: retainability R(t) of facts no longer trained after epoch k, and a power-law
    fit R = intercept - decay * log t (decay constant; x-intercept = learnability threshold).
"""

import numpy as np
import pandas as pd


def steps_since_exposure(seen_order):
    """Per fact: optimizer steps from its last exposure in an epoch to that epoch's checkpoint.

    `seen_order` is one epoch's log: fact_id and `step` (the optimizer step whose batch held the fact).
    The checkpoint follows the epoch's last step, so the count is last_step - step + 1: it includes the
    exposure's own update, and a fact in the last batch has 1, never 0.
    """
    last = seen_order.groupby("fact_id")["step"].max()
    return (seen_order["step"].max() - last + 1).rename("steps_since").reset_index()


def exposure_table(evals, seen_orders):
    """Per seed x fact x epoch >= 1 (facts trained in that epoch): delta = logprob(e) - logprob(e-1) and
    the steps since the fact's last exposure in epoch e.

    `evals`: seed, fact_id, epoch, logprob. `seen_orders`: {(seed, epoch): seen_order table}.
    """
    table = evals.sort_values(["seed", "fact_id", "epoch"])
    table = table.assign(delta=table.groupby(["seed", "fact_id"])["logprob"].diff())
    exposures = pd.concat(
        [
            steps_since_exposure(seen).assign(seed=seed, epoch=epoch)
            for (seed, epoch), seen in sorted(seen_orders.items())
        ],
        ignore_index=True,
    )
    joined = exposures.merge(table[["seed", "fact_id", "epoch", "delta"]], on=["seed", "fact_id", "epoch"], how="left")
    missing = joined[joined["delta"].isna()]
    if len(missing):
        row = missing.iloc[0]
        raise ValueError(
            f"fact {row.fact_id} was trained in epoch {row.epoch} (seed {row.seed}) but its evaluation "
            f"at that epoch or the one before is missing"
        )
    joined["log_steps"] = np.log(joined["steps_since"])
    return joined[["seed", "fact_id", "epoch", "steps_since", "log_steps", "delta"]]


def fit_exposure_slope(table, alpha=0.05):
    """delta ~ log_steps + epoch fixed effects (+ seed), standard errors clustered by fact.

    Epoch effects soak up the shared learning curve (early epochs gain most); what is left is the
    within-epoch comparison of facts seen early vs late, whose order is random. Returns slope, its CI
    and p, R^2 of the whole model and the within-epoch R^2 of log_steps alone.
    """
    import statsmodels.formula.api as smf

    data = table.assign(period=table["seed"].astype(str) + "_" + table["epoch"].astype(str))
    multi_period = data["period"].nunique() > 1
    formula = "delta ~ log_steps + C(period)" if multi_period else "delta ~ log_steps"
    groups = pd.factorize(data["seed"].astype(str) + "|" + data["fact_id"].astype(str))[0]
    fit = smf.ols(formula, data=data).fit(cov_type="cluster", cov_kwds={"groups": groups})
    low, high = fit.conf_int(alpha).loc["log_steps"]
    within_x = data["log_steps"] - data.groupby("period")["log_steps"].transform("mean")
    within_y = data["delta"] - data.groupby("period")["delta"].transform("mean")
    r2_within = float(np.corrcoef(within_x, within_y)[0, 1] ** 2) if within_x.std() > 0 else float("nan")
    return {
        "slope": float(fit.params["log_steps"]),
        "ci_low": float(low),
        "ci_high": float(high),
        "p": float(fit.pvalues["log_steps"]),
        "r2": float(fit.rsquared),
        "r2_within": r2_within,
        "n": int(fit.nobs),
        "n_facts": int(data[["seed", "fact_id"]].drop_duplicates().shape[0]),
        "ci_level": 1 - alpha,
    }


def retainability(evals, withdrawn, after_epoch, min_gain):
    """R(t) = (logprob(k+t) - logprob(0)) / (logprob(k) - logprob(0)) for each withdrawn fact, t >= 1.

    `evals`: seed, fact_id, epoch, logprob of the withdrawal arm (epochs 0..E; k = after_epoch).
    `withdrawn`: seed, fact_id. Facts whose gain up to k is below `min_gain` (nats) have no meaningful
    ratio and are left out (counted in the returned table's attrs).
    """
    arm = evals.merge(withdrawn[["seed", "fact_id"]], on=["seed", "fact_id"])
    wide = arm.pivot_table(index=["seed", "fact_id"], columns="epoch", values="logprob")
    if after_epoch not in wide.columns or 0 not in wide.columns:
        raise ValueError(f"retainability: evaluations at epoch 0 and epoch {after_epoch} (withdrawal) are needed")
    gain = wide[after_epoch] - wide[0]
    kept = wide[gain >= min_gain]
    later = [e for e in wide.columns if e > after_epoch]
    ratios = kept[later].sub(kept[0], axis=0).div(gain[gain >= min_gain], axis=0)
    table = ratios.stack().rename("R").reset_index()
    table["t"] = table["epoch"] - after_epoch
    table = table.merge(gain.rename("gain_until_withdrawal").reset_index(), on=["seed", "fact_id"])
    table.attrs["n_withdrawn"] = int(len(wide))
    table.attrs["n_below_min_gain"] = int((gain < min_gain).sum())
    return table[["seed", "fact_id", "epoch", "t", "gain_until_withdrawal", "R"]]


def iqr_outliers(table, value="R", by="t", factor=1.5):
    """Flag rows outside [Q1 - factor*IQR, Q3 + factor*IQR] of `value` within each `by` group (Tukey's fences)."""
    grouped = table.groupby(by)[value]
    q1 = grouped.transform(lambda s: s.quantile(0.25))
    q3 = grouped.transform(lambda s: s.quantile(0.75))
    spread = factor * (q3 - q1)
    return (table[value] < q1 - spread) | (table[value] > q3 + spread)


def fit_power_law(table, alpha=0.05):
    """R = intercept - decay * log t on the rows given (outliers already removed), SEs clustered by fact.

    The x-intercept exp(intercept / decay) is the number of epochs after which the gain is gone
    (Chang's learnability threshold); None when the decay is not positive (or the threshold beyond any
    representable horizon), so the fit stays valid JSON.
    """
    import statsmodels.formula.api as smf

    data = table.assign(log_t=np.log(table["t"]))
    groups = pd.factorize(data["seed"].astype(str) + "|" + data["fact_id"].astype(str))[0]
    fit = smf.ols("R ~ log_t", data=data).fit(cov_type="cluster", cov_kwds={"groups": groups})
    slope_low, slope_high = fit.conf_int(alpha).loc["log_t"]
    decay = -float(fit.params["log_t"])
    intercept = float(fit.params["Intercept"])
    return {
        "decay": decay,
        "decay_ci_low": -float(slope_high),
        "decay_ci_high": -float(slope_low),
        "intercept": intercept,
        "r2": float(fit.rsquared),
        "x_intercept": float(np.exp(intercept / decay)) if decay > 0 and intercept / decay < 700 else None,
        "n": int(fit.nobs),
        "n_facts": int(data[["seed", "fact_id"]].drop_duplicates().shape[0]),
        "ci_level": 1 - alpha,
    }


def mean_retainability(table):
    """Mean R and its standard error per t (rows already filtered), for the figure."""
    grouped = table.groupby("t")["R"]
    return pd.DataFrame({"mean_R": grouped.mean(), "se": grouped.sem(), "n": grouped.size()}).reset_index()
