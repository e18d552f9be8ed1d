"""Train one LoRA epoch from the previous epoch's saved state: results/runs/seed{s}/finetune/epoch_{e}/."""

import pandas as pd
import torch

from latentfacts.finetune import TrainConfig, check_epoch, resume, save_epoch, train_epoch, training_examples
from latentfacts.lm import load_model_for, load_tokenizer_for
from latentfacts.rulelog import log_to


def main(smk):
    torch.set_num_threads(smk.threads)
    epoch, cfg = int(smk.wildcards.epoch), TrainConfig.from_config(smk.params.finetune, smk.params.prompts, int(smk.wildcards.seed))
    check_epoch(epoch, cfg)
    pairs = pd.read_parquet(smk.input.pairs)
    train = pairs[pairs["split"] == "train"]
    tokenizer = load_tokenizer_for(smk.params.model)
    examples = training_examples(tokenizer, train, smk.params.prompts)
    model, optimizer, scheduler = resume(load_model_for(smk.params.model), smk.input.previous or None, cfg, len(train))
    seen_order, log = train_epoch(model, optimizer, scheduler, examples, cfg, epoch, tokenizer.pad_token_id)
    save_epoch(smk.output[0], model, optimizer, scheduler, seen_order, log)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
