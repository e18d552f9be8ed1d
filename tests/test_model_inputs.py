"""Bad model-layer inputs fail early with a message that names the culprit: a missing model path,
a tokenizer without chat template, an identifier the tokenizer cannot spell, out-of-range settings."""

from pathlib import Path

import pandas as pd
import pytest
import yaml
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from conftest import run_snakemake
from latentfacts.model.lm import ModelInputError, load_model, load_tokenizer
from latentfacts.model.prompts import PromptError, encode_facts, end_of_turn_id, render_prompt
from tiny_lm import SYSTEM, TEMPLATES, tiny_facts, tiny_lm_dir


@pytest.mark.parametrize("path", ["results/models/default/base_model", "/nonexistent/model", "./local-model"])
def test_missing_model_path_is_named(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative paths resolve in an empty directory, whatever the checkout holds
    with pytest.raises(ModelInputError, match=f"model path '{path}'.*does not exist"):
        load_model(path)
    with pytest.raises(ModelInputError, match="does not exist"):
        load_tokenizer(path)


def test_directory_without_model_files_is_named(tmp_path):
    with pytest.raises(ModelInputError, match=f"{tmp_path}.*no config.json"):
        load_model(str(tmp_path))


def test_tokenizer_without_chat_template_needs_one_from_the_config(tmp_path):
    tokenizer = load_tokenizer(tiny_lm_dir())
    tokenizer.chat_template = None
    tokenizer.save_pretrained(tmp_path)
    (tmp_path / "config.json").write_text((Path(tiny_lm_dir()) / "config.json").read_text())
    with pytest.raises(ModelInputError, match="no chat template and config key model.chat_template is null"):
        load_tokenizer(str(tmp_path))
    override = "{% for m in messages %}<|user|>{{ m['content'] }}<|end|>{% endfor %}<|assistant|>"
    assert load_tokenizer(str(tmp_path), chat_template=override).chat_template == override


def test_end_of_turn_token_comes_from_the_chat_template():
    tokenizer = load_tokenizer(tiny_lm_dir())
    assert tokenizer.convert_ids_to_tokens(end_of_turn_id(tokenizer)) == "<|end|>"
    # a template closing the assistant turn with <|pad|> (as Llama-3.1 closes with <|eot_id|>, not eos)
    tokenizer.chat_template = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|pad|>{% endfor %}"
    assert end_of_turn_id(tokenizer) == tokenizer.pad_token_id
    # a template that closes turns with plain text: fall back to eos
    tokenizer.chat_template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    assert end_of_turn_id(tokenizer) == tokenizer.eos_token_id


def test_prompt_fills_label_and_ontology_and_ends_at_the_answer():
    tokenizer = load_tokenizer(tiny_lm_dir())
    prompt = render_prompt(tokenizer, SYSTEM, TEMPLATES[0], "Seizure", "HPO")
    assert prompt == f"<|begin|><|system|>{SYSTEM}<|end|><|user|>What is the HPO identifier for the HPO term Seizure?<|end|><|assistant|>"


def test_identifier_the_tokenizer_cannot_spell_names_the_fact():
    # a word-level tokenizer with an unknown token cannot spell an identifier it has never seen
    vocab = {"[UNK]": 0, "<eos>": 1, "What": 2, "is": 3}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", eos_token="<eos>", pad_token="<eos>")
    tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }} {% endfor %}"
    facts = pd.DataFrame([{"fact_id": "HP:0001250", "ontology": "HPO", "id": "HP:0001250", "label": "Seizure"}])
    with pytest.raises(PromptError, match="fact HP:0001250: identifier 'HP:0001250' does not round-trip"):
        encode_facts(tokenizer, facts, "", ["What is {label}"], [0])


def test_every_tiny_fact_round_trips():
    tokenizer = load_tokenizer(tiny_lm_dir())
    examples = encode_facts(tokenizer, tiny_facts(), SYSTEM, TEMPLATES, [0, 2])
    assert len(examples) == 2 * len(tiny_facts())
    assert all(tokenizer.decode(ex.target_ids) == f"{ex.fact_id}<|end|>" for ex in examples)


@pytest.mark.workflow
@pytest.mark.parametrize(
    "section,key,value,message",
    [
        ("finetune", "epochs", 0, "['epochs']"),
        ("lora", "r", 0, "['r']"),
        ("lora", "dropout", 1.0, "['dropout']"),
    ],
)
def test_out_of_range_settings_stop_the_dry_run(project, section, key, value, message):
    config_path = project / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    target = config["finetune"]["lora"] if section == "lora" else config[section]
    target[key] = value
    config_path.write_text(yaml.safe_dump(config))
    proc = run_snakemake(project, "-n", "results/models/default/runs/seed0/eval/epoch_01.parquet", check=False)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr and "ValidationError" in proc.stdout + proc.stderr
