"""The synthetic corpus: planted counts, phrasings, determinism and input errors (small hand-made frames)."""

import re

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from latentfacts.basemodel.corpus import (
    CORPUS_QUESTIONS,
    PAIRS_COLUMNS,
    CorpusError,
    check_settings,
    read_documents,
    synthetic_corpus,
    write_corpus,
)
from latentfacts.basemodel.chat import CHAT_TEMPLATE, render_chat
from latentfacts.basemodel.pretrain import train_tokenizer
from latentfacts.tables import InputError, require_columns

SYSTEM = "You are a biomedical ontology assistant. Answer with the identifier only."
SETTINGS = {
    "background_terms": 40,
    "min_count": 0,
    "max_count": 12,
    "count_intercept": 0.5,
    "count_slope": 1.0,
    "count_dispersion": 0.8,
    "phrasings": ["label_id", "stanza", "question_answer"],
    "phrasing_weights": [1, 1, 2],
}
WORDS = "abnormal small large cardiac renal ocular nuclear membrane cell complex lobe seizure".split()


def make_terms(n, seed=0):
    """n HPO and n GO terms with made-up labels (some labels are prefixes of others) and
    heavy-tailed annotation counts."""
    rng = np.random.default_rng(seed)
    rows = []
    for ontology, prefix in [("HPO", "HP"), ("GO", "GO")]:
        for i in range(n):
            words = rng.choice(WORDS, size=1 + i % 3)
            rows.append((ontology, f"{prefix}:{1000 + i:07d}", " ".join(words).capitalize() + f" {i}"))
    terms = pd.DataFrame(rows, columns=["ontology", "id", "label"])
    annotations = terms[["ontology", "id"]].assign(n_annotations=rng.negative_binomial(0.4, 0.02, size=len(terms)))
    return terms, annotations


def make_pairs(terms, n_per_ontology):
    pairs = terms.groupby("ontology").head(n_per_ontology).copy()
    pairs["fact_id"] = pairs["id"]
    pairs["split"] = np.where(np.arange(len(pairs)) % 4 == 0, "withheld", "train")
    return pairs


@pytest.fixture(scope="module")
def frames():
    terms, annotations = make_terms(150)
    return make_pairs(terms, 100), terms, annotations


def phrasing_patterns(fact_id, label):
    """A regex per phrasing that matches exactly one planted document of the fact."""
    ident, name = re.escape(fact_id), re.escape(label)
    return {
        "label_id": rf"(?m)^{name} \({ident}\)$",
        "stanza": rf"(?m)^\[Term\]\nid: {ident}\nname: {name}$",
        "question_answer": rf"<\|assistant\|>{ident}<\|end\|>",
    }


def test_each_fact_appears_exactly_its_planted_count_per_phrasing(frames, tmp_path):
    pairs, terms, annotations = frames
    documents, table = synthetic_corpus(pairs, terms, annotations, SETTINGS, SYSTEM, seed=3)
    write_corpus(documents, tmp_path / "corpus.txt")
    text = (tmp_path / "corpus.txt").read_text()
    assert read_documents(tmp_path / "corpus.txt") == documents
    assert table["is_study_fact"].sum() == len(pairs) and (~table["is_study_fact"]).sum() == 40
    assert table["fact_id"].is_unique
    for row in table.itertuples():
        patterns = phrasing_patterns(row.fact_id, row.label)
        for phrasing, pattern in patterns.items():
            assert len(re.findall(pattern, text)) == getattr(row, f"count_{phrasing}"), (row.fact_id, phrasing)
        assert row.count_label_id + row.count_stanza + row.count_question_answer == row.planted_count
    # identifiers occur nowhere but in their planted documents
    assert sum(text.count(row.fact_id) for row in table.itertuples()) == table["planted_count"].sum()
    assert len(documents) == table["planted_count"].sum()
    assert 0 < (table["planted_count"] == 0).mean() < 1 and table["planted_count"].max() <= SETTINGS["max_count"]


def test_planted_counts_grow_with_annotation_count(frames):
    pairs, terms, annotations = frames
    _, table = synthetic_corpus(pairs, terms, annotations, SETTINGS, SYSTEM, seed=0)
    rho, p = spearmanr(table["n_annotations"], table["planted_count"])
    assert rho > 0.2 and p < 0.01


def test_phrasing_weights_share_out_the_planted_counts(frames):
    pairs, terms, annotations = frames
    _, table = synthetic_corpus(pairs, terms, annotations, {**SETTINGS, "phrasing_weights": [1, 0, 3]}, SYSTEM, seed=0)
    assert table["count_stanza"].sum() == 0
    assert 2 < table["count_question_answer"].sum() / table["count_label_id"].sum() < 4.5


def test_corpus_is_deterministic_for_a_seed(frames):
    pairs, terms, annotations = frames
    first = synthetic_corpus(pairs, terms, annotations, SETTINGS, SYSTEM, seed=7)
    again = synthetic_corpus(pairs, terms, annotations, SETTINGS, SYSTEM, seed=7)
    other = synthetic_corpus(pairs, terms, annotations, SETTINGS, SYSTEM, seed=8)
    assert first[0] == again[0]
    pd.testing.assert_frame_equal(first[1], again[1])
    assert first[0] != other[0]


def test_qa_documents_are_the_chat_template_with_an_unseen_question(frames):
    pairs, terms, annotations = frames
    documents, _ = synthetic_corpus(pairs, terms, annotations, SETTINGS, SYSTEM, seed=0)
    qa = [doc for doc in documents if doc.startswith("<|begin|>")]
    assert qa and all("\n" not in doc and doc.endswith("<|end|>") for doc in qa)
    assert all(f"<|system|>{SYSTEM}<|end|><|user|>" in doc for doc in qa)
    tokenizer = train_tokenizer(documents, 400)
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Which GO identifier belongs to Nucleus?"},
        {"role": "assistant", "content": "GO:0005634"},
    ]
    assert render_chat(messages) == tokenizer.apply_chat_template(messages, tokenize=False)
    assert tokenizer.chat_template == CHAT_TEMPLATE


def test_setting_and_input_errors_name_the_key_or_file(frames):
    pairs, terms, annotations = frames
    with pytest.raises(CorpusError, match="min_count"):
        check_settings({**SETTINGS, "min_count": 5, "max_count": 2}, [])
    with pytest.raises(CorpusError, match="phrasing_weights: 2 weights for 3 phrasings"):
        check_settings({**SETTINGS, "phrasing_weights": [1, 2]}, [])
    with pytest.raises(CorpusError, match="prompts.templates"):
        check_settings(SETTINGS, ["What is it?", CORPUS_QUESTIONS[0]])
    with pytest.raises(InputError, match=r"results/data/pairs.parquet: missing column\(s\) \['split'\]"):
        require_columns(pairs.drop(columns="split"), PAIRS_COLUMNS, "results/data/pairs.parquet")
    with pytest.raises(CorpusError, match="background_terms: 5000 requested"):
        synthetic_corpus(pairs, terms, annotations, {**SETTINGS, "background_terms": 5000}, SYSTEM, seed=0)
    broken = pairs.copy()
    broken.loc[broken.index[0], "label"] = "two\nlines"
    with pytest.raises(CorpusError, match=f"fact {broken['fact_id'].iloc[0]}: label"):
        synthetic_corpus(broken, terms, annotations, SETTINGS, SYSTEM, seed=0)
