"""Join every seed's per-epoch eval tables with pairs, baseline and covariates into trajectories.parquet."""

from latentfacts.rulelog import log_to
from latentfacts.analysis.trajectories import build_trajectories
from latentfacts.tables import read_table


def main(smk):
    keys = [tuple(key) for key in smk.params.eval_keys]
    paths = {"pairs": smk.input.pairs, "covariates": smk.input.covariates, "baseline": smk.input.baseline}
    paths.update(zip(keys, smk.input.evals))
    evals = {key: read_table(paths[key]) for key in keys}
    trajectories = build_trajectories(
        read_table(smk.input.pairs),
        read_table(smk.input.covariates),
        read_table(smk.input.baseline),
        evals,
        paths,
    )
    recall = trajectories.groupby(["seed", "epoch", "ontology", "split"])["correct"].mean().unstack("epoch")
    print(f"recall per seed, ontology and split (columns: epochs)\n{recall.round(3).to_string()}")
    trajectories.to_parquet(smk.output[0], index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
