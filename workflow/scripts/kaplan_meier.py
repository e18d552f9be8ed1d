"""Kaplan-Meier curves, log-rank tests and RMST by knowledge class for every endpoint."""

import pandas as pd

from latentfacts.analysis.kaplan_meier import kaplan_meier
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    curves, tests, rmsts = [], [], []
    for endpoint, horizon in smk.params.horizons.items():
        curve, test, rmst = kaplan_meier(read_table(smk.input[endpoint]), horizon, smk.params.permutation)
        curves.append(curve.assign(endpoint=endpoint))
        tests.append({"endpoint": endpoint, **test})
        rmsts.append(rmst.assign(endpoint=endpoint))
    curves = pd.concat(curves, ignore_index=True)
    rmsts = pd.concat(rmsts, ignore_index=True)
    tests = pd.DataFrame(tests)
    print(tests.to_string(index=False))
    print(rmsts.to_string(index=False))
    curves[["endpoint", *curves.columns[:-1]]].to_parquet(smk.output.curves, index=False)
    tests.to_csv(smk.output.logrank, index=False)
    rmsts[["endpoint", *rmsts.columns[:-1]]].to_csv(smk.output.rmst, index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
