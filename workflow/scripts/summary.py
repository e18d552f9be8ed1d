"""Write results/models/{model}/summary.md: this run's headline numbers, pooled and per seed, beside the paper's."""

import json

import pandas as pd

from latentfacts.analysis.summary import Tables, headline_rows, headline_table, markdown, proportional_hazards_lines
from latentfacts.rulelog import log_to
from latentfacts.analysis.run_facts import with_run_header
from latentfacts.tables import read_table


def main(smk):
    tables = Tables(
        effects=pd.read_csv(smk.input.effects, dtype={"seed": str}),
        contrasts=pd.read_csv(smk.input.contrasts, dtype={"seed": str}),
        dynamics=pd.read_csv(smk.input.dynamics, dtype={"seed": str}),
        degradation_logrank=pd.read_csv(smk.input.degradation_logrank, dtype={"seed": str}),
        seeds=smk.params.seeds,
    )
    rows = headline_rows(
        trajectories=read_table(smk.input.trajectories),
        hazard_ratios=pd.read_csv(smk.input.hazard_ratios),
        models=pd.read_csv(smk.input.models),
        tables=tables,
        generalization=read_table(smk.input.generalization),
        epochs=smk.params.epochs,
        horizons=smk.params.horizons,
    )
    columns, body = headline_table(rows, smk.params.seeds)
    ph_lines = proportional_hazards_lines(pd.read_csv(smk.input.ph), tables, smk.params.ph_alpha)
    text = markdown(columns, body, seeds=smk.params.seeds, epochs=smk.params.epochs, ph_lines=ph_lines)
    with open(smk.input.run) as run, open(smk.input.figure_notes) as notes:
        text = with_run_header(text, json.load(run), json.load(notes))
    print(text)
    with open(smk.output[0], "w") as stream:
        stream.write(text)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
