"""How often each fact's identifier and label occur in a text corpus.

Text and phrases are cut into the same tokens (runs of word characters, or one other non-space
character), lower-cased; a phrase occurs where its token sequence does. So matches are
case-insensitive and whole-word (HP:0001250 is not counted inside HP:00012501, "seizure" not
inside "seizures"), and overlapping phrases each count ("Focal seizure" also counts "seizure").
One pass over the corpus tokens; phrases are indexed by first token and length, so each
corpus token costs a dict lookup plus one set lookup per phrase length starting with it.
"""

import hashlib
import re
from collections import Counter, defaultdict

import pandas as pd

from latentfacts.data.fetch import open_text

TOKEN = re.compile(r"\w+|[^\w\s]")


def tokens(text):
    return TOKEN.findall(text.lower())


def count_phrases(text, phrases):
    """{phrase: number of occurrences in `text`} (see module docstring for what matches)."""
    by_first = defaultdict(lambda: defaultdict(set))  # first token -> length -> phrases
    for phrase in phrases:
        words = tuple(tokens(phrase))
        if words:
            by_first[words[0]][len(words)].add(words)
    words = tokens(text)
    found = Counter()
    for position, word in enumerate(words):
        for length, group in by_first.get(word, {}).items():
            window = tuple(words[position : position + length])
            if window in group:
                found[window] += 1
    return {phrase: found[tuple(tokens(phrase))] for phrase in phrases}


def corpus_frequency(pairs, corpus_path):
    """id_frequency and label_frequency of every pair in the text file `corpus_path`.

    A corpus count has no date (`taken` is empty): the file's sha256 in `source` identifies what
    was counted, so the table is the same on every run."""
    with open_text(corpus_path) as stream:
        text = stream.read()
    counts = count_phrases(text, set(pairs["id"]) | set(pairs["label"]))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return frequency_table(pairs, counts, source=f"corpus:{corpus_path} sha256:{digest}", taken=None)


def frequency_table(pairs, counts, source, taken):
    """The frequency.parquet table from {query string: count} (ids and labels), any backend;
    `taken` is the date the counts were taken (None where that has no meaning)."""
    return pd.DataFrame(
        {
            "id": pairs["id"].to_numpy(),
            "label": pairs["label"].to_numpy(),
            "id_frequency": [counts[term] for term in pairs["id"]],
            "label_frequency": [counts[label] for label in pairs["label"]],
            "source": source,
            "taken": pd.array(taken if isinstance(taken, list) else [taken] * len(pairs), dtype="string"),
        }
    ).astype({"id_frequency": "int64", "label_frequency": "int64"})
