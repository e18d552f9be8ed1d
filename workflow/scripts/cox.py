"""Fit the Cox model of one endpoint; write hazard ratios, model facts (JSON) and the PH check."""

import json

from latentfacts.analysis.cox import fit_cox
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    table = read_table(smk.input[0])
    hazard_ratios, ph, facts = fit_cox(
        table, smk.params.columns, smk.params.penalizer, smk.params.ph_alpha, smk.params.firth_min_events_per_covariate
    )
    print(hazard_ratios.to_string(index=False))
    print(ph.to_string(index=False))
    hazard_ratios.to_parquet(smk.output.hazard_ratios, index=False)
    ph.to_parquet(smk.output.ph, index=False)
    with open(smk.output.model, "w") as stream:
        json.dump({"endpoint": smk.wildcards.endpoint, **facts}, stream, indent=2)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
