"""Reverse probe: score label-given-identifier at epoch 0 and the last epoch, beside the forward recall."""

import pandas as pd

from latentfacts.model.evaluation import sampling_from_config
from latentfacts.analysis.figures import save
from latentfacts.analysis.run_facts import read_run
from latentfacts.model.lm import load_tokenizer_for, run_settings, with_each_adapter
from latentfacts.measurements.figures import reverse_probe
from latentfacts.measurements.reverse_probe import recall_table, reverse_examples
from latentfacts.progress import Progress
from latentfacts.rulelog import log_to
from latentfacts.measurements.runs import read_evals
from latentfacts.model.scoring import score_examples
from latentfacts.tables import read_table


def main(smk):
    import torch

    torch.set_num_threads(smk.threads)
    params = smk.params
    model_config = run_settings(params.model, smk.resources)
    pairs = read_table(smk.input.pairs)
    forward = read_evals(dict(zip(params.seed_epochs, smk.input.evals)))
    sampling = sampling_from_config(params.sampling)
    tokenizer = load_tokenizer_for(model_config)
    examples = reverse_examples(tokenizer, pairs, params.prompts["system_message"], params.prompts["template"])
    scores = []
    models = with_each_adapter(model_config, params.adapters)
    progress = Progress("reverse probe", len(params.seed_epochs), "checkpoints", every=0)
    for (seed, epoch), model in zip(params.seed_epochs, models):
        scored = score_examples(
            model, examples, tokenizer.pad_token_id, sampling, smk.resources.batch_size, progress=False
        )
        scores.append(scored.assign(seed=seed, epoch=epoch))
        progress.advance(note=f"seed {seed} epoch {epoch}: reverse recall {scored['correct'].mean():.1%}")
    reverse = pd.concat(scores, ignore_index=True).merge(pairs[["fact_id", "ontology", "split"]], on="fact_id")
    both = pd.concat(
        [
            recall_table(reverse).assign(direction="reverse"),
            recall_table(forward.merge(pairs[["fact_id", "ontology", "split"]], on="fact_id")).assign(direction="forward"),
        ],
        ignore_index=True,
    )
    reverse.to_parquet(smk.output.scores, index=False)
    both.to_csv(smk.output.recall, index=False)
    save(reverse_probe(both, read_run(smk.input.run)), smk.output.png, smk.output.svg)


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
