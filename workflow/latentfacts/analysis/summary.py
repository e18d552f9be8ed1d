"""Headline numbers of a run beside the paper's (Hier & Obafemi-Ajayi 2026), as Markdown tables.

Every estimate is shown with its 95% interval and n, pooled over seeds and per seed; the "reading" column
words a contrast only when the pooled interval excludes the null value.
"""

import numpy as np
import pandas as pd

from latentfacts.analysis.effects import POOLED

ACQUISITION_ENDPOINTS = ["acquisition", "acquisition_stable"]
NOT_SHOWN = "no difference shown (CI includes {null})"


def model_row(facts):
    """One flat row (for the models table) from a model's JSON facts."""
    dropped = "; ".join(f"{name}: {why}" for name, why in facts["dropped"].items())
    return {
        "n": facts["n"],
        "events": facts["events"],
        "covariates": ", ".join(facts["covariates"]),
        "dropped": dropped,
        "concordance": facts.get("concordance"),
        "log_likelihood": facts.get("log_likelihood"),
        "estimation": facts.get("estimation") or "",
        "estimation_reason": facts.get("estimation_reason", ""),
        "standard_errors": facts.get("standard_errors", ""),
        "vif": "; ".join(f"{name}: {value:.2f}" for name, value in facts.get("vif", {}).items()),
        "ph_global_p": (facts.get("ph_global") or {}).get("p"),
        "reason": facts["reason"] or "",
        "warnings": "; ".join(facts["warnings"]),
    }


def percent(hits, total):
    return f"{100 * hits / total:.1f}% ({hits}/{total})" if total else "n/a (no facts)"


def recall_at(trajectories, epoch, ontology, split=None):
    """Recall of `ontology` (and `split`) facts at `epoch`, one seed or the mean over seeds with their range."""
    rows = trajectories[(trajectories["epoch"] == epoch) & (trajectories["ontology"] == ontology)]
    if split:
        rows = rows[rows["split"] == split]
    per_seed = rows.groupby("seed")["correct"].agg(["sum", "size"])
    if len(per_seed) == 1:
        return percent(int(per_seed["sum"].iloc[0]), int(per_seed["size"].iloc[0]))
    if per_seed.empty:
        return "n/a (no facts)"
    fractions = 100 * per_seed["sum"] / per_seed["size"]
    return f"{fractions.mean():.1f}% mean of {len(per_seed)} seeds (range {fractions.min():.1f}-{fractions.max():.1f}%)"


def baseline_recall(trajectories, ontology):
    facts = trajectories[(trajectories["epoch"] == 0) & (trajectories["ontology"] == ontology)].drop_duplicates("fact_id")
    return percent(int(facts["baseline_correct"].sum()), len(facts))


def p_text(p):
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def hazard_ratio(hazard_ratios, models, endpoint, model, covariate):
    """'HR x (95% CI a-b), p = ...' or why there is none."""
    fit = hazard_ratios[
        (hazard_ratios["endpoint"] == endpoint) & (hazard_ratios["model"] == model) & (hazard_ratios["covariate"] == covariate)
    ]
    if fit.empty:
        facts = models[(models["endpoint"] == endpoint) & (models["model"] == model)].iloc[0]
        reason = facts["reason"] if isinstance(facts["reason"], str) and facts["reason"] else f"{covariate} dropped"
        return f"not estimable ({reason})"
    row = fit.iloc[0]
    return f"HR {row['hr']:.2f} (95% CI {row['hr_lower']:.2f}-{row['hr_upper']:.2f}), {p_text(row['p'])}"


def reading(lower, upper, null, below, above):
    """Words for a contrast, only where its interval excludes `null`."""
    if pd.isna(lower) or pd.isna(upper):
        return "no interval"
    if upper < null:
        return below
    if lower > null:
        return above
    return NOT_SHOWN.format(null=null)


def number(value):
    return "not reached" if value == np.inf else f"{value:.3g}"


