"""Stack the Cox and discrete-time results of every endpoint into the report's three tables."""

import pandas as pd

from latentfacts.rulelog import log_to
from latentfacts.analysis.summary import model_row
from latentfacts.tables import read_json, read_table


def main(smk):
    hazard_ratios, models, ph = [], [], []
    for i, endpoint in enumerate(smk.params.endpoints):
        for model, table, facts in [
            ("cox", smk.input.cox[i], smk.input.cox_models[i]),
            ("discrete", smk.input.discrete[i], smk.input.discrete_models[i]),
        ]:
            hazard_ratios.append(read_table(table).assign(endpoint=endpoint, model=model))
            models.append({"endpoint": endpoint, "model": model, **model_row(read_json(facts))})
        ph.append(read_table(smk.input.ph[i]).assign(endpoint=endpoint))
    hazard_ratios = pd.concat(hazard_ratios, ignore_index=True)
    hazard_ratios = hazard_ratios[["endpoint", "model", *hazard_ratios.columns[:-2]]]
    ph = pd.concat(ph, ignore_index=True)
    print(hazard_ratios.to_string(index=False))
    hazard_ratios.to_csv(smk.output.hazard_ratios, index=False)
    pd.DataFrame(models).to_csv(smk.output.models, index=False)
    ph[["endpoint", *ph.columns[:-1]]].to_csv(smk.output.ph, index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
