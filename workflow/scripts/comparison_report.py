"""The comparison's forest and recall figures (PNG and SVG), its section of summary.md and its report page."""

from pathlib import Path

import pandas as pd

from latentfacts.analysis.figures import save
from latentfacts.analysis.comparison_report import comparison_markdown, comparison_page, forest_figure, recall_figure
from latentfacts.rulelog import log_to


def main(smk):
    estimates = pd.read_csv(smk.input.estimates)
    rates = pd.read_csv(smk.input.rates)
    pooled = pd.read_csv(smk.input.pooled)
    for name, figure in (
        ("forest", forest_figure(estimates, smk.params.endpoints, smk.params.stable_k)),
        ("recall", recall_figure(pd.read_csv(smk.input.recall))),
    ):
        save(figure, smk.output[f"{name}_png"], smk.output[f"{name}_svg"])
    markdown = comparison_markdown(estimates, rates, pooled)
    Path(smk.output.summary).write_text(markdown)
    tables = {"Estimates per model": estimates, "Knowledge classes and rates": rates,
              "Pooled Cox models with model interactions": pooled}  # fmt: skip
    Path(smk.output.page).write_text(comparison_page(markdown, tables))


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
