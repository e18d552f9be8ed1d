"""Probe prompts on a real (untrained) tiny Llama: the term's last token, hidden states independent of
batching, and reverse-probe examples whose target is the label."""

import numpy as np
import pandas as pd
import pytest

from latentfacts.lm import load_model, load_tokenizer
from latentfacts.pretrain import new_tiny_llama, train_tokenizer
from latentfacts.probing import hidden_states_at, probe_prompts, term_end_positions
from latentfacts.reverse_probe import reverse_examples

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
def tiny(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny_untrained")
    lines = [f"{r.label} {r.id} {TEMPLATE}" for r in FACTS.itertuples()] + [SYSTEM]
    tokenizer = train_tokenizer(lines * 5, vocab_size=320)
    model = new_tiny_llama(
        tokenizer, hidden_size=32, intermediate_size=64, num_layers=2, num_heads=2, max_seq_len=128, seed=0
    )
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return load_model(str(directory)), load_tokenizer(str(directory))


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


def test_hidden_states_do_not_depend_on_batching(tiny):
    import torch

    model, tokenizer = tiny
    texts, spans = probe_prompts(tokenizer, FACTS, SYSTEM, TEMPLATE)
    positions = term_end_positions(tokenizer, texts, spans)
    together = hidden_states_at(model, tokenizer, texts, positions, batch_size=5)
    alone = hidden_states_at(model, tokenizer, texts, positions, batch_size=1)
    assert together.shape == (3, 5, 32)  # embeddings + 2 layers
    np.testing.assert_allclose(together, alone, atol=1e-5)
    ids = torch.tensor([tokenizer(texts[2], add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        direct = model(input_ids=ids, output_hidden_states=True).hidden_states[-1][0, positions[2]]
    np.testing.assert_allclose(together[-1, 2], direct.numpy(), atol=1e-5)


def test_reverse_examples_ask_for_the_label(tiny):
    _, tokenizer = tiny
    examples = reverse_examples(tokenizer, FACTS, SYSTEM, "Which {ontology} term has the identifier {id}?")
    for example, row in zip(examples, FACTS.itertuples()):
        prompt = tokenizer.decode(example.prompt_ids)
        assert f"Which {row.ontology} term has the identifier {row.id}?" in prompt
        assert row.label not in prompt
        assert tokenizer.decode(example.target_ids[:-1]) == row.label
        assert example.target_ids[-1] == tokenizer.eos_token_id