def interval_text(estimate, lower, upper):
    if pd.isna(estimate):
        return "n/a"
    return f"{number(estimate)} ({number(lower)} to {number(upper)})" if pd.notna(lower) else f"{number(estimate)} (no CI)"


def brief(note):
    """The first sentence of a fitter's message (lifelines appends tips and links)."""
    return note.split(". ")[0].split(": ")[0].rstrip(".")[:120] if isinstance(note, str) else ""


class Tables:
    """The result tables the summary reads, and lookups into them by endpoint, seed scope and measure."""

    def __init__(self, effects, contrasts, dynamics, degradation_logrank, seeds):
        self.effects, self.contrasts, self.dynamics = effects, contrasts, dynamics
        self.degradation_logrank = degradation_logrank
        self.scopes = [POOLED, *map(str, seeds)]

    def effect(self, endpoint, model, band, covariate, scope):
        rows = self.effects[(self.effects["endpoint"] == endpoint) & (self.effects["model"] == model)
                            & (self.effects["band"] == band) & (self.effects["covariate"] == covariate)
                            & (self.effects["seed"].astype(str) == scope)]  # fmt: skip
        return rows.iloc[0] if len(rows) else None

    def contrast(self, endpoint, measure, group, scope):
        rows = self.contrasts[(self.contrasts["endpoint"] == endpoint) & (self.contrasts["measure"] == measure)
                              & (self.contrasts["group"] == group) & (self.contrasts["seed"].astype(str) == scope)]  # fmt: skip
        return rows.iloc[0] if len(rows) else None

    def dynamic(self, knowledge, measure, scope):
        rows = self.dynamics[(self.dynamics["knowledge"] == knowledge) & (self.dynamics["measure"] == measure)
                             & (self.dynamics["seed"].astype(str) == scope)]  # fmt: skip
        return rows.iloc[0] if len(rows) else None

    def logrank(self, endpoint, scope):
        rows = self.degradation_logrank[(self.degradation_logrank["endpoint"] == endpoint)
                                        & (self.degradation_logrank["seed"].astype(str) == scope)]  # fmt: skip
        return rows.iloc[0] if len(rows) else None

    def bands(self, endpoint):
        rows = self.effects[(self.effects["endpoint"] == endpoint) & (self.effects["model"] == "cox_band")]
        return list(dict.fromkeys(rows["band"]))


def effect_cell(row, pooled):
    """A hazard ratio with CI (pooled: with p, n and events), or why there is none."""
    if row is None:
        return "n/a"
    if pd.isna(row["hr"]):
        return f"n/a ({brief(row['note'])})"
    text = f"{row['hr']:.2f} ({row['hr_lower']:.2f}-{row['hr_upper']:.2f})"
    if row.get("estimation") == "firth":
        text = f"Firth {text}"
    if pooled:
        text = f"HR {text}, {p_text(row['p'])}; n {int(row['n'])}, {int(row['events'])} events"
        if brief(row["note"]):
            text += f"; fit warning: {brief(row['note'])}"
    return text


def interval_cell(row, pooled, unit=""):
    if row is None:
        return "n/a"
    if pd.isna(row["estimate"]):
        return f"n/a ({brief(row['note'])})" if "note" in row and brief(row["note"]) else "n/a"
    text = interval_text(row["estimate"], row["ci_lower"], row["ci_upper"]) + unit
    return f"{text}; n {int(row['n'])}" if pooled else text


def spread(values):
    """Range of the per-seed estimates, or why there is none."""
    values = [v for v in values if pd.notna(v)]
    return f"{number(min(values))} to {number(max(values))}" if len(values) > 1 else "one seed"


class Row:
    """One line of the headline table: a cell per scope (pooled first) from `cell(scope, pooled)`."""

    def __init__(self, measure, paper, cells, values=(), read="", spread_of=""):
        self.measure, self.paper, self.cells, self.values, self.read = measure, paper, cells, list(values), read
        self.spread_of = spread_of  # what the per-seed values are, when not the cells' own estimate


