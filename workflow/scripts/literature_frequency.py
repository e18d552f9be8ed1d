"""Count how often each pair's identifier and label occur (local corpus or PubMed Central)."""

import os

import pandas as pd

from latentfacts.data.frequency import corpus_frequency
from latentfacts.rulelog import log_to


def main(smk):
    pairs = pd.read_parquet(smk.input.pairs)
    source = smk.params.frequency["source"]
    if source == "corpus":
        table = corpus_frequency(pairs, smk.input.corpus)
    else:
        from latentfacts.data.pubmed import pubmed_counts

        table = pubmed_counts(pairs, api_key=os.environ.get("NCBI_API_KEY"), **smk.params.frequency["pubmed"])
    print(table.describe().to_string())
    table.to_parquet(smk.output[0], index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
