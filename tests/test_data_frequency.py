"""Identifier / label counts in a corpus, and the covariates table."""

import hashlib
import pandas as pd
import pytest

from latentfacts.data.covariates import build_covariates, leading_zeros
from latentfacts.data.frequency import corpus_frequency, count_phrases

CORPUS = """HP:0001250 is Seizure. A focal seizure (hp:0001250) is a SEIZURE too; seizures are many.
HP:00012501 and XHP:0001250 are other strings. Café-au-lait spot: HP:0000957; café-au-lait spots.
GO:0005634 nucleus, nuclear, nucleus-like, Nucleus."""


def test_count_phrases_whole_word_case_insensitive_overlapping():
    counts = count_phrases(CORPUS, ["HP:0001250", "Seizure", "Focal seizure", "Café-au-lait spot", "nucleus", "GO:0005634", "absent term"])
    assert counts == {
        "HP:0001250": 2,  # not inside HP:00012501 nor XHP:0001250
        "Seizure": 3,  # "Seizure", "seizure" inside "focal seizure", "SEIZURE"; not "seizures"
        "Focal seizure": 1,
        "Café-au-lait spot": 1,
        "nucleus": 3,  # "nucleus-like" counts: the hyphen is a boundary
        "GO:0005634": 1,
        "absent term": 0,
    }


def test_corpus_frequency_table(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    pairs = pd.DataFrame({"id": ["HP:0001250", "HP:0000957"], "label": ["Seizure", "Café-au-lait spot"]})
    table = corpus_frequency(pairs, corpus)
    assert table[["id", "id_frequency", "label_frequency"]].values.tolist() == [["HP:0001250", 2, 3], ["HP:0000957", 1, 1]]
    assert list(table.columns) == ["id", "label", "id_frequency", "label_frequency", "source", "taken"]
    digest = hashlib.sha256(CORPUS.encode("utf-8")).hexdigest()
    assert table["source"].iloc[0] == f"corpus:{corpus} sha256:{digest}"
    assert table["taken"].isna().all()  # a corpus count has no date: reruns give the same table
    assert table.equals(corpus_frequency(pairs, corpus))


@pytest.mark.parametrize(("identifier", "zeros"), [("HP:0001250", 3), ("GO:0005634", 3), ("HP:0100543", 1), ("GO:1990904", 0)])
def test_leading_zeros(identifier, zeros):
    assert leading_zeros(identifier) == zeros


def test_build_covariates_one_row_per_pair():
    pairs = pd.DataFrame(
        {"fact_id": ["HP:0001250", "GO:0005634"], "ontology": ["HPO", "GO"], "id": ["HP:0001250", "GO:0005634"],
         "label": ["Seizure", "nucleus of the cell"], "split": ["train", "withheld"], "bin": [0, 1]}
    )  # fmt: skip
    terms = pd.DataFrame(
        {"ontology": ["HPO", "GO", "GO"], "id": ["HP:0001250", "GO:0005634", "GO:0005575"], "label": ["Seizure", "nucleus of the cell", "cc"],
         "namespace": ["human_phenotype", "cellular_component", "cellular_component"], "depth": [2, 3, 0], "n_parents": [1, 1, 0], "n_synonyms": [2, 1, 0]}
    )  # fmt: skip
    annotations = pd.DataFrame({"ontology": ["HPO"], "id": ["HP:0001250"], "n_annotations": [5], "n_annotations_propagated": [9]})
    frequency = pd.DataFrame({"id": ["HP:0001250", "GO:0005634"], "id_frequency": [4, 0], "label_frequency": [7, 1]})
    table = build_covariates(pairs, terms, annotations, frequency)
    assert table.to_dict("records") == [
        {"fact_id": "HP:0001250", "ontology": "HPO", "split": "train", "bin": 0, "id_frequency": 4, "label_frequency": 7, "n_annotations": 5,
         "n_annotations_propagated": 9, "depth": 2, "n_parents": 1, "n_synonyms": 2, "label_tokens": 1, "label_chars": 7, "id_leading_zeros": 3},
        {"fact_id": "GO:0005634", "ontology": "GO", "split": "withheld", "bin": 1, "id_frequency": 0, "label_frequency": 1, "n_annotations": 0,
         "n_annotations_propagated": 0, "depth": 3, "n_parents": 1, "n_synonyms": 1, "label_tokens": 4, "label_chars": 19, "id_leading_zeros": 3},
    ]  # fmt: skip
