"""The synthetic "literature" of the embedded study: a text corpus in which every fact (term label ->
identifier) appears a planted number of times, in several phrasings.

The planted count of a fact grows with its annotation count (well-studied terms are written about
more), so after pretraining some facts are known, some latent and many unknown, and the corpus is a
known ground truth for identifier and label frequencies.
"""

import os

import numpy as np
import pandas as pd

from latentfacts.basemodel.chat import render_chat

PHRASINGS = ("label_id", "stanza", "question_answer")

# Question wordings of the corpus's QA documents. They must differ from the evaluation templates
# (config prompts.templates), so evaluation asks about a fact in words the model never saw. Several
# wordings, not one or two, make the answer depend on the label rather than on the wording, so a
# fact learned from the corpus can be extracted under an unseen question (Allen-Zhu & Li).
CORPUS_QUESTIONS = (
    "Which {ontology} identifier belongs to {label}?",
    "{label}: give its {ontology} ID.",
    "In {ontology}, what is the accession of {label}?",
    "Look up {label} in {ontology} and state its code.",
    "Name the {ontology} code of the term {label}.",
    "{ontology} accession for {label}?",
)

PAIRS_COLUMNS = ["fact_id", "ontology", "id", "label", "split"]
TERMS_COLUMNS = ["ontology", "id", "label"]
ANNOTATIONS_COLUMNS = ["ontology", "id", "n_annotations"]

# Documents are separated by a blank line; no document contains one.
DOCUMENT_SEPARATOR = "\n\n"


class CorpusError(ValueError):
    """An input table or setting cannot make a corpus; the message names the file or key."""


def check_settings(corpus_settings, templates):
    """Settings errors that the config schema cannot express, raised before any work."""
    if len(corpus_settings["phrasing_weights"]) != len(corpus_settings["phrasings"]):
        raise CorpusError(
            f"config key embedded_model.corpus.phrasing_weights: {len(corpus_settings['phrasing_weights'])} weights for "
            f"{len(corpus_settings['phrasings'])} phrasings; give one weight per entry of corpus.phrasings"
        )
    if corpus_settings["min_count"] > corpus_settings["max_count"]:
        raise CorpusError(
            f"config keys embedded_model.corpus.min_count ({corpus_settings['min_count']}) and max_count "
            f"({corpus_settings['max_count']}): the minimum exceeds the maximum"
        )
    clashes = [q for q in CORPUS_QUESTIONS if q in templates]
    if clashes:
        raise CorpusError(f"config key prompts.templates: {clashes[0]!r} is a corpus question wording; evaluation must use unseen wordings")


def select_facts(pairs, terms, annotations, background_terms, seed):
    """Study facts (every pair, both splits) plus `background_terms` other terms drawn at random,
    each with its annotation count (0 where none is recorded). One row per fact_id."""
    study = pairs[["fact_id", "ontology", "id", "label"]].assign(is_study_fact=True)
    others = terms[~terms["id"].isin(pairs["id"])].sort_values(["ontology", "id"], ignore_index=True)
    if background_terms > len(others):
        raise CorpusError(
            f"config key embedded_model.corpus.background_terms: {background_terms} requested, but terms.parquet "
            f"has only {len(others)} terms outside the study pairs"
        )
    chosen = np.random.default_rng([seed, 1]).choice(len(others), size=background_terms, replace=False)
    background = others.iloc[np.sort(chosen)][["ontology", "id", "label"]]
    background = background.assign(fact_id=background["id"], is_study_fact=False)
    facts = pd.concat([study, background], ignore_index=True)
    counts = annotations.set_index(["ontology", "id"])["n_annotations"]
    keys = pd.MultiIndex.from_frame(facts[["ontology", "id"]])
    facts["n_annotations"] = counts.reindex(keys).fillna(0).astype(int).to_numpy()
    return facts


