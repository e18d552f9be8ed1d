"""Cox proportional-hazards fits (Efron ties, seed strata) with R's `cox.zph` PH test.

Maximum partial likelihood by guarded Newton steps; Firth's penalized likelihood with profile
intervals when events are too few per covariate or the likelihood is monotone (an infinite estimate).
The rows are put in a canonical order first, so the order of the table never changes a number.
"""

import logging

import numpy as np
import pandas as pd
from scipy import stats

from latentfacts.analysis.collinearity import variance_inflation, vif_warnings
from latentfacts.analysis.firth import FirthObjective, profile_inference
from latentfacts.analysis.partial_likelihood import PartialLikelihood, newton
from latentfacts.analysis.robust import clustered_covariance
from latentfacts.analysis.survival import unfit_reason, usable_covariates
from latentfacts.analysis.zph import TRANSFORM, p_value, zph_test

log = logging.getLogger(__name__)

HR_COLUMNS = ["covariate", "coef", "se", "hr", "hr_lower", "hr_upper", "p"]
PH_COLUMNS = ["covariate", "test_statistic", "df", "p", "violation"]
# R's coxph: a coefficient whose last Newton step is still this large relative to it may be infinite
INFINITE_EPS, INFINITE_TOLERANCE = 1e-9, np.sqrt(1e-9)
Z = stats.norm.ppf(0.975)


def strata_for(table):
    """Seed is a stratum (its own baseline hazard) when the table pools several seeds."""
    return ["seed"] if table["seed"].nunique() > 1 else []


def canonical_order(table):
    """One row order for every permutation of the same rows (a fact is one row per seed)."""
    return table.sort_values(["seed", "fact_id"], kind="stable").reset_index(drop=True)


def ridge_matrix(table, covariates, penalizer):
    """The L2 penalty 0.5 b'Rb as lifelines defines it: penalizer x n x (b_j sd_j)^2 / 2."""
    sd = table[covariates].std().to_numpy(dtype=float) if covariates else np.zeros(0)
    return np.diag(penalizer * len(table) * sd**2)


def likelihood_objective(likelihood, ridge):
    """beta -> (log partial likelihood - ridge penalty, gradient, information)."""

    def objective(beta):
        moments = likelihood.moments(beta)
        return (
            moments.log_likelihood - 0.5 * beta @ ridge @ beta,
            moments.score - ridge @ beta,
            moments.information + ridge,
        )

    return objective


def infinite_coefficients(objective, optimum, covariates):
    """Covariates whose estimate R's coxph would call possibly infinite (monotone likelihood)."""
    _, gradient, information = objective(optimum.beta)
    last_step = np.abs(np.linalg.lstsq(information, gradient, rcond=None)[0])
    flagged = (last_step > INFINITE_EPS) & (last_step > INFINITE_TOLERANCE * np.abs(optimum.beta))
    return [name for name, flag in zip(covariates, flagged) if flag]


def concordance(table, eta, strata):
    """Harrell's C as R's `concordance` for a Cox model: pairs within a stratum where the shorter time
    is an event (a censoring at the same time counts as longer); tied predictions count one half."""
    groups = table[strata[0]].to_numpy() if strata else np.zeros(len(table))
    duration, event = table["duration"].to_numpy(float), table["event"].to_numpy() == 1
    agree = disagree = tied = 0.0
    for group in np.unique(groups):
        rows = groups == group
        t, e, risk = duration[rows], event[rows], eta[rows]
        cases = np.flatnonzero(e)
        longer = (t[None, :] > t[cases, None]) | ((t[None, :] == t[cases, None]) & ~e[None, :])
        difference = risk[cases, None] - risk[None, :]
        agree += (longer & (difference > 0)).sum()
        disagree += (longer & (difference < 0)).sum()
        tied += (longer & (difference == 0)).sum()
    total = agree + disagree + tied
    return float((agree + tied / 2) / total) if total else None


