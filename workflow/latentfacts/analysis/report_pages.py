"""HTML pages of the Snakemake report: the headline summary (its first page) and, per question, the
tables that go with its figure. The report shows HTML results inline, where a CSV is only a download."""

import html

import pandas as pd
from markdown_it import MarkdownIt

from latentfacts.analysis.figures import QUESTIONS, endpoint_title

STYLE = """<style>
body { font-family: system-ui, sans-serif; font-size: 14px; margin: 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
h3 { margin-bottom: 0.2em; }
p.how { color: #444; max-width: 60em; }
</style>"""

# What each table of a question holds and how to read it.
TABLES = {
    "hazard_ratios": (
        "Hazard ratios",
        "Per covariate: HR with its 95% CI and p value, Cox (Efron ties) and discrete-time (cloglog). HR > 1: the "
        "event comes sooner with a higher covariate value (or for the named group).",
    ),
    "effects": (
        "Hazard ratios per epoch band, per seed and with the sampling probability",
        "Cox models by epoch band (facts still at risk at the band's start: a hazard ratio that changes over the "
        "epochs shows here), each seed alone, and with log10 of the baseline sampling probability in place of the "
        "latent flag; a note says why an estimate is missing.",
    ),
    "models": (
        "Model facts",
        "Facts at risk (seed x fact), events, covariates used and dropped, and why a model could not be fitted.",
    ),
    "ph_checks": (
        "Proportional-hazards checks",
        "Scaled Schoenfeld residuals against rank(time) per covariate: a violation means the hazard ratio changes "
        "over the epochs, so read it as an average over them.",
    ),
    "km_logrank": ("Log-rank test", "Do the Kaplan-Meier curves of the groups differ? p below 0.05: they do."),
    "km_contrasts": (
        "Median event epoch and RMST contrasts",
        "Per knowledge class: median event epoch and restricted mean event-free time with fact-cluster bootstrap 95% "
        "intervals, and the RMST difference latent - unknown (below 0: latent facts have the event sooner).",
    ),
    "degradation_logrank": (
        "Degradation: trained vs withheld",
        "Log-rank test of trained against withheld facts, stratified by ontology (pooled: robust variance clustered "
        "by fact): observed and expected events per group; p below 0.05: the two degrade at different rates.",
    ),
    "km_rmst": (
        "Restricted mean event-free time",
        "Mean epochs without the event within the horizon (area under the Kaplan-Meier curve), with its standard "
        "error: smaller for acquisition means faster learning, smaller for degradation means faster loss.",
    ),
}


def page(title, body):
    return f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>{STYLE}</head>\n<body>\n{body}\n</body></html>\n"


def table_html(table, caption):
    rounded = table.copy()
    for column in rounded.select_dtypes("float"):
        rounded[column] = rounded[column].map(lambda v: "" if pd.isna(v) else f"{v:.3g}")
    return f"<h3>{html.escape(caption)}</h3>\n" + rounded.to_html(index=False, na_rep="", border=0, escape=True)


def question_page(question, tables, stable_k):
    """One question's tables (rows of its endpoints only), each with a line on how to read it."""
    endpoints = QUESTIONS[question]
    parts = [f"<h2>{html.escape(question.capitalize())}: tables</h2>"]
    for name, (title, how) in TABLES.items():
        rows = tables[name][tables[name]["endpoint"].isin(endpoints)].copy()
        rows["endpoint"] = rows["endpoint"].map(lambda e: endpoint_title(e, stable_k))
        parts.append(table_html(rows, title) if len(rows) else f"<h3>{html.escape(title)}</h3><p>(no rows)</p>")
        parts.append(f"<p class='how'>{html.escape(how)}</p>")
    return page(f"{question} tables", "\n".join(parts))


def provenance_page(run):
    """The run's model, seeds, epochs, scoring rule and the data releases it read."""
    facts = pd.DataFrame(
        [
            ("model", run["model"]),
            ("seeds", ", ".join(map(str, run["seeds"]))),
            ("epochs", run["epochs"]),
            ("scoring", run["scoring"]),
            ("data warnings", "; ".join(run["data_warnings"]) or "none"),
        ],
        columns=["", "this run"],
    )
    releases = pd.DataFrame(run["releases"])[["source", "release", "file", "sha256"]]
    body = [
        "<h2>Data and model provenance</h2>",
        table_html(facts, "The run"),
        table_html(releases, "Data releases (from the fetched files' provenance records)"),
    ]
    return page("provenance", "\n".join(body))


# Inline styles: the summary is also placed into the report's first page, where a style sheet would
# restyle the report itself.
CELL_STYLE = "border:1px solid #ccc;padding:0.2em 0.5em;text-align:left;vertical-align:top"


def summary_fragment(summary_markdown):
    """summary.md as an HTML fragment, its headline table included, for the report's first page and its
    Summary entry alike."""
    rendered = MarkdownIt("commonmark").enable("table").render(summary_markdown)
    for tag in ("th", "td"):
        rendered = rendered.replace(f"<{tag}>", f'<{tag} style="{CELL_STYLE}">')
    rendered = rendered.replace("<table>", '<table style="border-collapse:collapse;margin:0.5em 0;font-size:0.9em">')
    return f'<div class="latentfacts-summary">\n{rendered}</div>\n'


def dynamics_page(summary):
    """The learning-dynamics summary per seed (and pooled) and knowledge class."""
    how = (
        "Per seed (and pooled) and knowledge class: facts at risk, facts acquired, the final fraction acquired, "
        "the peak per-epoch rate and its epoch, and the convergence epoch (first epoch at which cumulative "
        "acquisition reaches analysis.convergence_fraction of its final value). A peak over few facts at risk "
        "is noisy: see the figure's bands."
    )
    body = ["<h2>Learning dynamics: table</h2>", f"<p class='how'>{html.escape(how)}</p>", table_html(summary, "Dynamics")]
    return page("dynamics tables", "\n".join(body))


def question_pages(tables, stable_k):
    """{question: page} for the survival questions and the learning dynamics."""
    pages = {question: question_page(question, tables, stable_k) for question in QUESTIONS}
    return {**pages, "dynamics": dynamics_page(tables["dynamics"])}
