"""Fine-tune one run (the main run or an arm) of one replicate seed, all its epochs in one process:
the base model is loaded once, and after every epoch its LoRA state goes to
results/{run}/seed{s}/finetune/epoch_{e}/ and its scores to results/{run}/seed{s}/eval/epoch_{e}.parquet
(the main run also scores epoch 0, the base model)."""

import pandas as pd
import torch

from latentfacts.measurements.arms import arm_of, arm_prompts, training_facts
from latentfacts.model.evaluation import epoch_table, evaluation_examples, sampling_from_config
from latentfacts.model.finetune import TrainConfig, resume, rng_state, save_epoch, set_rng_state, train_epoch, training_examples
from latentfacts.model.lm import load_model_for, load_tokenizer_for
from latentfacts.rulelog import log_to


def main(smk):
    torch.set_num_threads(smk.threads)
    arm, seed = arm_of(smk.params.run), int(smk.wildcards.seed)
    train_prompts = arm_prompts(arm, smk.params.prompts)
    cfg = TrainConfig.from_config(smk.params.finetune, train_prompts, seed)
    pairs = pd.read_parquet(smk.input.pairs)
    train = pairs[pairs["split"] == "train"]
    withdrawn = pd.read_parquet(smk.input.withdrawn)["fact_id"] if smk.input.withdrawn else ()
    tokenizer = load_tokenizer_for(smk.params.model)
    trainable = training_examples(tokenizer, train, train_prompts)
    # every run is scored on the main run's evaluation template, so arms compare with main
    evaluated = evaluation_examples(tokenizer, pairs, smk.params.prompts)
    sampling = sampling_from_config(smk.params.sampling)

    def evaluate(model, epoch):
        state = rng_state()  # scoring must not move the training RNG: a resumed arm would diverge
        table = epoch_table(
            model, tokenizer, evaluated, sampling, smk.params.batch_size, smk.params.crosscheck_facts,
            smk.params.seed, epoch,
        )
        set_rng_state(state)
        return table

    base = load_model_for(smk.params.model)
    tables = iter(smk.output.evals)
    if smk.params.evaluate_base:
        evaluate(base, 0).to_parquet(next(tables), index=False)
    # len(train), not the kept facts: every arm keeps the learning-rate schedule planned for the full set
    model, optimizer, scheduler = resume(base, smk.input.start or None, cfg, len(train))
    for epoch, checkpoint, table in zip(smk.params.epochs, smk.output.checkpoints, tables):
        kept = set(training_facts(train["fact_id"], epoch, withdrawn, smk.params.withdraw_after))
        examples = {key: example for key, example in trainable.items() if key[0] in kept}
        seen_order, log = train_epoch(model, optimizer, scheduler, examples, cfg, epoch, tokenizer.pad_token_id)
        save_epoch(checkpoint, model, optimizer, scheduler, seen_order, log)
        scores = evaluate(model, epoch)
        scores.to_parquet(table, index=False)
        print(f"epoch {epoch}: mean loss {log['mean_loss']:.4f}, recall {scores['correct'].mean():.3f}", flush=True)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
