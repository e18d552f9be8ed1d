"""Parse every configured OBO file into one table of non-obsolete terms."""

import pandas as pd

from latentfacts.data.fetch import named_source
from latentfacts.data.obo import read_ontology, terms_table
from latentfacts.rulelog import log_to


def main(smk):
    tables = []
    for ontology, path in smk.input.items():
        with named_source(path, *smk.params.sources[ontology]["obo"]):
            graph = read_ontology(path)
        table = terms_table(graph, ontology)
        print(f"{ontology}: {path} data-version {graph.graph.get('data-version')}: {len(table)} terms")
        tables.append(table)
    pd.concat(tables, ignore_index=True).to_parquet(smk.output[0], index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
