"""Headline numbers of a run beside the paper's (Hier & Obafemi-Ajayi 2026), as a Markdown table."""

import numpy as np
import pandas as pd


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
    p = "p < 0.001" if row["p"] < 0.001 else f"p = {row['p']:.3f}"
    return f"HR {row['hr']:.2f} (95% CI {row['hr_lower']:.2f}-{row['hr_upper']:.2f}), {p}"


def degradation_by_exposure(degradation):
    """Fraction of baseline-correct facts that degrade, withheld vs trained (seeds pooled)."""
    parts = []
    for seen, name in [(0, "withheld"), (1, "trained")]:
        rows = degradation[degradation["seen"] == seen]
        parts.append(f"{name} {percent(int(rows['event'].sum()), len(rows))}")
    return "; ".join(parts)


def dynamics_contrast(dynamics, measure):
    pooled = dynamics[dynamics["seed"] == "pooled"].set_index("knowledge")
    values = []
    for knowledge in ["latent", "unknown"]:
        value = pooled[measure].get(knowledge, np.nan)
        values.append(f"{knowledge} {value:.3g}" if pd.notna(value) else f"{knowledge} n/a")
    return "; ".join(values)


def headline_table(trajectories, hazard_ratios, models, dynamics, generalization, degradation, epochs):
    """Rows of (measure, this run, paper)."""
    rows = [
        ("HPO baseline greedy recall", baseline_recall(trajectories, "HPO"), "2.8% (22/800)"),
        (f"HPO recall after fine-tuning (epoch {epochs})", recall_at(trajectories, epochs, "HPO"), "71.9%"),
        (
            "Latent knowledge, acquisition HR (Cox)",
            hazard_ratio(hazard_ratios, models, "acquisition", "cox", "latent"),
            "HR 2.6, p < 0.001",
        ),
        (
            "Latent knowledge, acquisition HR (discrete-time)",
            hazard_ratio(hazard_ratios, models, "acquisition", "discrete", "latent"),
            "not reported",
        ),
        (
            f"Withheld GO correct at epoch {epochs} (generalization)",
            recall_at(trajectories, epochs, "GO", "withheld"),
            "5.8% (23/400)",
        ),
        (
            "Withheld GO facts ever correct (generalization events / at risk)",
            percent(int(generalization["event"].sum()), len(generalization)),
            "not reported",
        ),
        (
            "Degradation of baseline-correct facts",
            degradation_by_exposure(degradation),
            "more frequent for withheld than trained",
        ),
        (
            "Degradation HR, trained vs withheld (Cox, `seen`)",
            hazard_ratio(hazard_ratios, models, "degradation", "cox", "seen"),
            "withheld degrade more (HR for trained < 1)",
        ),
        ("Peak acquisition rate (pooled)", dynamics_contrast(dynamics, "peak_rate"), "higher for latent"),
        ("Epoch of the peak rate", dynamics_contrast(dynamics, "peak_epoch"), "earlier for latent"),
        ("Convergence epoch", dynamics_contrast(dynamics, "convergence_epoch"), "earlier for latent"),
    ]
    return pd.DataFrame(rows, columns=["measure", "this run", "paper"])


def markdown(table, seeds, epochs):
    header = [
        "# latentfacts: headline numbers",
        "",
        f"This run: {len(seeds)} seed(s) ({', '.join(map(str, seeds))}), {epochs} epochs. "
        "Paper: Hier & Obafemi-Ajayi (arXiv 2601.18468), Llama-3.1-8B-Instruct, 20 epochs.",
        "",
        "| " + " | ".join(table.columns) + " |",
        "|" + "---|" * len(table.columns),
    ]
    body = ["| " + " | ".join(str(value).replace("|", "/") for value in row) + " |" for row in table.itertuples(index=False)]
    notes = [
        "",
        "Hazard ratios: Cox = lifelines CoxPHFitter (Efron ties; with several seeds, seed as stratum); discrete-time = "
        "complementary log-log GLM on person-epochs (with several seeds, a seed fixed effect) with fact-clustered "
        "errors. Models, dropped covariates and fit warnings: results/analysis/models.csv; all tables: results/analysis/.",
    ]
    return "\n".join(header + body + notes) + "\n"
