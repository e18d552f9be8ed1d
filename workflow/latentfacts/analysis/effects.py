"""Hazard ratios beside the all-epoch pooled Cox model: per epoch band, per seed, and with the continuous exposure.

Every fit is `fit_cox` on a (sub)table: pooled over seeds (seed strata, fact-clustered robust errors) and for
each seed alone. Models:
- `cox`: all epochs, the endpoint's covariates;
- `cox_band`: one fit per epoch band of the facts still at risk at its start (`survival.band_table`): the
  time-varying Cox model with every coefficient band-specific;
- `cox_log10_p_sample`: all epochs with log10 of the baseline sampling probability in place of the latent flag
  (a sensitivity model; endpoints in which the knowledge class varies).
"""

import numpy as np
import pandas as pd

from latentfacts.analysis.cox import fit_cox
from latentfacts.analysis.survival import CLASS_ENDPOINTS, band_table, bands_within, sensitivity_columns

POOLED = "pooled"
EFFECT_COLUMNS = ["seed", "model", "band", "covariate", "coef", "se", "hr", "hr_lower", "hr_upper", "p", "n", "events",
                  "estimation", "errors", "note"]  # fmt: skip


def seed_scopes(table):
    """(label, rows): all seeds pooled, then each seed alone."""
    yield POOLED, table
    for seed, rows in table.groupby("seed", sort=True):
        yield str(seed), rows


def effect_rows(table, columns, settings):
    """One row per requested column: its estimate, or NaN and why there is none."""
    hazard_ratios, _, facts = fit_cox(table, columns, **settings)
    estimates = hazard_ratios.set_index("covariate")
    notes = "; ".join([facts["estimation_reason"], *facts["warnings"]] if facts["estimation_reason"] else facts["warnings"])
    rows = []
    for column in columns:
        row = {"covariate": column, "n": facts["n"], "events": facts["events"], "estimation": facts["estimation"] or "",
               "errors": facts.get("standard_errors", "")}  # fmt: skip
        if column in estimates.index:
            row.update(estimates.loc[column, ["coef", "se", "hr", "hr_lower", "hr_upper", "p"]].to_dict(), note=notes)
        else:
            row["note"] = facts["reason"] or facts["dropped"].get(column, "not estimated")
        rows.append(row)
    return rows


def effects(table, endpoint, columns, bands, horizon, settings):
    """The effects table (EFFECT_COLUMNS) of one endpoint's survival table; `settings` are `fit_cox`'s
    penalizer, ph_alpha and firth_min_events_per_covariate."""
    rows = []
    for seed, scope in seed_scopes(table):
        fits = [("cox", "all", scope, columns)]
        fits += [("cox_band", f"{first}-{last}", band_table(scope, first, last), columns) for first, last in bands_within(bands, horizon)]
        if endpoint in CLASS_ENDPOINTS:
            fits.append(("cox_log10_p_sample", "all", scope, sensitivity_columns(columns)))
        for model, band, rows_in, model_columns in fits:
            for row in effect_rows(rows_in, model_columns, settings):
                rows.append({"seed": seed, "model": model, "band": band, **row})
    result = pd.DataFrame(rows, columns=EFFECT_COLUMNS)
    return result.astype({name: float for name in ["coef", "se", "hr", "hr_lower", "hr_upper", "p"]})


def seed_spread(effects_table):
    """Per model, band and covariate: the range of the per-seed HRs and the SD of their log (ln HR)."""
    per_seed = effects_table[effects_table["seed"] != POOLED].dropna(subset=["coef"])
    grouped = per_seed.groupby(["model", "band", "covariate"], sort=False)
    return grouped.agg(
        seeds=("seed", "size"), hr_min=("hr", "min"), hr_max=("hr", "max"), sd_log_hr=("coef", lambda c: np.std(c, ddof=1))
    ).reset_index()
