"""Median event time and RMST per knowledge class and the RMST difference latent - unknown, with bootstrap CIs."""

import pandas as pd

from latentfacts.analysis.km_contrasts import km_contrasts
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    tables = []
    for endpoint, horizon in smk.params.horizons.items():
        table = km_contrasts(read_table(smk.input[endpoint]), horizon, smk.params.replicates, smk.params.seed)
        tables.append(table.assign(endpoint=endpoint))
    table = pd.concat(tables, ignore_index=True)
    table = table[["endpoint", *table.columns[:-1]]]
    print(table.to_string(index=False))
    table.to_csv(smk.output[0], index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
