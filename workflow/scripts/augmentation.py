"""Memorization vs semantic recall per epoch for each training arm, and acquisition Cox models per arm."""

import json

from latentfacts.analysis.figures import save
from latentfacts.measurements.augmentation import compare_template_modes
from latentfacts.analysis.run_facts import read_run
from latentfacts.measurements.figures import augmentation
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    paths = {name: getattr(smk.input, name) for name in ("pairs", "covariates", "baseline")}
    paths |= {tuple(key): path for key, path in zip(smk.params.eval_arm_seed_epochs, smk.input.evals)}
    evals = {key: read_table(path) for key, path in paths.items() if isinstance(key, tuple)}
    probes = {tuple(key): read_table(path) for key, path in zip(smk.params.probe_arm_seeds, smk.input.probes)}
    gaps, ratios, models = compare_template_modes(
        read_table(paths["pairs"]),
        read_table(paths["covariates"]),
        read_table(paths["baseline"]),
        evals,
        probes,
        smk.params.modes,
        smk.params.analysis,
        paths,
    )
    print(gaps[gaps["epoch"] == gaps["epoch"].max()].to_string(index=False))
    gaps.to_csv(smk.output.gap, index=False)
    ratios.to_csv(smk.output.cox, index=False)
    with open(smk.output.models, "w") as stream:
        json.dump(models, stream, indent=2, default=str)
    save(augmentation(gaps, read_run(smk.input.run)), smk.output.png, smk.output.svg)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
