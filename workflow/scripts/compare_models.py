"""Every studied model's estimates and rates in one table each, their recall curves, and the pooled Cox
models (stratum per model and seed) that test whether the focus covariate's effect differs between models."""

import pandas as pd

from latentfacts.analysis.comparison import estimate_table, pooled_interaction, rate_table, recall_curves
from latentfacts.rulelog import log_to


def per_model(names, paths, read):
    return {name: read(path) for name, path in zip(names, paths)}


def main(smk):
    names, endpoints = smk.params.models, smk.params.endpoints
    csv = lambda path: pd.read_csv(path, dtype={"seed": str})  # noqa: E731
    trajectories = per_model(names, smk.input.trajectories, pd.read_parquet)
    survival = {
        name: {endpoint: pd.read_parquet(smk.input[f"survival_{endpoint}"][i]) for endpoint in endpoints}
        for i, name in enumerate(names)
    }
    estimate_table(per_model(names, smk.input.effects, csv), per_model(names, smk.input.contrasts, csv)).to_csv(
        smk.output.estimates, index=False
    )
    rate_table(trajectories, survival).to_csv(smk.output.rates, index=False)
    recall_curves(trajectories).to_csv(smk.output.recall, index=False)
    pooled = [
        pooled_interaction({name: survival[name][endpoint] for name in names}, endpoint, smk.params.columns[endpoint],
                           smk.params.cox)  # fmt: skip
        for endpoint in endpoints
    ]
    pd.concat(pooled, ignore_index=True).to_csv(smk.output.pooled, index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
