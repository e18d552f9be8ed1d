"""Draw the trained facts that the withdrawal arm stops training after epoch k (seeded per replicate)."""

import pandas as pd

from latentfacts.measurements.arms import withdrawn_facts
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    pairs = read_table(smk.input.pairs)
    params = smk.params
    trained = pairs.loc[pairs["split"] == "train", "fact_id"]
    chosen = withdrawn_facts(trained, params.fraction, params.seed, int(smk.wildcards.seed))
    print(f"{len(chosen)} of {len(trained)} trained facts withdrawn after epoch {params.after_epoch}")
    pd.DataFrame({"fact_id": chosen, "after_epoch": params.after_epoch}).to_parquet(smk.output[0], index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
