"""Per-fact log-probability gains per epoch, effectivity and the logprob at first correctness."""

import json

from latentfacts.analysis.figures import save
from latentfacts.analysis.run_facts import read_run
from latentfacts.measurements.logprob_dynamics import effectivity, gain_by_epoch, logprob_gains, threshold_summary
from latentfacts.measurements.figures import logprob_dynamics
from latentfacts.rulelog import log_to
from latentfacts.measurements.runs import read_evals
from latentfacts.tables import read_table


def main(smk):
    pairs = read_table(smk.input.pairs)[["fact_id", "ontology", "split"]]
    evals = read_evals(dict(zip(smk.params.seed_epochs, smk.input.evals)))
    gains = logprob_gains(evals).merge(pairs, on="fact_id", validate="many_to_one")
    effect = effectivity(gains).merge(pairs, on="fact_id", validate="many_to_one")
    summary = threshold_summary(gains, effect)
    by_epoch = gain_by_epoch(gains)
    gains.to_parquet(smk.output.gains, index=False)
    effect.to_parquet(smk.output.effectivity, index=False)
    by_epoch.to_csv(smk.output.by_epoch, index=False)
    with open(smk.output.threshold, "w") as stream:
        json.dump(summary, stream, indent=2)
    save(logprob_dynamics(by_epoch, effect, summary, read_run(smk.input.run)), smk.output.png, smk.output.svg)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
