"""Change in logprob per epoch against optimizer steps since each fact's last exposure (power-law forgetting)."""

import json

import pandas as pd

from latentfacts.figures import save
from latentfacts.forgetting import exposure_table, fit_exposure_slope
from latentfacts.measurement_figures import exposure_forgetting
from latentfacts.rulelog import log_to
from latentfacts.runs import read_evals, read_seen_order, read_steps_per_epoch


def main(smk):
    keys = smk.params.keys
    evals = read_evals({(s, e): path for (s, e), path in zip(smk.params.eval_keys, smk.input.evals)})
    seen_orders = {key: read_seen_order(path) for key, path in zip(keys, smk.input.seen)}
    steps_per_epoch = {}
    for (seed, epoch), path in zip(keys, smk.input.train_logs):
        steps_per_epoch.setdefault(seed, read_steps_per_epoch(path))
    table = exposure_table(evals, seen_orders, steps_per_epoch)
    fit = fit_exposure_slope(table)
    print(json.dumps(fit, indent=2))
    table.to_parquet(smk.output.table, index=False)
    with open(smk.output.fit, "w") as stream:
        json.dump(fit, stream, indent=2)
    save(exposure_forgetting(table, fit), smk.output.png, smk.output.svg)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
