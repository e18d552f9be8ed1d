"""Count direct and is_a-propagated annotations per term from HPOA / GAF files."""

import pandas as pd

from latentfacts.data.annotations import READERS, annotation_counts
from latentfacts.data.obo import read_ontology
from latentfacts.rulelog import log_to


def main(smk):
    tables = []
    for ontology, fmt, obo, annotations in zip(smk.params.ontologies, smk.params.formats, smk.input.obo, smk.input.annotations):
        pairs = READERS[fmt](annotations)
        print(f"{ontology}: {annotations}: {len(pairs)} annotation rows counted ({fmt})")
        tables.append(annotation_counts(pairs, read_ontology(obo), ontology))
    pd.concat(tables, ignore_index=True).to_parquet(smk.output[0], index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
