"""Score one run (the main run or an arm) of one replicate seed at each of its epochs, the base model
loaded once and the epochs' adapters swapped on it: results/models/{model}/{run}/seed{s}/eval/epoch_{e}.parquet
(epoch 0: the base model)."""

import torch

from latentfacts.model.answers import AnswerRule
from latentfacts.model.evaluation import (
    evaluation_examples,
    example_targets,
    recall_note,
    run_tables,
    sampling_from_config,
)
from latentfacts.model.lm import load_tokenizer_for, run_settings
from latentfacts.progress import Progress
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    torch.set_num_threads(smk.threads)
    params = smk.params
    model_config = run_settings(params.model, smk.resources)
    tokenizer = load_tokenizer_for(model_config)
    pairs = read_table(smk.input.pairs)
    examples = evaluation_examples(tokenizer, pairs, params.prompts)
    rule = AnswerRule.from_settings(params.answer)  # None: exact
    # epoch 0 is the base model itself; every other epoch has its checkpoint among the inputs
    adapters = iter(smk.input.checkpoints)
    epochs = {epoch: None if epoch == 0 else next(adapters) for epoch in params.epochs}
    tables = run_tables(
        model_config, tokenizer, examples, epochs, sampling_from_config(params.sampling),
        smk.resources.batch_size, params.crosscheck_facts, params.seed,
        rule, example_targets(pairs, examples),
    )
    progress = Progress("evaluation", len(epochs), "epochs", every=0)
    for (epoch, table), path in zip(tables, smk.output.evals):
        table.to_parquet(path, index=False)
        progress.advance(note=f"epoch {epoch}: {recall_note(table, pairs)}")


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
