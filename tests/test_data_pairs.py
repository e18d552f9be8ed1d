"""build_pairs: candidates, stratified bins, the split, determinism and a too-large sample."""

import numpy as np
import pandas as pd
import pytest

from latentfacts.data.pairs import SampleError, build_pairs, candidates, spread

PAIRS = {"bins": 4, "stratify_by": "n_annotations", "label_min_chars": 3, "label_max_chars": 40}
ONTOLOGIES = {"HPO": {"namespace": None, "train": 20, "withheld": 0}, "GO": {"namespace": "cellular_component", "train": 6, "withheld": 6}}


def toy_tables():
    """200 HPO terms and 100 GO terms (half of them cellular_component) with skewed counts."""
    rng = np.random.default_rng(7)
    rows, counts = [], []
    for ontology, prefix, n in (("HPO", "HP", 200), ("GO", "GO", 100)):
        for k in range(n):
            term = f"{prefix}:{k:07d}"
            namespace = "human_phenotype" if ontology == "HPO" else ("cellular_component" if k % 2 else "biological_process")
            rows.append((ontology, term, f"{ontology} term é{k}", namespace, 0 if k == 0 else 1 + k % 5, 1, 0))
            counts.append((ontology, term, int(rng.geometric(0.2)) - 1, 0))
    terms = pd.DataFrame(rows, columns=["ontology", "id", "label", "namespace", "depth", "n_parents", "n_synonyms"])
    annotations = pd.DataFrame(counts, columns=["ontology", "id", "n_annotations", "n_annotations_propagated"])
    return terms, annotations


def test_spread_is_even_and_exact():
    assert spread(10, 4) == [3, 2, 3, 2]
    assert spread(800, 20) == [40] * 20
    assert sum(spread(401, 20)) == 401 and max(spread(401, 20)) - min(spread(401, 20)) == 1


def test_candidates_drop_root_shared_labels_lengths_and_namespace():
    terms, annotations = toy_tables()
    go = terms[terms["ontology"] == "GO"].copy()
    go.loc[go["id"] == "GO:0000003", "label"] = "SHARED label"
    go.loc[go["id"] == "GO:0000005", "label"] = "shared LABEL"
    go.loc[go["id"] == "GO:0000007", "label"] = "ab"
    pool = candidates(go, annotations[annotations["ontology"] == "GO"], "cellular_component", 3, 40)
    assert set(pool["namespace"]) == {"cellular_component"}
    assert not {"GO:0000003", "GO:0000005", "GO:0000007"} & set(pool["id"])
    assert len(pool) == 50 - 3
    hpo = candidates(terms[terms["ontology"] == "HPO"], annotations, None, 3, 40)
    assert "HP:0000000" not in set(hpo["id"])  # depth 0: the root


def test_sample_sizes_bins_and_split_are_stratified():
    terms, annotations = toy_tables()
    pairs = build_pairs(terms, annotations, ONTOLOGIES, PAIRS, seed=0)
    assert list(pairs.columns) == ["fact_id", "ontology", "id", "label", "split", "bin", "stratify_value"]
    per_bin = pairs.groupby(["ontology", "bin", "split"]).size()
    assert per_bin.loc["HPO"].tolist() == [5, 5, 5, 5]
    assert per_bin.loc[("GO", slice(None), "train")].tolist() == [2, 1, 2, 1]
    assert per_bin.loc[("GO", slice(None), "withheld")].tolist() == [2, 1, 2, 1]
    # bins follow the stratification value: no value of a lower bin exceeds one of a higher bin
    ranges = pairs[pairs["ontology"] == "HPO"].groupby("bin")["stratify_value"].agg(["min", "max"])
    assert (ranges["max"].to_numpy()[:-1] <= ranges["min"].to_numpy()[1:]).all()
    assert (pairs["fact_id"] == pairs["id"]).all() and pairs["fact_id"].is_unique


def test_same_seed_same_rows_other_seed_other_rows():
    terms, annotations = toy_tables()
    first = build_pairs(terms, annotations, ONTOLOGIES, PAIRS, seed=3)
    shuffled = terms.sample(frac=1, random_state=1)  # input row order does not matter
    pd.testing.assert_frame_equal(first, build_pairs(shuffled, annotations, ONTOLOGIES, PAIRS, seed=3))
    other = build_pairs(terms, annotations, ONTOLOGIES, PAIRS, seed=4)
    assert set(first["fact_id"]) != set(other["fact_id"])


def test_sample_larger_than_a_bin_says_how_many_terms_it_has():
    terms, annotations = toy_tables()
    greedy = {"GO": {"namespace": "cellular_component", "train": 40, "withheld": 20}}
    with pytest.raises(SampleError, match=r"ontology GO, bin 0 .*the bin has 13 candidate terms but 15 were asked \(10 train \+ 5 withheld\)"):
        build_pairs(terms, annotations, greedy, PAIRS, seed=0)
