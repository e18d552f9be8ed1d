"""A model loaded sharded through accelerate (config key device_map) on the tiny model, on the CPU: split
between memory and disk offload it scores exactly as loaded whole; placed through a device map it trains
the same LoRA adapters; training a model with modules offloaded to disk stops with the key to change."""

import pytest
import torch

from latentfacts.model.finetune import resume, train_epoch, training_examples
from latentfacts.model.lm import load_model, load_tokenizer, sharding
from latentfacts.model.prompts import encode_facts
from latentfacts.model.scoring import score_examples
from test_model_finetune import CFG, PROMPTS, adapter_tensors
from tiny_lm import SYSTEM, TEMPLATES, tiny_facts, tiny_lm_dir

# the second decoder layer on disk: accelerate's hooks load it for each forward pass
MEMORY_AND_DISK = {"model.embed_tokens": "cpu", "model.layers.0": "cpu", "model.layers.1": "disk", "model.norm": "cpu",
                   "model.rotary_emb": "cpu", "lm_head": "cpu"}  # fmt: skip


def test_a_model_split_between_memory_and_disk_scores_as_the_whole_model():
    tokenizer = load_tokenizer(tiny_lm_dir())
    examples = encode_facts(tokenizer, tiny_facts(), SYSTEM, TEMPLATES, [0])
    whole = score_examples(load_model(tiny_lm_dir()), examples, tokenizer.pad_token_id, batch_size=16, progress=False)
    sharded_model = load_model(tiny_lm_dir(), device_map=MEMORY_AND_DISK)
    assert sharded_model.hf_device_map["model.layers.1"] == "disk"
    sharded = score_examples(sharded_model, examples, tokenizer.pad_token_id, batch_size=16, progress=False)
    assert whole.equals(sharded)


def one_epoch(device_map):
    tokenizer = load_tokenizer(tiny_lm_dir())
    train = tiny_facts().query("split == 'train'")
    model, optimizer, scheduler = resume(load_model(tiny_lm_dir(), device_map=device_map), None, CFG, len(train))
    train_epoch(model, optimizer, scheduler, training_examples(tokenizer, train, PROMPTS), CFG, 1,
                tokenizer.pad_token_id, progress=False)  # fmt: skip
    return adapter_tensors(model)


def test_a_model_placed_by_a_device_map_trains_the_same_adapters():
    whole, placed = one_epoch(None), one_epoch({"": "cpu"})
    assert whole.keys() == placed.keys() and all(torch.equal(whole[k], placed[k]) for k in whole)


def test_training_a_model_with_modules_on_disk_stops_naming_the_key():
    train = tiny_facts().query("split == 'train'")
    with pytest.raises(ValueError, match=r"config key device_map: the model's modules model.layers.1 are offloaded to disk"):
        resume(load_model(tiny_lm_dir(), device_map=MEMORY_AND_DISK), None, CFG, len(train))


def test_sharding_arguments():
    assert sharding(None, {"0": "1GiB"}) == {}
    arguments = sharding("auto", {"0": "70GiB", "1": "70GiB", "cpu": "200GiB"})
    assert arguments["max_memory"] == {0: "70GiB", 1: "70GiB", "cpu": "200GiB"}
    assert arguments["device_map"] == "auto" and arguments["offload_folder"].name
    assert "offload_folder" not in sharding({"": 0}, None)
