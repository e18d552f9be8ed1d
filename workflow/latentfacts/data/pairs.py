"""Draw the study's term -> identifier pairs: a seeded, frequency-stratified sample per ontology.

Per ontology: candidates are ranked by the stratification value (ties broken by a seeded random
key), cut into equal-size bins, the same number of terms is drawn from every bin, and within each
bin the drawn terms are split into train and withheld at random, so both splits are stratified.
"""

import zlib

import numpy as np
import pandas as pd


class SampleError(ValueError):
    """The configured sample cannot be drawn from the candidates."""


def spread(total, bins):
    """`total` items over `bins` bins as evenly as possible; the remainder goes to evenly spaced
    bins (deterministic): spread(10, 4) -> [3, 2, 3, 2]."""
    counts = [total // bins] * bins
    remainder = total % bins
    for k in range(remainder):
        counts[k * bins // remainder] += 1
    return counts


def candidates(terms, annotations, namespace, label_min_chars, label_max_chars):
    """Terms of one ontology that may become facts: in `namespace` (None: any), label length in
    range, a label no other term shares (case-insensitive), not a root. Adds annotation counts."""
    shared = terms["label"].str.casefold().duplicated(keep=False)
    length = terms["label"].str.len()
    keep = ~shared & length.between(label_min_chars, label_max_chars) & (terms["depth"] > 0)
    if namespace is not None:
        keep &= terms["namespace"] == namespace
    return terms[keep].merge(annotations, on=["ontology", "id"], how="left", validate="one_to_one").fillna(
        {"n_annotations": 0, "n_annotations_propagated": 0}
    )


def ontology_rng(seed, ontology):
    """A generator for one ontology, independent of which other ontologies are configured."""
    return np.random.default_rng([seed, zlib.crc32(ontology.encode())])


def draw_pairs(pool, ontology, train, withheld, bins, stratify_by, seed):
    """The stratified sample of one ontology's candidate `pool` (see module docstring)."""
    rng = ontology_rng(seed, ontology)
    pool = pool.sort_values("id").reset_index(drop=True)
    tie_break = rng.permutation(len(pool))
    order = np.lexsort((tie_break, pool[stratify_by].to_numpy()))
    ranked = pool.iloc[order].reset_index(drop=True)
    ranked["bin"] = np.repeat(np.arange(bins), [len(part) for part in np.array_split(np.arange(len(ranked)), bins)])
    drawn = []
    for b, n_train, n_withheld in zip(range(bins), spread(train, bins), spread(withheld, bins)):
        members = ranked[ranked["bin"] == b]
        asked = n_train + n_withheld
        if asked > len(members):
            raise SampleError(
                f"ontology {ontology}, bin {b} (by {stratify_by}): the bin has {len(members)} candidate terms "
                f"but {asked} were asked ({n_train} train + {n_withheld} withheld); lower ontologies.{ontology}.train/withheld "
                f"or pairs.bins, or supply a larger ontology"
            )
        chosen = members.iloc[rng.permutation(len(members))[:asked]].copy()
        chosen["split"] = ["train"] * n_train + ["withheld"] * n_withheld
        drawn.append(chosen)
    sample = pd.concat(drawn).sort_values(["bin", "id"])
    sample["fact_id"] = sample["id"]
    sample["stratify_value"] = sample[stratify_by]
    return sample[["fact_id", "ontology", "id", "label", "split", "bin", "stratify_value"]]


def build_pairs(terms, annotations, ontologies, pairs_config, seed):
    """All ontologies' samples in one table, sorted by ontology (config order), bin, fact_id."""
    tables = []
    for name, spec in ontologies.items():
        pool = candidates(
            terms[terms["ontology"] == name],
            annotations[annotations["ontology"] == name],
            spec.get("namespace"),
            pairs_config["label_min_chars"],
            pairs_config["label_max_chars"],
        )
        tables.append(draw_pairs(pool, name, spec["train"], spec["withheld"], pairs_config["bins"], pairs_config["stratify_by"], seed))
    pairs = pd.concat(tables).reset_index(drop=True)
    if pairs["fact_id"].duplicated().any():
        raise SampleError(f"fact_id not unique across ontologies: {pairs.loc[pairs['fact_id'].duplicated(), 'fact_id'].tolist()[:5]}")
    return pairs.astype({"bin": "int64", "stratify_value": "int64"})
