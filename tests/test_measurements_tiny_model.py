"""On a real (untrained) tiny Llama: probe prompts find the term's last token, hidden states do not depend
on batching, reverse-probe examples ask for the label, and the fine-tuning arms train the right sets."""

import importlib.util
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT
from latentfacts.measurements.arms import arm_of, template_mode
from latentfacts.model.lm import load_model, load_tokenizer
from latentfacts.basemodel.pretrain import new_tiny_llama, train_tokenizer
from latentfacts.measurements.probing import hidden_states_at, probe_prompts, term_end_positions
from latentfacts.measurements.reverse_probe import reverse_examples

SYSTEM = "Answer with the identifier only."
TEMPLATE = "What is the {ontology} identifier for the {ontology} term {label}?"
FACTS = pd.DataFrame(
    {
        "fact_id": ["HP:0001250", "GO:0005634", "HP:0000118", "GO:0005737", "HP:0012345"],
        "id": ["HP:0001250", "GO:0005634", "HP:0000118", "GO:0005737", "HP:0012345"],
        "label": ["Seizure", "nucleus", "Phenotypic abnormality", "cytoplasm", "Café-au-lait spot"],
        "ontology": ["HPO", "GO", "HPO", "GO", "HPO"],
    }
)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    """A saved tokenizer + randomly initialised 2-layer Llama (no pretraining: these tests need none)."""
    directory = tmp_path_factory.mktemp("tiny_untrained")
    lines = [f"{r.label} {r.id} {TEMPLATE}" for r in FACTS.itertuples()] + [SYSTEM]
    tokenizer = train_tokenizer(lines * 5, vocab_size=320)
    model = new_tiny_llama(
        tokenizer, hidden_size=32, intermediate_size=64, num_layers=2, num_heads=2, max_seq_len=128, seed=0
    )
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return str(directory)


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    return load_model(tiny_dir), load_tokenizer(tiny_dir)


def test_position_is_the_terms_last_token(tiny):
    _, tokenizer = tiny
    texts, spans = probe_prompts(tokenizer, FACTS, SYSTEM, TEMPLATE)
    for text, (start, end), position, label in zip(
        texts, spans, term_end_positions(tokenizer, texts, spans), FACTS["label"]
    ):
        assert text[start:end] == label
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert tokenizer.decode(ids[: position + 1]).endswith(label)
        assert not tokenizer.decode(ids[position : position + 1]).startswith("?")


def test_hidden_states_equal_a_whole_text_forward_whatever_the_batching(tiny):
    """The texts are cut after their position, length-batched and share one prefix pass: every layer's
    state still equals that of the whole text run alone."""
    import torch

    model, tokenizer = tiny
    texts, spans = probe_prompts(tokenizer, FACTS, SYSTEM, TEMPLATE)
    positions = term_end_positions(tokenizer, texts, spans)
    together = hidden_states_at(model, tokenizer, texts, positions, batch_size=5)
    alone = hidden_states_at(model, tokenizer, texts, positions, batch_size=1)
    assert together.shape == (3, 5, 32)  # embeddings + 2 layers
    np.testing.assert_allclose(together, alone, atol=1e-5)
    for i, (text, position) in enumerate(zip(texts, positions)):
        ids = torch.tensor([tokenizer(text, add_special_tokens=False)["input_ids"]])
        assert ids.shape[1] > position + 1  # the cut drops tokens
        with torch.no_grad():
            direct = model(input_ids=ids, output_hidden_states=True).hidden_states
        np.testing.assert_allclose(together[:, i], np.stack([h[0, position].numpy() for h in direct]), atol=1e-5)


def test_reverse_examples_ask_for_the_label(tiny):
    _, tokenizer = tiny
    examples = reverse_examples(tokenizer, FACTS, SYSTEM, "Which {ontology} term has the identifier {id}?")
    for example, row in zip(examples, FACTS.itertuples()):
        prompt = tokenizer.decode(example.prompt_ids)
        assert f"Which {row.ontology} term has the identifier {row.id}?" in prompt
        assert row.label not in prompt
        assert tokenizer.decode(example.target_ids[:-1]) == row.label
        assert example.target_ids[-1] == tokenizer.eos_token_id


class Namespace(SimpleNamespace):
    """What a script reads of `snakemake.input`, `.params` or `.resources`: attributes, items(), and
    (like Snakemake's input) iteration over every file named."""

    def items(self):
        return vars(self).items()

    def __iter__(self):
        for value in vars(self).values():
            yield from [value] if isinstance(value, str) else value


