"""Count how often each pair's identifier and label occur (local corpus or PubMed Central)."""

import json
import os

from latentfacts.data.frequency import corpus_frequency
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    pairs = read_table(smk.input.pairs)
    if smk.params.source == "corpus":
        table = corpus_frequency(pairs, smk.input.corpus)
    else:
        from latentfacts.data.pubmed import pubmed_counts

        manners = json.loads(smk.resources.pubmed)  # a resource, not a param: see the rule
        table = pubmed_counts(pairs, api_key=os.environ.get("NCBI_API_KEY"), base_url=smk.params.base_url, **manners)
    print(table.describe().to_string())
    table.to_parquet(smk.output[0], index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
