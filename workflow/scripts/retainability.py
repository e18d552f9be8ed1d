"""Retainability of withdrawn facts and its power-law fit against log(epochs since withdrawal)."""

import json

import pandas as pd

from latentfacts.analysis.figures import save
from latentfacts.analysis.run_facts import read_run
from latentfacts.measurements.forgetting import fit_power_law, iqr_outliers, mean_retainability, retainability
from latentfacts.measurements.figures import retainability as retainability_figure
from latentfacts.rulelog import log_to
from latentfacts.measurements.runs import read_evals
from latentfacts.tables import read_table


def main(smk):
    params = smk.params
    withdrawn = pd.concat(
        [read_table(path).assign(seed=seed) for seed, path in zip(params.seeds, smk.input.withdrawn)]
    )
    evals = read_evals(dict(zip(params.seed_epochs, smk.input.evals)))
    table = retainability(evals, withdrawn, params.after_epoch, params.min_gain)
    table["outlier"] = iqr_outliers(table, factor=params.iqr_factor)
    kept = table[~table["outlier"]]
    fit = fit_power_law(kept)
    fit.update(
        n_withdrawn=table.attrs["n_withdrawn"],
        n_below_min_gain=table.attrs["n_below_min_gain"],
        n_outliers=int(table["outlier"].sum()),
        after_epoch=params.after_epoch,
    )
    print(json.dumps(fit, indent=2))
    curve = mean_retainability(kept)
    table.to_parquet(smk.output.table, index=False)
    curve.to_csv(smk.output.curve, index=False)
    with open(smk.output.fit, "w") as stream:
        json.dump(fit, stream, indent=2)
    save(retainability_figure(curve, fit, read_run(smk.input.run)), smk.output.png, smk.output.svg)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
