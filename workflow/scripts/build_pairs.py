"""Draw the seeded, frequency-stratified term -> identifier pairs and their split."""

from latentfacts.data.pairs import build_pairs
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    terms = read_table(smk.input.terms)
    annotations = read_table(smk.input.annotations)
    pairs = build_pairs(terms, annotations, smk.params.ontologies, smk.params.pairs, smk.params.seed)
    print(pairs.groupby(["ontology", "bin", "split"]).size().unstack(fill_value=0).to_string())
    pairs.to_parquet(smk.output[0], index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
