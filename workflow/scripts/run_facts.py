"""Write results/models/{model}/analysis/run.json: the run's model, data releases, seeds, epochs and scoring rule."""

import json

from latentfacts.analysis.run_facts import run_facts
from latentfacts.rulelog import log_to
from latentfacts.tables import read_json


def main(smk):
    model_dir = next(iter(smk.input.model), None)
    facts = run_facts(
        model_dir or smk.params.hub_model,
        smk.params.pretrained,
        model_dir,
        dict(zip(smk.params.sources, zip(smk.input.provenance, smk.input.data))),
        smk.params.seeds,
        smk.params.epochs,
        read_json(smk.input.annotations_report),
        smk.params.answer,
    )
    print(json.dumps(facts, indent=1))
    with open(smk.output[0], "w") as stream:
        json.dump(facts, stream, indent=1)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
