"""Write the synthetic pretraining corpus, each fact planted a seeded number of times, and its counts."""

from latentfacts.basemodel.corpus import (
    ANNOTATIONS_COLUMNS,
    PAIRS_COLUMNS,
    TERMS_COLUMNS,
    check_settings,
    synthetic_corpus,
    write_corpus,
)
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    settings = smk.params.corpus
    check_settings(settings, smk.params.prompts["templates"])
    columns = {"pairs": PAIRS_COLUMNS, "terms": TERMS_COLUMNS, "annotations": ANNOTATIONS_COLUMNS}
    tables = {name: read_table(smk.input[name], columns[name]) for name in columns}
    documents, counts = synthetic_corpus(
        tables["pairs"], tables["terms"], tables["annotations"], settings, smk.params.prompts["system_message"], smk.params.seed
    )
    study = counts[counts["is_study_fact"]]
    print(f"{len(documents)} documents; {len(counts)} facts ({len(study)} study facts)")
    print("study facts by planted count:\n" + study["planted_count"].value_counts().sort_index().to_string())
    counts.to_parquet(smk.output.counts, index=False)
    write_corpus(documents, smk.output.corpus)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