def fit_cox(table, columns, penalizer, ph_alpha, firth_min_events_per_covariate=None):
    """(hazard-ratio table, PH-test table, model facts) for one endpoint's survival table.

    Firth's penalized likelihood replaces maximum likelihood when events per covariate fall below
    `firth_min_events_per_covariate` (None: never for that reason) or the maximum-likelihood estimate
    is infinite. A covariate without variation is dropped (logged); an endpoint that cannot be
    fitted gives empty tables and the reason in the model facts."""
    table = canonical_order(table)
    covariates, dropped = usable_covariates(table, columns)
    for column, why in dropped.items():
        log.warning("covariate %s dropped: %s", column, why)
    strata = strata_for(table)
    events = int(table["event"].sum())
    facts = {
        "model": "cox",
        "ties": "efron",
        "penalizer": penalizer,
        "n": len(table),
        "events": events,
        "strata": strata,
        "covariates": covariates,
        "dropped": dropped,
        "estimation": None,
        "estimation_reason": "",
        "vif": {},
        "concordance": None,
        "log_likelihood": None,
        "ph_test": f"cox.zph score test, {TRANSFORM} transform",
        "ph_global": None,
        "ph_violations": [],
        "reason": unfit_reason(table, covariates),
        "warnings": [],
    }
    empty = pd.DataFrame(columns=HR_COLUMNS), pd.DataFrame(columns=PH_COLUMNS)
    if facts["reason"]:
        log.warning("no Cox model: %s", facts["reason"])
        return *empty, facts
    facts["vif"] = variance_inflation(table, covariates)
    facts["warnings"] += vif_warnings(facts["vif"])
    likelihood = PartialLikelihood(
        table["duration"], table["event"], table[covariates].to_numpy(float), table[strata[0]] if strata else None
    )
    ridge = ridge_matrix(table, covariates, penalizer)
    objective = likelihood_objective(likelihood, ridge)
    optimum = newton(objective, np.zeros(len(covariates)))
    infinite = infinite_coefficients(objective, optimum, covariates)
    firth_reasons = []
    if firth_min_events_per_covariate is not None and events / len(covariates) < firth_min_events_per_covariate:
        firth_reasons.append(
            f"{events} events for {len(covariates)} covariates "
            f"({events / len(covariates):.1f} per covariate < {firth_min_events_per_covariate})"
        )
    if infinite:
        facts["warnings"].append(
            f"maximum likelihood: coefficient of {', '.join(infinite)} may be infinite "
            "(monotone likelihood, e.g. complete separation)"
        )
        firth_reasons.append("monotone likelihood")
    if firth_reasons:
        objective = FirthObjective(likelihood, ridge)
        optimum = newton(objective, np.zeros(len(covariates)), value_of=objective.value)
        facts["estimation"] = "firth"
        facts["estimation_reason"] = "Firth-penalized, profile-likelihood CIs: " + "; ".join(firth_reasons)
    else:
        facts["estimation"] = "maximum likelihood"
    if not optimum.converged:
        facts["warnings"].append(f"Newton iterations did not converge ({optimum.iterations} iterations)")
    for message in facts["warnings"]:
        log.warning("Cox fit: %s", message)
    _, _, information = objective(optimum.beta)
    covariance = np.linalg.pinv(information)
    if firth_reasons:
        facts["standard_errors"] = "profile likelihood" + (", seeds of a fact treated as independent" if strata else "")
    elif strata:
        # a fact has a row per seed: its rows form one cluster of the robust (sandwich) errors
        covariance = clustered_covariance(table, covariates, strata, "fact_id", optimum.beta, covariance)
        facts["standard_errors"] = "robust, clustered by fact"
    else:
        facts["standard_errors"] = "model-based"
    se = np.sqrt(np.diag(covariance))
    if firth_reasons:
        lower, upper, p = np.array(profile_inference(objective, optimum.beta, optimum.value, se)).T
    else:
        lower, upper = optimum.beta - Z * se, optimum.beta + Z * se
        p = 2 * stats.norm.sf(np.abs(optimum.beta / se))
    hazard_ratios = pd.DataFrame(
        {
            "covariate": covariates,
            "coef": optimum.beta,
            "se": se,
            "hr": np.exp(optimum.beta),
            "hr_lower": np.exp(lower),
            "hr_upper": np.exp(upper),
            "p": p,
        }
    )
    facts.update(
        iterations=optimum.iterations,
        converged=optimum.converged,
        step_halvings=optimum.halvings,
        concordance=concordance(table, table[covariates].to_numpy(float) @ optimum.beta, strata),
        log_likelihood=float(likelihood.moments(optimum.beta).log_likelihood),
    )
    ph, overall = ph_check(likelihood, optimum.beta, covariates, ph_alpha)
    facts["ph_global"] = overall
    facts["ph_violations"] = ph.loc[ph["violation"], "covariate"].tolist()
    return hazard_ratios, ph, facts


def ph_check(likelihood, beta, covariates, ph_alpha):
    """R's cox.zph per covariate (p < ph_alpha flags a violation) and its global test."""
    per_covariate, (statistic, df) = zph_test(likelihood, beta)
    ph = pd.DataFrame(
        {
            "covariate": covariates,
            "test_statistic": [per_covariate[j][0] for j in range(len(covariates))],
            "df": [per_covariate[j][1] for j in range(len(covariates))],
        }
    )
    ph["p"] = [p_value(s, d) for s, d in zip(ph["test_statistic"], ph["df"])]
    ph["violation"] = ph["p"] < ph_alpha
    p = p_value(statistic, df)
    overall = {"statistic": statistic, "df": df, "p": p, "violation": bool(p < ph_alpha)}
    return ph, overall
