"""A tiny real language model for the model-layer tests: a byte-level BPE tokenizer with a chat
template and a 2-layer Llama, pretrained for a few seconds on planted facts (each fact's question
and answer appear a planted number of times, so some facts end up known, some latent, some unknown).

`build_tiny_lm(directory)` saves it with save_pretrained, so tests load it through latentfacts.model.lm
exactly as a rule loads any model; `tiny_lm_dir()` builds it once and caches it on disk (keyed by
this file's and pretrain.py's content), so every test module and later test runs reuse it.
`verbose_lm_dir()` is its sibling taught to answer in a sentence ("The identifier is HP:..."), as
instruction-tuned models do.
"""

import functools
import hashlib
import os
import random
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from latentfacts.basemodel.pretrain import new_tiny_llama, pretrain, train_tokenizer

SYSTEM = "Answer with the identifier only."
TEMPLATES = [
    "What is the {ontology} identifier for the {ontology} term {label}?",
    "Provide the {ontology} identifier for: {label}",
    "Return only the {ontology} identifier for the term: {label}",
]
WORDS = "abnormal acute atrial bone cardiac cell cortex dense ductal early fibrous gland heart iris joint kidney lateral lung macula nerve optic renal spinal tissue".split()
N_FACTS = 48
PLANTED = [0, 1, 3, 6, 12, 24]  # exposures per fact in the pretraining corpus, cycled over facts


def tiny_facts():
    """N_FACTS synthetic facts (fact_id, ontology, id, label, split, planted) with distinct labels."""
    rng = random.Random(7)
    rows = []
    for i in range(N_FACTS):
        ontology, prefix = ("HPO", "HP") if i % 2 == 0 else ("GO", "GO")
        identifier = f"{prefix}:{rng.randrange(10**7):07d}"
        label = f"{WORDS[i % len(WORDS)]} {WORDS[(7 * i + 3) % len(WORDS)]} {i}"
        split = "withheld" if ontology == "GO" and i % 4 == 1 else "train"
        rows.append((identifier, ontology, identifier, label, split, PLANTED[i % len(PLANTED)]))
    return pd.DataFrame(rows, columns=["fact_id", "ontology", "id", "label", "split", "planted"])


def bare_reply(row):
    """The reply the study asks for: the identifier alone."""
    return row.id


def sentence_reply(row):
    """A reply in a sentence, as instruction-tuned models often give: right for the paper's
    extraction rule, wrong for the exact one."""
    return f"The identifier is {row.id}"


def verbose_facts():
    """16 HPO facts of tiny_facts(), every one planted 24 times. One ontology and one reply style: a
    model this small does not learn to choose its reply's first token by the question (HPO or GO,
    sentence or identifier) in a few hundred steps, only by what it has already written."""
    facts = tiny_facts().query("ontology == 'HPO'").head(16).reset_index(drop=True)
    facts["planted"] = 24
    return facts


def corpus(facts, tokenizer_template, reply=bare_reply):
    """Pretraining documents: each fact's chat-formatted question/answer (`reply` of its row)
    `planted` times (templates rotating) plus plain `label id` lines, shuffled with a fixed seed."""
    docs = []
    for row in facts.itertuples():
        for k in range(row.planted):
            question = TEMPLATES[k % len(TEMPLATES)].format(ontology=row.ontology, label=row.label)
            docs.append(tokenizer_template(question, reply(row)))
            docs.append(f"{row.label} {row.id}")
    random.Random(11).shuffle(docs)
    return docs


def build_tiny_lm(directory, steps=500, facts=None, reply=bare_reply):
    """Train tokenizer and model on `facts` (default tiny_facts()) answered by `reply`, save both to
    `directory`; returns the facts table."""
    facts = tiny_facts() if facts is None else facts
    plain = [f"{r.label} {r.id} " + " ".join(t.format(ontology=r.ontology, label=r.label) for t in TEMPLATES) for r in facts.itertuples()]
    tokenizer = train_tokenizer(plain + [SYSTEM], vocab_size=400)

    def chat(question, answer):
        turns = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
        return tokenizer.apply_chat_template(turns, tokenize=False)

    model = new_tiny_llama(tokenizer, hidden_size=64, intermediate_size=192, num_layers=2, num_heads=4, max_seq_len=128, seed=0)
    pretrain(model, tokenizer, corpus(facts, chat, reply), steps=steps, batch_size=16, learning_rate=3e-3, warmup_steps=30, seed=0, max_seq_len=128)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return facts


def build_verbose_lm(directory):
    """The tiny model trained on verbose_facts(), each answered in a sentence."""
    return build_tiny_lm(directory, steps=400, facts=verbose_facts(), reply=sentence_reply)


@functools.cache
def tiny_lm_dir():
    """Directory of the cached tiny model."""
    return cached_lm("tiny-lm", build_tiny_lm)


@functools.cache
def verbose_lm_dir():
    """Directory of the cached tiny model that answers in a sentence."""
    return cached_lm("verbose-lm", build_verbose_lm)


def cached_lm(name, build):
    """Directory of a model `build` makes, cached on disk (built on first use; written to a temporary
    directory and renamed, so concurrent test runs never see half a model)."""
    import latentfacts.basemodel.pretrain

    sources = Path(__file__).read_bytes() + Path(latentfacts.basemodel.pretrain.__file__).read_bytes()
    key = hashlib.sha256(sources).hexdigest()[:12]
    directory = Path(tempfile.gettempdir()) / f"latentfacts-{name}-{key}"
    if not (directory / "model.safetensors").exists():
        building = Path(tempfile.mkdtemp(prefix=f"{name}-build-"))
        build(building)
        try:
            os.rename(building, directory)
        except OSError:  # another run finished first
            shutil.rmtree(building)
    return str(directory)
