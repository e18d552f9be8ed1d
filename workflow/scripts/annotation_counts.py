"""Count direct and is_a-propagated annotations per term from HPOA / GAF files, with a report."""

import json

import pandas as pd

from latentfacts.data.annotations import ontology_annotations
from latentfacts.data.fetch import named_source
from latentfacts.rulelog import log_to


def main(smk):
    tables, reports = [], {}
    for ontology, obo, annotations in zip(smk.params.ontologies, smk.input.obo, smk.input.annotations):
        settings = smk.params.ontologies[ontology]
        sources = smk.params.sources[ontology]
        # an error names the configured source of whichever file it is about
        with named_source(obo, *sources["obo"]), named_source(annotations, *sources["annotations"]):
            table, reports[ontology] = ontology_annotations(
                ontology, obo, annotations, settings["annotation_format"], settings["namespace"],
                settings["remap_obsolete"], smk.resources.max_unannotated_percent,
            )  # fmt: skip
        tables.append(table)
    pd.concat(tables, ignore_index=True).to_parquet(smk.output.counts, index=False)
    with open(smk.output.report, "w") as stream:
        json.dump(reports, stream, indent=1, sort_keys=True)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
