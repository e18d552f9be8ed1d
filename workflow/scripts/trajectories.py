"""Join every seed's per-epoch eval tables with pairs, baseline and covariates into trajectories.parquet."""

import pandas as pd

from latentfacts.rulelog import log_to
from latentfacts.analysis.trajectories import build_trajectories


def main(smk):
    keys = [tuple(key) for key in smk.params.eval_keys]
    paths = {"pairs": smk.input.pairs, "covariates": smk.input.covariates, "baseline": smk.input.baseline}
    paths.update(zip(keys, smk.input.evals))
    evals = {key: pd.read_parquet(paths[key]) for key in keys}
    trajectories = build_trajectories(
        pd.read_parquet(smk.input.pairs),
        pd.read_parquet(smk.input.covariates),
        pd.read_parquet(smk.input.baseline),
        evals,
        paths,
    )
    recall = trajectories.groupby(["seed", "epoch", "ontology", "split"])["correct"].mean().unstack("epoch")
    print(f"recall per seed, ontology and split (columns: epochs)\n{recall.round(3).to_string()}")
    trajectories.to_parquet(smk.output[0], index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
