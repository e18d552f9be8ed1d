"""Hazard ratios of one endpoint per epoch band, per seed and with the continuous exposure."""

from latentfacts.analysis.effects import effects
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    table = read_table(smk.input[0])
    result = effects(
        table,
        smk.wildcards.endpoint,
        smk.params.columns,
        smk.params.bands,
        smk.params.horizon,
        smk.params.cox,
    )
    print(result.drop(columns=["errors", "note"]).to_string(index=False))
    result.to_parquet(smk.output[0], index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
