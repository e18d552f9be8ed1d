"""Fine-tune one run (the main run or an arm) of one replicate seed through all its epochs, the base
model loaded once: results/models/{model}/{run}/seed{s}/finetune/epoch_{e}/ (adapter and training state). A killed
job continues from its last finished epoch (see latentfacts.model.training_run)."""

import torch

from latentfacts.model.finetune import TrainConfig
from latentfacts.model.lm import load_model_for, load_tokenizer_for, run_settings
from latentfacts.model.training_run import ResumeState, fingerprint, train_run
from latentfacts.rulelog import log_to
from latentfacts.tables import read_table


def main(smk):
    torch.set_num_threads(smk.threads)
    params = smk.params
    prompts = {**params.prompts, "train_templates": params.train_templates}
    cfg = TrainConfig.from_config(params.finetune, prompts, int(smk.wildcards.seed))
    pairs = read_table(smk.input.pairs)
    withdrawn = read_table(smk.input.withdrawn)["fact_id"] if smk.input.withdrawn else ()
    state = ResumeState(smk.resources.resume, fingerprint(dict(params.items()), list(smk.input)))
    model_config = run_settings(params.model, smk.resources)
    train_run(
        load_model_for(model_config),
        load_tokenizer_for(model_config),
        pairs[pairs["split"] == "train"],
        prompts,
        cfg,
        params.epochs,
        smk.output.checkpoints,
        state,
        start=smk.input.start or None,
        withdrawn=withdrawn,
        withdraw_after=params.withdraw_after,
    )


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