def planted_counts(n_annotations, intercept, slope, dispersion, min_count, max_count, seed):
    """Seeded planted counts: negative binomial with mean `intercept + slope * log1p(n_annotations)`
    and shape `dispersion` (small shape = many zeros and a long tail), clipped to [min_count, max_count]."""
    mean = intercept + slope * np.log1p(np.asarray(n_annotations, dtype=float))
    rng = np.random.default_rng([seed, 2])
    draws = rng.negative_binomial(dispersion, dispersion / (dispersion + mean))
    return np.clip(draws, min_count, max_count)


def split_by_phrasing(counts, weights, seed):
    """Each fact's count shared at random among the phrasings, in proportion to `weights` (one per
    phrasing): a (facts x phrasings) array."""
    rng = np.random.default_rng([seed, 3])
    shares = np.asarray(weights, dtype=float) / sum(weights)
    return np.stack([rng.multinomial(n, shares) for n in counts]) if len(counts) else np.zeros((0, len(weights)), int)


def render(phrasing, fact, question, system_message):
    """One document about `fact` in `phrasing`. QA documents are a whole conversation in the
    model's chat template (with the evaluation's system message), so pretraining teaches the format."""
    if phrasing == "label_id":
        return f"{fact.label} ({fact.id})"
    if phrasing == "stanza":
        return f"[Term]\nid: {fact.id}\nname: {fact.label}"
    question = question.replace("{label}", fact.label).replace("{ontology}", fact.ontology)
    turns = [{"role": "system", "content": system_message}] if system_message else []
    return render_chat([*turns, {"role": "user", "content": question}, {"role": "assistant", "content": fact.id}])


def build_corpus(facts, per_phrasing, phrasings, system_message, seed):
    """All documents, shuffled with `seed`."""
    rng = np.random.default_rng([seed, 4])
    documents = []
    for fact, counts in zip(facts.itertuples(), per_phrasing):
        for phrasing, count in zip(phrasings, counts):
            for _ in range(count):
                question = CORPUS_QUESTIONS[rng.integers(len(CORPUS_QUESTIONS))]
                documents.append(render(phrasing, fact, question, system_message))
    order = rng.permutation(len(documents))
    return [documents[i] for i in order]


def check_labels(facts):
    """Labels and identifiers must fit the one-document-per-block corpus format."""
    for row in facts.itertuples():
        if "\n" in row.label or not row.label.strip():
            raise CorpusError(f"fact {row.fact_id}: label {row.label!r} is empty or spans lines; it cannot be planted")


def synthetic_corpus(pairs, terms, annotations, settings, system_message, seed):
    """(documents, planted-count table) for the embedded study. `settings` is config
    embedded_model.corpus; the table has fact_id, ontology, label, n_annotations, planted_count,
    is_study_fact and one `count_<phrasing>` column per phrasing."""
    facts = select_facts(pairs, terms, annotations, settings["background_terms"], seed)
    check_labels(facts)
    phrasings = list(settings["phrasings"])
    counts = planted_counts(
        facts["n_annotations"],
        settings["count_intercept"],
        settings["count_slope"],
        settings["count_dispersion"],
        settings["min_count"],
        settings["max_count"],
        seed,
    )
    check_settings(settings, [])
    per_phrasing = split_by_phrasing(counts, settings["phrasing_weights"], seed)
    documents = build_corpus(facts, per_phrasing, phrasings, system_message, seed)
    table = facts[["fact_id", "ontology", "label", "n_annotations"]].assign(planted_count=counts, is_study_fact=facts["is_study_fact"])
    for column, phrasing in enumerate(phrasings):
        table[f"count_{phrasing}"] = per_phrasing[:, column]
    return documents, table


def write_corpus(documents, path):
    """Documents separated by blank lines, written whole or not at all."""
    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(DOCUMENT_SEPARATOR.join(documents) + "\n")
    os.replace(partial, path)


def read_documents(path):
    """The documents of a corpus file written by `write_corpus`."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read().removesuffix("\n")
    return text.split(DOCUMENT_SEPARATOR) if text else []