def effect_line(tables, measure, paper, endpoint, model, band, covariate, words):
    rows = [tables.effect(endpoint, model, band, covariate, scope) for scope in tables.scopes]
    pooled = rows[0]
    read = reading(pooled["hr_lower"], pooled["hr_upper"], 1, *words) if pooled is not None else ""
    cells = [effect_cell(row, i == 0) for i, row in enumerate(rows)]
    values = [row["hr"] if row is not None else np.nan for row in rows[1:]]
    return Row(measure, paper, cells, values, read)


def contrast_line(tables, measure, paper, endpoint, metric, group, words=None):
    rows = [tables.contrast(endpoint, metric, group, scope) for scope in tables.scopes]
    pooled = rows[0]
    read = reading(pooled["ci_lower"], pooled["ci_upper"], 0, *words) if words and pooled is not None else ""
    cells = [interval_cell(row, i == 0) for i, row in enumerate(rows)]
    return Row(measure, paper, cells, [row["estimate"] if row is not None else np.nan for row in rows[1:]], read)


def dynamic_line(tables, measure, paper, metric, words):
    """Latent and unknown with CIs per scope; the reading from the pooled difference's CI."""
    cells, values = [], []
    for i, scope in enumerate(tables.scopes):
        parts = []
        for knowledge in ["latent", "unknown"]:
            row = tables.dynamic(knowledge, metric, scope)
            parts.append(f"{knowledge} {interval_cell(row, i == 0)}")
        cells.append("; ".join(parts))
        difference = tables.dynamic("latent - unknown", metric, scope)
        if i:
            values.append(difference["estimate"] if difference is not None else np.nan)
    pooled = tables.dynamic("latent - unknown", metric, POOLED)
    read = ""
    if pooled is not None:
        read = f"difference {interval_text(pooled['estimate'], pooled['ci_lower'], pooled['ci_upper'])}: " + reading(
            pooled["ci_lower"], pooled["ci_upper"], 0, *words
        )
    return Row(measure, paper, cells, values, read, spread_of="latent - unknown: ")


def reversion_line(tables):
    rows = [tables.dynamic("all", "reverted_share", scope) for scope in tables.scopes]
    cells = [interval_cell(row, i == 0) for i, row in enumerate(rows)]
    values = [row["estimate"] if row is not None else np.nan for row in rows[1:]]
    return Row("acquisition: share of first hits wrong again at a later epoch", "not reported", cells, values)


def degradation_lines(tables, endpoint):
    label = "first wrong epoch" if endpoint == "degradation" else "persistently wrong"
    rows = [tables.logrank(endpoint, scope) for scope in tables.scopes]
    counts, tests, values = [], [], []
    for i, row in enumerate(rows):
        if row is None:
            counts.append("n/a")
            tests.append("n/a")
            continue
        counts.append(f"trained {percent(int(row['events_trained']), int(row['n_trained']))}; "
                      f"withheld {percent(int(row['events_withheld']), int(row['n_withheld']))}")  # fmt: skip
        if pd.isna(row["p"]):
            tests.append(f"n/a ({brief(row['note'])})")
        else:
            tests.append(f"chi2 {row['test_statistic']:.2f}, {p_text(row['p'])}" + (f" ({row['note']})" if isinstance(row["note"], str) and row["note"] else ""))
            if i:
                values.append(row["p"])
    pooled = rows[0]
    read = ""
    if pooled is not None and pd.notna(pooled["p"]):
        read = "curves differ (p < 0.05)" if pooled["p"] < 0.05 else "no difference shown (p >= 0.05)"
    return [
        Row(f"{endpoint} ({label}): facts with the event", "more frequent for withheld than trained", counts),
        Row(f"{endpoint}: log-rank trained vs withheld, stratified by ontology", "withheld degrade more", tests, read=read),
        effect_line(tables, f"{endpoint}: HR for trained (`seen`, Cox)", "withheld degrade more (HR for trained < 1)",
                    endpoint, "cox", "all", "seen", ("trained degrade less (CI below 1)", "trained degrade more (CI above 1)")),  # fmt: skip
    ]


