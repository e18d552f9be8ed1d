"""Several studied models side by side: each model's estimates in one table, the rates that describe
what it knew and learned, and a pooled Cox model with the model as a stratum that tests whether the
focus covariate's effect (latent at baseline; `seen` for degradation) differs between models.

Every table names the model in column `studied_model` (`model` is a fit's kind in the per-model tables).
"""

import numpy as np
import pandas as pd
from scipy import stats

from latentfacts.analysis.cox import fit_cox
from latentfacts.analysis.figures import BAND_COVARIATE, wilson

KNOWLEDGE = ["known", "latent", "unknown"]
# the rates of a model's whole study: the event share of these endpoints' survival tables
RATE_ENDPOINTS = ["generalization", "degradation"]
ESTIMATE_COLUMNS = ["studied_model", "endpoint", "measure", "fit", "band", "covariate", "estimate", "ci_lower",
                    "ci_upper", "p", "n", "events", "note"]  # fmt: skip
RATE_COLUMNS = ["studied_model", "measure", "group", "events", "n", "estimate", "ci_lower", "ci_upper"]
RECALL_COLUMNS = ["studied_model", "split", "epoch", "correct", "n", "recall", "ci_lower", "ci_upper"]
POOLED_COLUMNS = ["endpoint", "term", "hr", "hr_lower", "hr_upper", "p", "n", "events", "estimation", "errors",
                  "lr_statistic", "lr_df", "lr_p", "reference_model", "note"]  # fmt: skip


