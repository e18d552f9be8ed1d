"""The comparison of the studied models as figures (a forest plot of each model's hazard ratios per
endpoint, every model's recall curves on one figure) and as words (the comparison section: summary.md
and its report page)."""

import numpy as np
import pandas as pd

from latentfacts.analysis.figures import BAND_COVARIATE, COVARIATE_LABELS, endpoint_title, plt
from latentfacts.analysis.report_pages import page, summary_fragment, table_html
from latentfacts.analysis.summary import interval_text, markdown_table, reading

SPLIT_STYLES = {"train": "-", "withheld": "--"}


def focus_rows(estimates):
    """The pooled all-epoch Cox hazard ratio of each endpoint's focus covariate, per model."""
    hr = estimates[(estimates["measure"] == "hazard_ratio") & (estimates["fit"] == "cox")]
    return hr[hr["covariate"] == hr["endpoint"].map(BAND_COVARIATE)]


def forest_figure(estimates, endpoints, stable_k):
    """One panel per endpoint: each model's hazard ratio of the focus covariate with its 95% CI (log axis)."""
    rows = focus_rows(estimates)
    names = list(dict.fromkeys(estimates["studied_model"]))
    figure, axes = plt.subplots(len(endpoints), 1, figsize=(7, 1.2 + 0.55 * len(names) * len(endpoints)), squeeze=False)
    for axis, endpoint in zip(axes[:, 0], endpoints):
        shown = rows[rows["endpoint"] == endpoint].set_index("studied_model").reindex(names)
        drawn = shown.dropna(subset=["estimate", "ci_lower", "ci_upper"])
        y = np.array([names.index(name) for name in drawn.index])
        axis.errorbar(drawn["estimate"], y, xerr=[drawn["estimate"] - drawn["ci_lower"], drawn["ci_upper"] - drawn["estimate"]],
                      fmt="o", color="tab:purple", capsize=3)  # fmt: skip
        axis.axvline(1, color="grey", lw=0.8, ls=":")
        if len(drawn):
            axis.set_xscale("log")
        axis.set_yticks(range(len(names)), [f"{name} (n={n:.0f})" if pd.notna(n) else f"{name} (no fit)"
                                            for name, n in zip(names, shown["n"])])  # fmt: skip
        axis.set_ylim(len(names) - 0.5, -0.5)
        covariate = BAND_COVARIATE[endpoint]
        axis.set_title(f"{endpoint_title(endpoint, stable_k)}: HR of {COVARIATE_LABELS.get(covariate, covariate)}", fontsize=9)
    axes[-1, 0].set_xlabel("hazard ratio (pooled Cox, 95% CI)")
    figure.tight_layout()
    return figure


def recall_figure(curves):
    """Recall per epoch of every model (trained facts solid, withheld dashed) with 95% Wilson bands."""
    figure, axis = plt.subplots(figsize=(7, 4))
    for index, (name, rows) in enumerate(curves.groupby("studied_model", sort=False)):
        color = f"C{index}"
        for split, style in SPLIT_STYLES.items():
            part = rows[rows["split"] == split].sort_values("epoch")
            if part.empty:
                continue
            axis.plot(part["epoch"], part["recall"], style, color=color,
                      label=f"{name}, {split} (n={part['n'].iloc[0]})")  # fmt: skip
            axis.fill_between(part["epoch"], part["ci_lower"], part["ci_upper"], color=color, alpha=0.15, lw=0)
    axis.set_xlabel("epoch")
    axis.set_ylabel("recall (greedy-correct share)")
    axis.set_ylim(0, 1)
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def lr_text(row):
    if pd.isna(row["lr_statistic"]):
        return "none (Firth fit)"
    return f"chi2={row['lr_statistic']:.3g}, df={row['lr_df']:.0f}, p={row['lr_p']:.3g}"


def interaction_words(row):
    """What the interaction's interval says, in words that follow it."""
    return reading(row["hr_lower"], row["hr_upper"], 1, "weaker than in the reference model",
                   "stronger than in the reference model")  # fmt: skip


def comparison_markdown(estimates, rates, pooled):
    """The comparison section: each model's focus hazard ratios and RMST differences, the rates, and the
    pooled interaction tests."""
    lines = ["# Model comparison", ""]
    hr = focus_rows(estimates)
    lines += ["## Hazard ratios of the focus covariate (pooled Cox, all epochs)", ""]
    lines += markdown_table(
        ["endpoint", "covariate", "model", "HR (95% CI)", "n", "events"],
        [[r.endpoint, r.covariate, r.studied_model, interval_text(r.estimate, r.ci_lower, r.ci_upper), f"{r.n:.0f}",
          f"{r.events:.0f}"] for r in hr.itertuples()],  # fmt: skip
    )
    rmst = estimates[estimates["measure"] == "rmst_difference"]
    lines += ["", "## RMST difference latent - unknown (epochs; below 0: latent facts have the event sooner)", ""]
    lines += markdown_table(
        ["endpoint", "model", "difference (95% CI)", "n"],
        [[r.endpoint, r.studied_model, interval_text(r.estimate, r.ci_lower, r.ci_upper), f"{r.n:.0f}"]
         for r in rmst.itertuples()],  # fmt: skip
    )
    lines += ["", "## Knowledge classes and rates (share, 95% Wilson CI)", ""]
    lines += markdown_table(
        ["model", "measure", "group", "share (95% CI)", "events / n"],
        [[r.studied_model, r.measure, r.group, interval_text(r.estimate, r.ci_lower, r.ci_upper), f"{r.events} / {r.n}"]
         for r in rates.itertuples()],  # fmt: skip
    )
    terms = pooled[pooled["term"].str.contains(":", na=False)]
    lines += ["", "## Does the effect differ between models? (pooled Cox, stratum per model and seed)", "",
              "Interaction HR: the focus covariate's hazard ratio in that model divided by the reference model's; "
              "likelihood-ratio test of all interaction terms together.", ""]  # fmt: skip
    lines += markdown_table(
        ["endpoint", "term", "interaction HR (95% CI)", "p", "LR test", "n", "reading"],
        [[r["endpoint"], r["term"], interval_text(r["hr"], r["hr_lower"], r["hr_upper"]), f"{r['p']:.3g}",
          lr_text(r), f"{r['n']:.0f}",
          interaction_words(r)] for _, r in terms.iterrows()],  # fmt: skip
    )
    unfitted = pooled[~pooled["term"].str.contains(":", na=False) & pooled["hr"].isna()]
    lines += [f"- {r.endpoint}: no pooled model ({r.note})" for r in unfitted.itertuples()]
    return "\n".join(lines) + "\n"


def comparison_page(markdown, tables):
    """The report's comparison page: the comparison section, then its tables in full."""
    body = summary_fragment(markdown) + "".join(table_html(table, caption) for caption, table in tables.items())
    return page("Model comparison", body)
