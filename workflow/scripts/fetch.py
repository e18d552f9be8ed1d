"""Fetch one configured source into resources/downloads/ and record its provenance."""

from latentfacts.data.fetch import fetch_source, write_provenance
from latentfacts.rulelog import log_to


def main(smk):
    provenance = fetch_source(smk.params.spec, smk.output.data, max_bytes=smk.resources.download_max_mb * 10**6)
    write_provenance(provenance, smk.output.provenance)
    print(provenance)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
