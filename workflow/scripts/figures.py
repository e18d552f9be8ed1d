"""Draw the analysis figures (recall, one per question, learning dynamics) as PNG and SVG, and write
what summary.md says of each (its n and how to read it)."""

import json

import pandas as pd

from latentfacts.analysis import figures
from latentfacts.analysis.run_facts import read_run
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    run = read_run(smk.input.run)
    stable_k, min_at_risk = smk.params.stable_k, smk.params.min_at_risk
    trajectories = read_table(smk.input.trajectories)
    km_curves = read_table(smk.input.km_curves)
    hazard_ratios = pd.read_csv(smk.input.hazard_ratios)
    models = pd.read_csv(smk.input.models)
    effects = pd.read_csv(smk.input.effects, dtype={"seed": str})
    dynamics = read_table(smk.input.dynamics)
    # degradation compares trained with withheld facts (all are known at baseline)
    exposure = read_table(smk.input.degradation_curves)
    exposure = exposure[exposure["seed"] == "pooled"].rename(columns={"exposure": "group"})
    curves = {question: km_curves for question in figures.QUESTIONS} | {"degradation": exposure}
    drawn = {
        "recall": figures.recall(trajectories, run),
        **{
            question: figures.question(
                question, curves[question], hazard_ratios, models, run, stable_k, min_at_risk, effects
            )
            for question in figures.QUESTIONS
        },
        "dynamics": figures.dynamics(dynamics, run, min_at_risk),
    }
    for name, figure in drawn.items():
        figures.save(figure, smk.output[f"{name}_png"], smk.output[f"{name}_svg"])
    notes = figures.figure_notes(trajectories, pd.concat([km_curves, exposure]), dynamics, stable_k, min_at_risk)
    with open(smk.output.notes, "w") as stream:
        json.dump(notes, stream, indent=1)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
