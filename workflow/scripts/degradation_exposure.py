"""Degradation endpoints, trained vs withheld: Kaplan-Meier curves and log-rank tests stratified by ontology."""

import pandas as pd

from latentfacts.analysis.degradation import degradation_comparison
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    curves, tests = [], []
    for endpoint, horizon in smk.params.horizons.items():
        curve, test = degradation_comparison(read_table(smk.input[endpoint]), horizon, smk.params.permutation)
        curves.append(curve.assign(endpoint=endpoint))
        tests.append(test.assign(endpoint=endpoint))
    curves, tests = pd.concat(curves, ignore_index=True), pd.concat(tests, ignore_index=True)
    print(tests.to_string(index=False))
    curves[["endpoint", *curves.columns[:-1]]].to_parquet(smk.output.curves, index=False)
    tests[["endpoint", *tests.columns[:-1]]].to_csv(smk.output.logrank, index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
