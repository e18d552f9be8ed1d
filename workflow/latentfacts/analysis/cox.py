"""Cox proportional-hazards fits (lifelines, Efron ties) with a Schoenfeld-residual PH check."""

import logging
import warnings

import pandas as pd
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError
from lifelines.statistics import proportional_hazard_test

from latentfacts.analysis.survival import unfit_reason, usable_covariates

log = logging.getLogger(__name__)

HR_COLUMNS = ["covariate", "coef", "se", "hr", "hr_lower", "hr_upper", "p"]
PH_COLUMNS = ["covariate", "test_statistic", "p", "violation"]


def strata_for(table):
    """Seed is a stratum (its own baseline hazard) when the table pools several seeds."""
    return ["seed"] if table["seed"].nunique() > 1 else []


def fit_cox(table, columns, penalizer, ph_alpha):
    """(hazard-ratio table, PH-test table, model facts) for one endpoint's survival table.

    A covariate without variation is dropped (logged); an endpoint that cannot be fitted gives
    empty tables and the reason in the model facts."""
    covariates, dropped = usable_covariates(table, columns)
    for column, why in dropped.items():
        log.warning("covariate %s dropped: %s", column, why)
    strata = strata_for(table)
    facts = {
        "model": "cox",
        "ties": "efron",
        "penalizer": penalizer,
        "n": len(table),
        "events": int(table["event"].sum()),
        "strata": strata,
        "covariates": covariates,
        "dropped": dropped,
        "concordance": None,
        "log_likelihood": None,
        "reason": unfit_reason(table, covariates),
        "warnings": [],
    }
    empty = pd.DataFrame(columns=HR_COLUMNS), pd.DataFrame(columns=PH_COLUMNS)
    if facts["reason"]:
        log.warning("no Cox model: %s", facts["reason"])
        return *empty, facts
    data = table[["duration", "event", *covariates, *strata]]
    fitter = CoxPHFitter(penalizer=penalizer)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fitter.fit(data, duration_col="duration", event_col="event", strata=strata or None)
    except ConvergenceError as error:
        facts["reason"] = f"Cox fit did not converge: {error}"
        log.warning("no Cox model: %s", facts["reason"])
        return *empty, facts
    # e.g. complete separation: estimates exist but are not identified; the models table says so
    facts["warnings"] = sorted({" ".join(str(w.message).split()) for w in caught})
    for message in facts["warnings"]:
        log.warning("Cox fit: %s", message)
    facts["concordance"] = float(fitter.concordance_index_)
    facts["log_likelihood"] = float(fitter.log_likelihood_)
    return hazard_ratios(fitter.summary), ph_check(fitter, data, ph_alpha), facts


def hazard_ratios(summary):
    return pd.DataFrame(
        {
            "covariate": summary.index.astype(str),
            "coef": summary["coef"].to_numpy(),
            "se": summary["se(coef)"].to_numpy(),
            "hr": summary["exp(coef)"].to_numpy(),
            "hr_lower": summary["exp(coef) lower 95%"].to_numpy(),
            "hr_upper": summary["exp(coef) upper 95%"].to_numpy(),
            "p": summary["p"].to_numpy(),
        }
    )


def ph_check(fitter, data, ph_alpha):
    """Scaled Schoenfeld residuals against rank(time), one test per covariate; p < ph_alpha flags a violation."""
    summary = proportional_hazard_test(fitter, data, time_transform="rank").summary
    return pd.DataFrame(
        {
            "covariate": summary.index.astype(str),
            "test_statistic": summary["test_statistic"].to_numpy(),
            "p": summary["p"].to_numpy(),
            "violation": (summary["p"] < ph_alpha).to_numpy(),
        }
    )