LATENT_WORDS = ("latent slower (CI below 1)", "latent faster (CI above 1)")
SOONER_WORDS = ("latent sooner (CI below 0)", "latent later (CI above 0)")
TENFOLD_WORDS = ("likelier facts slower (CI below 1)", "likelier facts faster (CI above 1)")


def acquisition_lines(tables, endpoint, horizon):
    paper = "HR 2.6, p < 0.001" if endpoint == "acquisition" else "not reported"
    lines = [effect_line(tables, f"{endpoint}: latent HR, all epochs (Cox)", paper, endpoint, "cox", "all", "latent", LATENT_WORDS)]
    for band in tables.bands(endpoint):
        lines.append(effect_line(tables, f"{endpoint}: latent HR, epochs {band}", "not reported", endpoint, "cox_band", band, "latent", LATENT_WORDS))
    lines.append(contrast_line(tables, f"{endpoint}: RMST difference latent - unknown (epochs, up to {horizon})", "not reported",
                               endpoint, "rmst_difference", "latent - unknown", SOONER_WORDS))  # fmt: skip
    for knowledge in ["latent", "unknown"]:
        lines.append(contrast_line(tables, f"{endpoint}: median epoch, {knowledge} (KM)", "not reported", endpoint, "median", knowledge))
    lines.append(effect_line(tables, f"{endpoint}: HR per tenfold baseline sampling probability (sensitivity)", "not reported",
                             endpoint, "cox_log10_p_sample", "all", "log10_p_sample", TENFOLD_WORDS))  # fmt: skip
    return lines


def headline_rows(trajectories, hazard_ratios, models, tables, generalization, epochs, horizons):
    """The headline table's rows."""
    blank = [""] * (len(tables.scopes) - 1)
    recall_cells = [recall_at(trajectories, epochs, "HPO")]
    recall_cells += [recall_at(trajectories[trajectories["seed"].astype(str) == scope], epochs, "HPO") for scope in tables.scopes[1:]]
    rows = [
        Row("HPO baseline greedy recall", "2.8% (22/800)", [baseline_recall(trajectories, "HPO"), *blank]),
        Row(f"HPO recall after fine-tuning (epoch {epochs})", "71.9%", recall_cells),
    ]
    for endpoint in ACQUISITION_ENDPOINTS:
        rows += acquisition_lines(tables, endpoint, horizons[endpoint])
    rows.append(Row("acquisition: latent HR, discrete-time (cloglog)", "not reported",
                    [hazard_ratio(hazard_ratios, models, "acquisition", "discrete", "latent"), *blank]))  # fmt: skip
    rows.append(reversion_line(tables))
    generalized = [percent(int(generalization["event"].sum()), len(generalization))]
    for scope in tables.scopes[1:]:
        members = generalization[generalization["seed"].astype(str) == scope]
        generalized.append(percent(int(members["event"].sum()), len(members)))
    withheld = [recall_at(trajectories, epochs, "GO", "withheld")]
    withheld += [recall_at(trajectories[trajectories["seed"].astype(str) == s], epochs, "GO", "withheld") for s in tables.scopes[1:]]
    rows += [
        Row(f"Withheld GO correct at epoch {epochs}", "5.8% (23/400)", withheld),
        Row("generalization: withheld facts ever correct (events / at risk)", "not reported", generalized),
        effect_line(tables, "generalization: latent HR (Cox)", "more likely with latent knowledge", "generalization", "cox", "all", "latent", LATENT_WORDS),
        contrast_line(tables, f"generalization: RMST difference latent - unknown (epochs, up to {horizons['generalization']})",
                      "not reported", "generalization", "rmst_difference", "latent - unknown", SOONER_WORDS),  # fmt: skip
        effect_line(tables, "generalization: HR per tenfold baseline sampling probability (sensitivity)", "not reported",
                    "generalization", "cox_log10_p_sample", "all", "log10_p_sample", TENFOLD_WORDS),  # fmt: skip
    ]
    for endpoint in ["degradation", "degradation_persistent"]:
        rows += degradation_lines(tables, endpoint)
    rows += [
        dynamic_line(tables, "Peak acquisition rate", "higher for latent", "peak_rate", ("lower for latent", "higher for latent")),
        dynamic_line(tables, "Epoch of the peak rate", "earlier for latent", "peak_epoch", ("earlier for latent", "later for latent")),
        dynamic_line(tables, "Convergence epoch", "earlier for latent", "convergence_epoch", ("earlier for latent", "later for latent")),
    ]
    return rows


