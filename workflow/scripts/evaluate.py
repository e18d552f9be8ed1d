"""Score every fact after one fine-tuning epoch (epoch 0: the base model): results/runs/seed{s}/eval/epoch_{e}.parquet."""

import pandas as pd
import torch

from latentfacts.evaluation import evaluation_examples, sampling_from_config, score_and_crosscheck
from latentfacts.lm import load_model_for, load_tokenizer_for
from latentfacts.rulelog import log_to


def main(smk):
    torch.set_num_threads(smk.threads)
    epoch = int(smk.wildcards.epoch)
    pairs = pd.read_parquet(smk.input.pairs)
    tokenizer = load_tokenizer_for(smk.params.model)
    examples = evaluation_examples(tokenizer, pairs, smk.params.prompts)
    model = load_model_for(smk.params.model, adapter=smk.input.adapter or None)
    scores = score_and_crosscheck(
        model, tokenizer, examples, sampling_from_config(smk.params.sampling),
        smk.params.batch_size, smk.params.crosscheck_facts, [smk.params.seed, epoch],
    )
    scores.insert(1, "epoch", epoch)
    scores.to_parquet(smk.output[0], index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
