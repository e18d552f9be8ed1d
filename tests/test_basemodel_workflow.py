"""The rules synthetic_corpus and pretrain_base end to end in a private copy of the project (tiny settings)."""

import json

import pandas as pd
import pytest
import yaml
from transformers import AutoModelForCausalLM, AutoTokenizer

from conftest import run_snakemake
from latentfacts.basemodel.corpus import CORPUS_QUESTIONS, read_documents

TINY = {
    "embedded_model": {
        "corpus": {"background_terms": 200},
        "tokenizer_vocab_size": 400,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_heads": 2,
        "steps": 20,
        "batch_size": 8,
        "warmup_steps": 2,
    }
}


@pytest.mark.workflow
def test_corpus_and_pretraining_rules(project):
    (project / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    run_snakemake(project, "results/models/default/base_model", "--configfile", "tiny.yaml")

    counts = pd.read_parquet(project / "results/corpus/planted_counts.parquet")
    pairs = pd.read_parquet(project / "results/data/pairs.parquet")
    documents = read_documents(project / "results/corpus/corpus.txt")
    assert set(pairs["fact_id"]) == set(counts.loc[counts["is_study_fact"], "fact_id"])
    assert (~counts["is_study_fact"]).sum() == 200 and len(documents) == counts["planted_count"].sum()

    base = project / "results/models/default/base_model"
    stats = json.loads((base / "pretrain_stats.json").read_text())
    assert stats["steps"] == 20 and len(stats["corpus_sha256"]) == 64 and stats["seed"] == 0
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is the HPO identifier for the HPO term Seizure?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    assert model.generate(**prompt, max_new_tokens=4, do_sample=False).shape[1] > prompt["input_ids"].shape[1]
    assert (project / "results/models/default/benchmarks/pretrain_base.tsv").exists()
    assert "pretrain: 20/20 steps (100%)" in (project / "results/models/default/logs/pretrain_base.log").read_text()

    # An evaluation template equal to a corpus question is refused, and no corpus is left behind.
    clash = yaml.safe_load((project / "config/config.yaml").read_text())["prompts"]
    clash["templates"] = [CORPUS_QUESTIONS[0]]
    (project / "clash.yaml").write_text(yaml.safe_dump({"prompts": clash}))
    failed = run_snakemake(
        project, "results/corpus/corpus.txt", "--forcerun", "synthetic_corpus", "--configfile", "tiny.yaml", "clash.yaml", check=False
    )
    assert failed.returncode != 0
    assert "is a corpus question wording" in (project / "results/logs/synthetic_corpus.log").read_text()
    assert not (project / "results/corpus/corpus.txt").exists()