def markdown_table(columns, rows):
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(value).replace("|", "/") for value in row) + " |" for row in rows]
    return lines


def headline_table(rows, seeds):
    """(columns, rows) of the headline table: measure, pooled, each seed, seed range, reading, paper."""
    columns = ["measure", "pooled (95% CI)", *[f"seed {s}" for s in seeds], "per-seed range", "reading (pooled CI)", "paper"]
    body = [[row.measure, *row.cells, row.spread_of + spread(row.values) if row.values else "", row.read, row.paper] for row in rows]
    return columns, body


def proportional_hazards_lines(ph, tables, ph_alpha):
    """Which covariates fail the PH test per endpoint, and their pooled per-band HRs."""
    flagged = ph[ph["violation"].astype(bool) & ph["covariate"].isin(tables.effects["covariate"])]
    lines = ["", "## Proportional hazards", ""]
    if flagged.empty:
        return lines + [f"No covariate fails the proportional-hazards test at alpha = {ph_alpha}."]
    lines.append(f"Covariates that fail the proportional-hazards test (p < {ph_alpha}); their all-epoch HR averages an "
                 "effect that changes over time, so read it per epoch band (pooled, 95% CI):")  # fmt: skip
    lines.append("")
    rows = []
    for row in flagged.itertuples(index=False):
        bands = [f"{band}: {effect_cell(tables.effect(row.endpoint, 'cox_band', band, row.covariate, POOLED), False)}"
                 for band in tables.bands(row.endpoint)]  # fmt: skip
        rows.append([row.endpoint, row.covariate, p_text(row.p), "; ".join(bands)])
    return lines + markdown_table(["endpoint", "covariate", "PH test", "HR per epoch band"], rows)


def markdown(columns, body, seeds, epochs, ph_lines=()):
    header = [
        "# latentfacts: headline numbers",
        "",
        f"This run: {len(seeds)} seed(s) ({', '.join(map(str, seeds))}), {epochs} epochs. "
        "Paper: Hier & Obafemi-Ajayi (arXiv 2601.18468), Llama-3.1-8B-Instruct, 20 epochs.",
        "",
    ]
    notes = [
        "",
        "Pooled: all seeds, Cox with seed as stratum and robust errors clustered by fact; per seed: that seed alone. "
        "Hazard ratios: Cox (Efron ties); \"Firth\" marks a Firth-penalized fit with a profile-likelihood CI (too few "
        "events per covariate, or an infinite estimate; pooled, it treats a fact's seeds as independent); per epoch "
        "band, a Cox fit of the facts at risk at the band's start (the time-varying model with band-specific "
        "coefficients). RMST, medians and dynamics: Kaplan-Meier and "
        "per-epoch counts with 95% fact-cluster bootstrap intervals. Log-rank: per seed stratified by ontology; pooled "
        "stratified by seed x ontology with fact-clustered robust variance. A reading is given only where the pooled "
        "interval excludes the null value. Discrete-time = complementary log-log GLM on person-epochs with "
        "fact-clustered errors. Models, dropped covariates and fit warnings: analysis/models.csv (beside this file); "
        "per-band, per-seed and sensitivity fits: analysis/effects.csv; all tables: analysis/.",
    ]
    return "\n".join(header + markdown_table(columns, body) + list(ph_lines) + notes) + "\n"
