"""Train the tokenizer and a tiny Llama from scratch on the synthetic corpus; save both (HF format)."""

import hashlib
import json

import torch
import transformers

from latentfacts.basemodel.corpus import read_documents
from latentfacts.basemodel.pretrain import new_tiny_llama, pretrain, save_base_model, train_tokenizer
from latentfacts.rulelog import log_to


def main(smk):
    torch.set_num_threads(smk.threads)
    settings, seed = smk.params.pretrain, smk.params.seed
    documents = read_documents(smk.input.corpus)
    tokenizer = train_tokenizer(documents, settings["tokenizer_vocab_size"])
    model = new_tiny_llama(
        tokenizer,
        settings["hidden_size"],
        settings["intermediate_size"],
        settings["num_layers"],
        settings["num_heads"],
        settings["max_seq_len"],
        seed,
    )
    stats = pretrain(
        model,
        tokenizer,
        documents,
        settings["steps"],
        settings["batch_size"],
        settings["learning_rate"],
        settings["warmup_steps"],
        seed,
        settings["max_seq_len"],
    )
    with open(smk.input.corpus, "rb") as handle:
        corpus_sha256 = hashlib.sha256(handle.read()).hexdigest()
    stats.update(
        seed=seed,
        threads=smk.threads,
        corpus=smk.input.corpus,
        corpus_sha256=corpus_sha256,
        vocab_size=len(tokenizer),
        torch=torch.__version__,
        transformers=transformers.__version__,
    )
    print(json.dumps(stats, indent=1))
    save_base_model(model, tokenizer, stats, smk.output[0])


if "snakemake" in globals():
    with log_to(snakemake.log[0]):  # noqa: F821
        main(snakemake)  # noqa: F821
