"""Acquisition rate per epoch by knowledge class, its peak and the convergence epoch."""

from latentfacts.analysis.dynamics import dynamics
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    acquisition = read_table(smk.input[0])
    curves, summary = dynamics(
        acquisition,
        smk.params.horizon,
        smk.params.convergence_fraction,
        smk.params.min_at_risk,
        smk.params.replicates,
        smk.params.seed,
    )
    print(summary.to_string(index=False))
    curves.to_parquet(smk.output.curves, index=False)
    summary.to_csv(smk.output.summary, index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
