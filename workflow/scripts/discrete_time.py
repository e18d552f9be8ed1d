"""Fit the discrete-time cloglog model of one endpoint; write hazard ratios and model facts (JSON)."""

import json

from latentfacts.analysis.discrete_time import fit_discrete
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    table = read_table(smk.input[0])
    hazard_ratios, facts = fit_discrete(table, smk.params.columns, smk.params.min_events)
    print(hazard_ratios.to_string(index=False))
    hazard_ratios.to_parquet(smk.output.hazard_ratios, index=False)
    with open(smk.output.model, "w") as stream:
        json.dump({"endpoint": smk.wildcards.endpoint, **facts}, stream, indent=2)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
