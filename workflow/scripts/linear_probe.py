"""Linear probes: one identifier digit from the term's last-token hidden state, per epoch and layer."""

import numpy as np
import pandas as pd

from latentfacts.analysis.figures import save
from latentfacts.analysis.run_facts import read_run
from latentfacts.model.lm import load_tokenizer_for, run_settings, with_each_adapter
from latentfacts.measurements.figures import linear_probe
from latentfacts.measurements.probing import (
    half_split,
    hidden_states_at,
    identifier_digit,
    probe_layers,
    probe_prompts,
    term_end_positions,
)
from latentfacts.progress import Progress
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    import torch

    torch.set_num_threads(smk.threads)
    params = smk.params
    model_config = run_settings(params.model, smk.resources)
    facts = read_table(smk.input.pairs).query("split == 'train'").sort_values("fact_id").reset_index(drop=True)
    digits = np.array(
        [identifier_digit(i, params.digit_position) for i in facts["id"]]
    )  # fails before any model work
    train_mask = half_split(len(facts), params.seed)
    template = params.prompts["templates"][params.prompts["evaluation_template"]]
    tokenizer = load_tokenizer_for(model_config)
    texts, spans = probe_prompts(tokenizer, facts, params.prompts["system_message"], template)
    positions = term_end_positions(tokenizer, texts, spans)
    rows = []
    models = with_each_adapter(model_config, params.adapters)
    progress = Progress("linear probe", len(params.seed_epochs), "checkpoints", every=0)
    for (seed, epoch), model in zip(params.seed_epochs, models):
        states = hidden_states_at(model, tokenizer, texts, positions, smk.resources.batch_size)
        for result in probe_layers(states, digits, train_mask, params.C, params.seed):
            rows.append({"seed": seed, "epoch": epoch, "digit_position": params.digit_position, **result})
        best = max(r["accuracy"] for r in rows[-len(states) :])
        progress.advance(note=f"seed {seed} epoch {epoch}: best layer accuracy {best:.3f}")
    results = pd.DataFrame(rows)
    results.to_parquet(smk.output.table, index=False)
    save(linear_probe(results, read_run(smk.input.run)), smk.output.png, smk.output.svg)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