def estimate_table(effects, contrasts):
    """One row per model, endpoint and estimate: the pooled Cox hazard ratios over all epochs and per
    epoch band (effects.csv) and the RMST difference latent - unknown (km_contrasts.csv), each with
    its 95% CI and n. `effects`, `contrasts`: {studied model: that model's table}."""
    frames = []
    for name, table in effects.items():
        pooled = table[(table["seed"] == "pooled") & table["model"].isin(["cox", "cox_band"])]
        frames.append(
            pd.DataFrame(
                {
                    "studied_model": name,
                    "endpoint": pooled["endpoint"],
                    "measure": "hazard_ratio",
                    "fit": pooled["model"],
                    "band": pooled["band"],
                    "covariate": pooled["covariate"],
                    "estimate": pooled["hr"],
                    "ci_lower": pooled["hr_lower"],
                    "ci_upper": pooled["hr_upper"],
                    "p": pooled["p"],
                    "n": pooled["n"],
                    "events": pooled["events"],
                    "note": pooled["note"],
                }
            )
        )
        rmst = contrasts[name]
        rmst = rmst[(rmst["seed"] == "pooled") & (rmst["measure"] == "rmst_difference")]
        frames.append(
            pd.DataFrame(
                {
                    "studied_model": name,
                    "endpoint": rmst["endpoint"],
                    "measure": "rmst_difference",
                    "fit": "kaplan_meier",
                    "band": "all",
                    "covariate": rmst["group"],
                    "estimate": rmst["estimate"],
                    "ci_lower": rmst["ci_lower"],
                    "ci_upper": rmst["ci_upper"],
                    "p": np.nan,
                    "n": rmst["n"],
                    "events": rmst["events"],
                    "note": "",
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[ESTIMATE_COLUMNS]


def rate_rows(name, measure, groups):
    """Rows of `measure` for model `name`: {group: (events, n)} with the share and its Wilson 95% interval."""
    events = np.array([hits for hits, _ in groups.values()])
    totals = np.array([n for _, n in groups.values()])
    lower, upper = wilson(events, totals)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = events / totals
    return pd.DataFrame(
        {"studied_model": name, "measure": measure, "group": list(groups), "events": events, "n": totals,
         "estimate": share, "ci_lower": lower, "ci_upper": upper}  # fmt: skip
    )


def rate_table(trajectories, survival):
    """Per model: the knowledge-class shares of the facts before fine-tuning, and the generalization and
    degradation rates (the share of seed x fact rows at risk whose event happened; the Wilson interval
    treats the rows as independent). `trajectories`: {model: table}; `survival`: {model: {endpoint: table}}."""
    frames = []
    for name, table in trajectories.items():
        facts = table[table["epoch"] == 0].drop_duplicates("fact_id")
        counts = facts["knowledge"].value_counts()
        frames.append(rate_rows(name, "knowledge_share", {k: (int(counts.get(k, 0)), len(facts)) for k in KNOWLEDGE}))
        for endpoint in RATE_ENDPOINTS:
            at_risk = survival[name][endpoint]
            frames.append(rate_rows(name, f"{endpoint}_rate", {"all": (int(at_risk["event"].sum()), len(at_risk))}))
    return pd.concat(frames, ignore_index=True)[RATE_COLUMNS]


def interaction_term(focus, name):
    return f"{focus}:{name}"


def pooled_survival(tables, focus):
    """The models' survival tables of one endpoint stacked, with a stratum per model and seed (each its
    own baseline hazard) in column `seed`, and `focus` x model indicators for every model after the
    first (the reference). Facts keep their ids, so the robust errors cluster a fact's rows across models."""
    names = list(tables)
    stacked = pd.concat([table.assign(studied_model=name) for name, table in tables.items()], ignore_index=True)
    stratum = stacked["studied_model"] + "/" + stacked["seed"].astype(str)
    stacked["seed"] = stratum.map({key: i for i, key in enumerate(sorted(stratum.unique()))})
    for name in names[1:]:
        stacked[interaction_term(focus, name)] = stacked[focus] * (stacked["studied_model"] == name)
    return stacked


def thin_groups(tables, focus):
    """The models in which a group of `focus` (0 or 1) has no event: there the model's own focus effect,
    and so its interaction, cannot be estimated."""
    thin = []
    for name, table in tables.items():
        for level in (0, 1):
            rows = table[table[focus] == level]
            if rows["event"].sum() == 0:
                thin.append(f"{name} has {len(rows)} rows with {focus} = {level} and no event among them")
    return thin


def pooled_interaction(tables, endpoint, columns, cox):
    """The pooled Cox model of one endpoint over every model (stratum per model and seed) with focus x
    model interactions: one row per term with its HR, 95% CI and p, and the likelihood-ratio test of all
    interaction terms together (against the same model without them). `tables`: {model: survival table}
    in the order whose first model is the reference; `cox`: fit_cox's settings."""
    focus = BAND_COVARIATE[endpoint]
    names = list(tables)
    common = {"endpoint": endpoint, "reference_model": names[0]}
    if focus not in columns:
        return pd.DataFrame([{**common, "term": focus, "note": f"{focus} is not among the model's covariates"}],
                            columns=POOLED_COLUMNS)  # fmt: skip
    if thin := thin_groups(tables, focus):
        note = f"{'; '.join(thin)}: the interaction needs events in both {focus} groups of every model"
        return pd.DataFrame([{**common, "term": focus, "note": note}], columns=POOLED_COLUMNS)
    stacked = pooled_survival(tables, focus)
    interactions = [interaction_term(focus, name) for name in names[1:]]
    full_hr, _, full = fit_cox(stacked, columns + interactions, **cox)
    _, _, reduced = fit_cox(stacked, columns, **cox)
    fitted = [term for term in interactions if term in full["covariates"]]
    if full["reason"] or reduced["reason"] or not fitted:
        why = full["reason"] or reduced["reason"] or f"{focus} x model dropped: {full['dropped']}"
        return pd.DataFrame([{**common, "term": focus, "n": full["n"], "events": full["events"], "note": why}],
                            columns=POOLED_COLUMNS)  # fmt: skip
    # a likelihood-ratio test compares maximum likelihoods; Firth's penalized fits have none to compare
    likelihoods = full["estimation"] == reduced["estimation"] == "maximum likelihood"
    statistic = max(2 * (full["log_likelihood"] - reduced["log_likelihood"]), 0.0) if likelihoods else np.nan
    rows = full_hr.rename(columns={"covariate": "term"}).drop(columns=["coef", "se"])
    return rows.assign(
        **common,
        n=full["n"],
        events=full["events"],
        estimation=full["estimation"],
        errors=full["standard_errors"],
        lr_statistic=statistic,
        lr_df=len(fitted),
        lr_p=stats.chi2.sf(statistic, len(fitted)) if likelihoods else np.nan,
        note="; ".join([full["estimation_reason"], *full["warnings"]]).strip("; "),
    )[POOLED_COLUMNS]


def recall_curves(trajectories):
    """Per model, split and epoch: correct facts among the seed x fact rows, with the Wilson 95% interval."""
    frames = []
    for name, table in trajectories.items():
        counts = table.groupby(["split", "epoch"])["correct"].agg(["sum", "size"]).reset_index()
        lower, upper = wilson(counts["sum"], counts["size"])
        frames.append(
            counts.assign(studied_model=name, recall=counts["sum"] / counts["size"], ci_lower=lower, ci_upper=upper)
        )
    return pd.concat(frames, ignore_index=True).rename(columns={"sum": "correct", "size": "n"})[RECALL_COLUMNS]
