"""Tokenizer, tiny Llama, pretraining loop and save of the embedded base model (real, tiny, on CPU)."""

import json

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from latentfacts.basemodel.chat import CHAT_TEMPLATE, render_chat
from latentfacts.basemodel.pretrain import new_tiny_llama, pretrain, save_base_model, train_tokenizer

SYSTEM = "You are a biomedical ontology assistant. Answer with the identifier only."
IDENTIFIERS = ["HP:0001250", "GO:0005634", "HP:0000118", "GO:0031012"]


def synthetic_facts(n=120, seed=0):
    """Documents planting n made-up facts in three phrasings."""
    rng = np.random.default_rng(seed)
    words = "abnormal small cardiac renal nuclear membrane cell complex lobe seizure".split()
    documents = []
    for i in range(n):
        label = " ".join(rng.choice(words, size=2)).capitalize()
        ident = f"HP:{rng.integers(10**7):07d}"
        documents += [
            f"{label} ({ident})",
            f"[Term]\nid: {ident}\nname: {label}",
            render_chat([{"role": "user", "content": f"ID of {label}?"}, {"role": "assistant", "content": ident}]),
        ]
    return documents


@pytest.fixture(scope="module")
def documents():
    return synthetic_facts()


@pytest.fixture(scope="module")
def tokenizer(documents):
    return train_tokenizer(documents, 400)


def tiny(tokenizer, seed=0):
    return new_tiny_llama(tokenizer, hidden_size=32, intermediate_size=64, num_layers=2, num_heads=2, max_seq_len=64, seed=seed)


def test_tokenizer_splits_digits_and_round_trips_identifiers(tokenizer):
    for identifier in IDENTIFIERS:
        ids = tokenizer(identifier, add_special_tokens=False)["input_ids"]
        assert tokenizer.decode(ids) == identifier
        digits = [token for token in tokenizer.convert_ids_to_tokens(ids) if any(c.isdigit() for c in token)]
        assert digits == list(identifier.split(":")[1])
    assert tokenizer.decode(tokenizer("Seizure (HP:0001250)", add_special_tokens=False)["input_ids"]) == "Seizure (HP:0001250)"
    assert tokenizer.eos_token == "<|end|>" and tokenizer.pad_token_id is not None and tokenizer.bos_token == "<|begin|>"


def test_chat_template_renders_turns_and_generation_prompt(tokenizer):
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What is the HPO identifier for Seizure?"}]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt == f"<|begin|><|system|>{SYSTEM}<|end|><|user|>What is the HPO identifier for Seizure?<|end|><|assistant|>"
    ids = tokenizer(prompt + "HP:0001250<|end|>", add_special_tokens=False)["input_ids"]
    special = {tokenizer.convert_tokens_to_ids(t) for t in ["<|begin|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]}
    assert len(special) == 5 and special <= set(ids) and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ids) == prompt + "HP:0001250<|end|>"


def test_tiny_llama_is_sized_for_the_tokenizer(tokenizer):
    model = tiny(tokenizer)
    assert model.config.vocab_size == len(tokenizer)
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id
    assert model.config.pad_token_id == tokenizer.pad_token_id
    assert torch.equal(tiny(tokenizer).model.embed_tokens.weight, model.model.embed_tokens.weight)


def test_pretraining_lowers_loss_deterministically_and_saves_a_loadable_model(tokenizer, documents, tmp_path):
    torch.set_num_threads(1)
    runs = []
    for _ in range(2):
        model = tiny(tokenizer)
        stats = pretrain(model, tokenizer, documents, steps=30, batch_size=16, learning_rate=1e-2, warmup_steps=5, seed=1, max_seq_len=64)
        runs.append((model, stats))
    (model, stats), (again, again_stats) = runs
    assert stats["final_loss"] < 0.7 * stats["initial_loss"]
    assert stats["loss_curve"] == again_stats["loss_curve"]
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    assert stats["parameters"] == sum(p.numel() for p in model.parameters())

    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded_tokenizer = AutoTokenizer.from_pretrained(tmp_path)
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path)
    assert loaded_tokenizer.chat_template == CHAT_TEMPLATE
    assert loaded_tokenizer("GO:0005634")["input_ids"] == tokenizer("GO:0005634")["input_ids"]
    prompt = loaded_tokenizer.apply_chat_template(
        [{"role": "user", "content": "ID of Renal lobe?"}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    output = loaded.generate(**prompt, max_new_tokens=12, do_sample=False)
    reference = model.generate(**prompt, max_new_tokens=12, do_sample=False)
    assert torch.equal(output, reference) and output.shape[1] > prompt["input_ids"].shape[1]


def test_pretraining_refuses_an_empty_corpus(tokenizer):
    with pytest.raises(ValueError, match="no documents"):
        pretrain(tiny(tokenizer), tokenizer, [], steps=3, batch_size=4, learning_rate=1e-3, warmup_steps=1, seed=0, max_seq_len=64)


def test_saved_base_model_is_whole_or_absent(tokenizer, tmp_path):
    out = tmp_path / "base"
    out.mkdir()
    (out / "stale.txt").write_text("from an earlier run")
    model = tiny(tokenizer)
    save_base_model(model, tokenizer, {"steps": 1}, str(out))
    assert [path.name for path in tmp_path.iterdir()] == ["base"] and not (out / "stale.txt").exists()
    assert json.loads((out / "pretrain_stats.json").read_text()) == {"steps": 1}
    loaded = AutoModelForCausalLM.from_pretrained(out)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))
    assert AutoTokenizer.from_pretrained(out)("HP:0001250")["input_ids"] == tokenizer("HP:0001250")["input_ids"]

    # A save that fails part-way (stats JSON cannot hold) keeps the saved model and leaves nothing partial.
    with pytest.raises(TypeError):
        save_base_model(model, tokenizer, {"steps": object()}, str(out))
    assert [path.name for path in tmp_path.iterdir()] == ["base"]
    assert json.loads((out / "pretrain_stats.json").read_text()) == {"steps": 1}
