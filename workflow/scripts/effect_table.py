"""Stack every endpoint's per-band, per-seed and sensitivity hazard ratios into effects.csv."""

import pandas as pd

from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    tables = [read_table(path).assign(endpoint=endpoint) for endpoint, path in zip(smk.params.endpoints, smk.input)]
    table = pd.concat(tables, ignore_index=True)
    table[["endpoint", *table.columns[:-1]]].to_csv(smk.output[0], index=False)
    print(f"{len(table)} rows from {len(tables)} endpoints")


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
