"""Score every fact under the base model and sample it: results/models/{model}/baseline.parquet (known/latent/unknown
under the answer rule and under the exact one; SliCK categories when configured)."""

import torch

from latentfacts.model.answers import AnswerRule
from latentfacts.model.evaluation import baseline_examples, baseline_table
from latentfacts.model.lm import load_model_for, load_tokenizer_for, run_settings
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    torch.set_num_threads(smk.threads)
    params = smk.params
    model_config = run_settings(params.model, smk.resources)
    pairs = read_table(smk.input.pairs)
    tokenizer = load_tokenizer_for(model_config)
    examples = baseline_examples(tokenizer, pairs, params.prompts, params.baseline["categories"])
    model = load_model_for(model_config)
    table = baseline_table(
        model, tokenizer, pairs, examples, params.baseline, smk.resources.batch_size,
        params.crosscheck_facts, params.seed, AnswerRule.from_settings(params.answer),
    )
    table.to_parquet(smk.output[0], index=False)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
