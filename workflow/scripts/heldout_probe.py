"""Score an arm's trained facts on the held-out paraphrase templates at every epoch (semantic probe)."""

import pandas as pd

from latentfacts.model.evaluation import sampling_from_config
from latentfacts.model.lm import load_tokenizer_for, run_settings, with_each_adapter
from latentfacts.model.prompts import encode_facts
from latentfacts.progress import Progress
from latentfacts.rulelog import log_to
from latentfacts.model.scoring import score_examples
from latentfacts.tables import read_table


def main(smk):
    import torch

    torch.set_num_threads(smk.threads)
    params = smk.params
    model_config = run_settings(params.model, smk.resources)
    facts = read_table(smk.input.pairs).query("split == 'train'")
    templates = params.prompts["templates"]
    tokenizer = load_tokenizer_for(model_config)
    examples = encode_facts(tokenizer, facts, params.prompts["system_message"], templates, range(len(templates)))
    sampling = sampling_from_config(params.sampling)
    scores = []
    models = with_each_adapter(model_config, params.adapters)
    progress = Progress("held-out paraphrase probe", len(params.seed_epochs), "checkpoints", every=0)
    for (seed, epoch), model in zip(params.seed_epochs, models):
        scored = score_examples(
            model, examples, tokenizer.pad_token_id, sampling, smk.resources.batch_size, progress=False
        )
        scores.append(scored.assign(seed=seed, epoch=epoch, template=[ex.template for ex in examples]))
        progress.advance(note=f"seed {seed} epoch {epoch}: held-out recall {scored['correct'].mean():.1%}")
    pd.concat(scores, ignore_index=True).to_parquet(smk.output[0], index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
