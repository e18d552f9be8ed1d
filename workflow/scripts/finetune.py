"""Train one LoRA epoch from the previous epoch's saved state: results/{run}/seed{s}/finetune/epoch_{e}/
(run: `runs` for the main run, `arms/{arm}` for an arm with its own training set or template)."""

import pandas as pd
import torch

from latentfacts.arms import arm_of, arm_prompts, training_facts
from latentfacts.finetune import TrainConfig, check_epoch, resume, save_epoch, train_epoch, training_examples
from latentfacts.lm import load_model_for, load_tokenizer_for
from latentfacts.rulelog import log_to


def main(smk):
    torch.set_num_threads(smk.threads)
    arm, epoch = arm_of(smk.wildcards.run), int(smk.wildcards.epoch)
    prompts = arm_prompts(arm, smk.params.prompts)
    cfg = TrainConfig.from_config(smk.params.finetune, prompts, int(smk.wildcards.seed))
    check_epoch(epoch, cfg)
    pairs = pd.read_parquet(smk.input.pairs)
    train = pairs[pairs["split"] == "train"]
    withdrawn = pd.read_parquet(smk.input.withdrawn)["fact_id"] if smk.input.withdrawn else ()
    kept = training_facts(train["fact_id"], epoch, withdrawn, smk.params.withdraw_after)
    trained = train[train["fact_id"].isin(kept)]
    tokenizer = load_tokenizer_for(smk.params.model)
    examples = training_examples(tokenizer, trained, prompts)
    # len(train), not len(trained): every arm keeps the learning-rate schedule planned for the full set.
    model, optimizer, scheduler = resume(load_model_for(smk.params.model), smk.input.previous or None, cfg, len(train))
    seen_order, log = train_epoch(model, optimizer, scheduler, examples, cfg, epoch, tokenizer.pad_token_id)
    save_epoch(smk.output[0], model, optimizer, scheduler, seen_order, log)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