def load_script(name):
    spec = importlib.util.spec_from_file_location(f"{name}_script", ROOT / "workflow" / "scripts" / f"{name}.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def run_train_script(tiny_dir, pairs_path, root, run, epochs, main_templates="all", start=None, withdrawn=None, after_epoch=1):
    """Call the finetune_{arm} and evaluate_{arm} rules' scripts as Snakemake would, for one run
    (`main_templates`: the main run's prompts.train_templates); returns each trained epoch's seen order."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    model = {key: config["model"][key] for key in ("dtype", "trust_remote_code", "chat_template")} | {"name_or_path": str(tiny_dir)}
    # as the rules pass them: where the model's layers go (model_placement in common.smk) is a resource
    placement = json.dumps({key: config["model"][key] for key in ("device_map", "max_memory")})
    resources = Namespace(device="cpu", batch_size=8, resume=str(root / "resume"), placement=placement)
    checkpoints = [str(root / f"finetune/epoch_{e:02d}") for e in epochs]
    load_script("finetune").main(
        SimpleNamespace(
            wildcards=SimpleNamespace(seed="0"),
            input=Namespace(pairs=str(pairs_path), start=start or [], withdrawn=withdrawn or []),
            output=SimpleNamespace(checkpoints=checkpoints),
            params=Namespace(
                epochs=list(epochs), model=model, prompts={k: config["prompts"][k] for k in ("system_message", "templates")},
                train_templates=template_mode(arm_of(run), main_templates),
                finetune={**config["finetune"], "epochs": 3, "batch_size": 4}, withdraw_after=after_epoch,
            ),
            resources=resources,
            threads=1,
        )
    )
    evaluated = ([0] if run == "runs" else []) + list(epochs)
    evals = [str(root / f"eval/epoch_{e:02d}.parquet") for e in evaluated]
    (root / "eval").mkdir(parents=True)  # Snakemake makes the outputs' parent directories
    load_script("evaluate").main(
        SimpleNamespace(
            input=SimpleNamespace(pairs=str(pairs_path), checkpoints=checkpoints),
            output=SimpleNamespace(evals=evals),
            params=Namespace(
                epochs=evaluated, model=model, prompts=config["prompts"],
                sampling={"temperature": 1.0, "top_k": 0, "top_p": 1.0}, crosscheck_facts=4, seed=0, answer={"answer": "exact"},
            ),
            resources=resources,
            threads=1,
        )
    )
    for path in evals:
        assert len(pd.read_parquet(path)) == len(pd.read_parquet(pairs_path))
    return {e: pd.read_parquet(f"{path}/seen_order.parquet") for e, path in zip(epochs, checkpoints)}


def test_arms_train_the_right_sets(tiny_dir, tmp_path):
    """Through the real training script: withdrawn facts are absent after epoch k, present before; the
    augmentation arm trains with the other template mode than main: template 0 only, or all paraphrases;
    an arm that withdraws nothing continues main's run bit for bit from main's saved state."""
    facts = [f"HP:{i:07d}" for i in range(12)]
    pairs = pd.DataFrame(
        {
            "fact_id": facts,
            "ontology": "HPO",
            "id": facts,
            "label": [f"term {i}" for i in range(12)],
            "split": "train",
            "bin": 0,
        }
    )
    pairs_path = tmp_path / "pairs.parquet"
    pairs.to_parquet(pairs_path)
    withdrawn = pd.DataFrame({"fact_id": facts[:4], "after_epoch": 1})
    withdrawn_path = tmp_path / "withdrawn.parquet"
    withdrawn.to_parquet(withdrawn_path)
    nothing_path = tmp_path / "nothing.parquet"
    withdrawn.iloc[:0].to_parquet(nothing_path)

    main = run_train_script(tiny_dir, pairs_path, tmp_path / "main", "runs", [1, 2, 3])
    assert sorted(main[1]["fact_id"]) == facts and main[1]["template"].nunique() > 1
    start = str(tmp_path / "main/finetune/epoch_01")
    arm = run_train_script(tiny_dir, pairs_path, tmp_path / "withdrawal", "arms/withdrawal", [2, 3], start=start, withdrawn=str(withdrawn_path))
    assert sorted(arm[2]["fact_id"]) == sorted(arm[3]["fact_id"]) == facts[4:]
    run_train_script(tiny_dir, pairs_path, tmp_path / "same", "arms/withdrawal", [2, 3], start=start, withdrawn=str(nothing_path))
    for name in ("epoch_03/adapter_model.safetensors", "epoch_02/training_state.pt"):
        same, uninterrupted = (tmp_path / run / "finetune" / name for run in ("same", "main"))
        assert same.read_bytes() == uninterrupted.read_bytes(), name
    single = run_train_script(tiny_dir, pairs_path, tmp_path / "single", "arms/single_template", [1, 2])
    for seen in single.values():
        assert sorted(seen["fact_id"]) == facts and set(seen["template"]) == {0}
    main_first = run_train_script(tiny_dir, pairs_path, tmp_path / "first", "runs", [1], main_templates="first")
    paraphrases = run_train_script(tiny_dir, pairs_path, tmp_path / "para", "arms/paraphrases", [1], main_templates="first")
    assert set(main_first[1]["template"]) == {0}
    assert sorted(paraphrases[1]["fact_id"]) == facts and set(paraphrases[1]["template"]) == {0, 1, 2, 3, 4}
