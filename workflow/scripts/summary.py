"""Write results/summary.md: this run's headline numbers beside the paper's."""

import pandas as pd

from latentfacts.rulelog import log_to
from latentfacts.analysis.summary import headline_table, markdown


def main(smk):
    table = headline_table(
        trajectories=pd.read_parquet(smk.input.trajectories),
        hazard_ratios=pd.read_csv(smk.input.hazard_ratios),
        models=pd.read_csv(smk.input.models),
        dynamics=pd.read_csv(smk.input.dynamics, dtype={"seed": str}),
        generalization=pd.read_parquet(smk.input.generalization),
        degradation=pd.read_parquet(smk.input.degradation),
        epochs=smk.params.epochs,
    )
    text = markdown(table, seeds=smk.params.seeds, epochs=smk.params.epochs)
    print(text)
    with open(smk.output[0], "w") as stream:
        stream.write(text)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
