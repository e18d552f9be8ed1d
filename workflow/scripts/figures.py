"""Draw the study's four figures, each as PNG and SVG."""

import pandas as pd

from latentfacts.analysis import figures
from latentfacts.rulelog import log_to


def main(smk):
    drawn = {
        "recall": figures.recall(pd.read_parquet(smk.input.trajectories)),
        "kaplan_meier": figures.kaplan_meier(pd.read_parquet(smk.input.km_curves)),
        "hazard_ratios": figures.hazard_ratios(pd.read_csv(smk.input.hazard_ratios)),
        "dynamics": figures.dynamics(pd.read_parquet(smk.input.dynamics)),
    }
    for name, figure in drawn.items():
        figures.save(figure, smk.output[f"{name}_png"], smk.output[f"{name}_svg"])


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
