"""Join pairs, term properties, annotation counts and frequencies into one row per fact."""

from latentfacts.data.covariates import build_covariates
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    tables = {name: read_table(path) for name, path in smk.input.items()}
    covariates = build_covariates(tables["pairs"], tables["terms"], tables["annotations"], tables["frequency"])
    print(covariates.describe().to_string())
    covariates.to_parquet(smk.output[0], index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
