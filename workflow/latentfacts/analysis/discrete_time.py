"""Discrete-time proportional hazards: a person-period binomial GLM with complementary log-log link.

With events observed only at whole epochs, P(event at t | at risk) = 1 - exp(-exp(a_t + x'b)) is the
grouped-time version of the Cox model, so exp(b) is a hazard ratio on the same scale. a_t has one
level per period (epoch, or a run of sparse epochs collapsed together so every period stays
estimable). Standard errors are cluster-robust by fact: a fact's rows, over epochs and seeds, form
one cluster. The sandwich is R's `sandwich::vcovCL` default for a GLM: expected-information bread
(X'WX)^-1 with IRLS weights, meat sum_g U_g U_g' of the per-fact score sums, and the cluster factor
G/(G-1) (type HC0: vcovCL's HC1 factor (n-1)/(n-k) is for lm fits only). statsmodels' own cluster
option uses the observed-information bread and also the HC1 factor; the bread differs under the
non-canonical cloglog link.
"""

import logging
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from latentfacts.analysis.collinearity import variance_inflation, vif_warnings
from latentfacts.analysis.cox import HR_COLUMNS, Z, canonical_order
from latentfacts.analysis.survival import unfit_reason, usable_covariates

log = logging.getLogger(__name__)


def person_period(table, columns):
    """One row per fact x epoch at risk: epoch, y (1 at the event epoch), and the fact's columns."""
    repeats = table["duration"].to_numpy()
    rows = table.loc[table.index.repeat(repeats), ["fact_id", "seed", *columns]].reset_index(drop=True)
    starts = np.cumsum(repeats) - repeats
    rows["epoch"] = np.arange(repeats.sum()) - np.repeat(starts, repeats) + 1
    last = rows["epoch"].to_numpy() == np.repeat(repeats, repeats)
    rows["y"] = (last & np.repeat(table["event"].to_numpy() == 1, repeats)).astype(int)
    return rows


def collapse_epochs(rows, min_events):
    """{epoch: period label}: consecutive epochs are joined until each period has at least
    `min_events` events and one non-event (otherwise its a_t is -inf or +inf); a short tail joins
    the period before it."""
    counts = rows.groupby("epoch")["y"].agg(["sum", "size"]).sort_index()
    periods, current = [], []
    for epoch, (events, size) in counts.iterrows():
        current.append((epoch, events, size))
        period_events = sum(e for _, e, _ in current)
        period_nonevents = sum(s - e for _, e, s in current)
        if period_events >= min_events and period_nonevents >= 1:
            periods.append(current)
            current = []
    if current:
        if periods:
            periods[-1] += current
        else:
            periods.append(current)
    labels = {}
    for period in periods:
        first, last = period[0][0], period[-1][0]
        label = f"epoch {first}" if first == last else f"epochs {first}-{last}"
        labels.update({epoch: label for epoch, _, _ in period})
    return labels


def cluster_robust_covariance(result, clusters):
    """R's sandwich::vcovCL(fit, cluster) for a fitted statsmodels GLM (its glm default: HC0, cadjust)."""
    exog, endog = result.model.exog, result.model.endog
    eta = exog @ result.params
    family = result.model.family
    mean = family.link.inverse(eta)
    slope = family.link.inverse_deriv(eta)  # d mean / d eta
    variance = family.variance(mean)
    bread = np.linalg.inv(exog.T @ (exog * (slope**2 / variance)[:, None]))
    scores = exog * ((endog - mean) * slope / variance)[:, None]
    per_cluster = pd.DataFrame(scores).groupby(clusters).sum().to_numpy()
    g = len(per_cluster)
    return bread @ (per_cluster.T @ per_cluster) @ bread * (g / (g - 1))


def fit_discrete(table, columns, min_events):
    """(hazard-ratio table, model facts) for one endpoint's survival table, the layout of `fit_cox`."""
    table = canonical_order(table)
    covariates, dropped = usable_covariates(table, columns)
    for column, why in dropped.items():
        log.warning("covariate %s dropped: %s", column, why)
    facts = {
        "model": "discrete-time cloglog GLM",
        "n": len(table),
        "events": int(table["event"].sum()),
        "covariates": covariates,
        "dropped": dropped,
        "standard_errors": "cluster-robust by fact, as R sandwich::vcovCL (expected-information bread, HC0, G/(G-1))",
        "vif": {},
        "reason": unfit_reason(table, covariates),
        "warnings": [],
    }
    if facts["reason"]:
        log.warning("no discrete-time model: %s", facts["reason"])
        return pd.DataFrame(columns=HR_COLUMNS), facts
    facts["vif"] = variance_inflation(table, covariates)
    facts["warnings"] += vif_warnings(facts["vif"])
    rows = person_period(table, covariates)
    periods = collapse_epochs(rows, min_events)
    period = pd.Categorical(rows["epoch"].map(periods), categories=list(dict.fromkeys(periods.values())))
    design = [pd.get_dummies(period, dtype=float).set_axis(rows.index)]
    if table["seed"].nunique() > 1:
        # seed as a fixed effect: each replicate its own baseline hazard, as the Cox stratum
        design.append(pd.get_dummies(rows["seed"], prefix="seed", drop_first=True, dtype=float))
    design.append(rows[covariates].astype(float))
    exog = pd.concat(design, axis=1)
    clusters = pd.factorize(rows["fact_id"], sort=True)[0]
    model = sm.GLM(rows["y"], exog, family=sm.families.Binomial(link=sm.families.links.CLogLog()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = model.fit()
            covariance = cluster_robust_covariance(result, clusters)
        except np.linalg.LinAlgError as error:
            # e.g. a period in which every fact at risk of one covariate level has the event
            facts["reason"] = f"the discrete-time model cannot be estimated: {error}"
            log.warning("no discrete-time model: %s", facts["reason"])
            return pd.DataFrame(columns=HR_COLUMNS), facts
    facts["warnings"] += sorted({" ".join(str(w.message).split()) for w in caught})
    for message in facts["warnings"]:
        log.warning("discrete-time fit: %s", message)
    facts.update(
        person_periods=len(rows),
        clusters=int(clusters.max() + 1),
        periods={int(epoch): label for epoch, label in periods.items()},
        converged=bool(result.converged),
        log_likelihood=float(result.llf),
    )
    if not result.converged:
        log.warning("the discrete-time model did not converge; estimates are unreliable")
    position = [exog.columns.get_loc(name) for name in covariates]
    coef = result.params[covariates].to_numpy()
    se = np.sqrt(np.diag(covariance)[position])
    hazard_ratios = pd.DataFrame(
        {
            "covariate": covariates,
            "coef": coef,
            "se": se,
            "hr": np.exp(coef),
            "hr_lower": np.exp(coef - Z * se),
            "hr_upper": np.exp(coef + Z * se),
            "p": 2 * stats.norm.sf(np.abs(coef / se)),
        }
    )
    return hazard_ratios, facts
