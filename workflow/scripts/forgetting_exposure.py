"""Change in logprob per epoch against optimizer steps since each fact's last exposure (power-law forgetting)."""

import json

from latentfacts.analysis.figures import save
from latentfacts.analysis.run_facts import read_run
from latentfacts.measurements.forgetting import exposure_table, fit_exposure_slope
from latentfacts.measurements.figures import exposure_forgetting
from latentfacts.rulelog import log_to
from latentfacts.measurements.runs import read_evals, read_seen_order


def main(smk):
    evals = read_evals(dict(zip(smk.params.eval_seed_epochs, smk.input.evals)))
    seen_orders = {key: read_seen_order(path) for key, path in zip(smk.params.seed_epochs, smk.input.checkpoints)}
    table = exposure_table(evals, seen_orders)
    fit = fit_exposure_slope(table)
    print(json.dumps(fit, indent=2))
    table.to_parquet(smk.output.table, index=False)
    with open(smk.output.fit, "w") as stream:
        json.dump(fit, stream, indent=2)
    save(exposure_forgetting(table, fit, read_run(smk.input.run)), smk.output.png, smk.output.svg)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
