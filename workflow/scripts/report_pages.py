"""The report's HTML pages: the summary (also its first page), each question's tables, the provenance."""

import json
from pathlib import Path

import pandas as pd

from latentfacts.analysis.report_pages import provenance_page, question_pages, summary_fragment
from latentfacts.rulelog import log_to


def main(smk):
    names = ["hazard_ratios", "effects", "models", "ph_checks", "km_logrank", "km_rmst", "km_contrasts",
             "degradation_logrank", "dynamics"]  # fmt: skip
    tables = {name: pd.read_csv(smk.input[name], dtype={"seed": str}) for name in names}
    with open(smk.input.run) as stream:
        run = json.load(stream)
    Path(smk.output.summary).write_text(summary_fragment(Path(smk.input.summary).read_text()))
    Path(smk.output.provenance).write_text(provenance_page(run))
    for question, html in question_pages(tables, smk.params.stable_k).items():
        Path(smk.output[question]).write_text(html)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
