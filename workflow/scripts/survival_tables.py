"""Build the survival table of every endpoint from trajectories.parquet."""

from latentfacts.rulelog import log_to
from latentfacts.analysis.survival import ENDPOINTS, survival_table
from latentfacts.tables import read_table


def main(smk):
    trajectories = read_table(smk.input[0])
    for endpoint in ENDPOINTS:
        table = survival_table(
            trajectories,
            endpoint,
            smk.params.covariates,
            smk.params.ontology_levels,
            smk.params.stable_k,
            smk.params.p_sample_floor,
        )
        print(f"{endpoint}: {len(table)} seed x fact rows at risk, {int(table['event'].sum())} events")
        table.to_parquet(smk.output[endpoint], index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
