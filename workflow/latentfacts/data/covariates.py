"""Join every per-fact property the analysis can use into one row per pair."""

COLUMNS = [
    "fact_id", "ontology", "split", "bin", "id_frequency", "label_frequency", "n_annotations",
    "n_annotations_propagated", "depth", "n_parents", "n_synonyms", "label_tokens", "label_chars", "id_leading_zeros",
]  # fmt: skip


def leading_zeros(identifier):
    """Zeros right after the prefix colon: HP:0001250 -> 3, GO:0005634 -> 3."""
    local = identifier.split(":", 1)[1]
    return len(local) - len(local.lstrip("0"))


def build_covariates(pairs, terms, annotations, frequency):
    """One row per pair (same order) with the columns of the data contract."""
    table = (
        pairs[["fact_id", "ontology", "id", "label", "split", "bin"]]
        .merge(frequency[["id", "id_frequency", "label_frequency"]], on="id", how="left", validate="one_to_one")
        .merge(annotations, on=["ontology", "id"], how="left", validate="one_to_one")
        .merge(terms[["ontology", "id", "depth", "n_parents", "n_synonyms"]], on=["ontology", "id"], how="left", validate="one_to_one")
    )
    missing = table[table[["id_frequency", "depth"]].isna().any(axis=1)]
    if len(missing):
        raise ValueError(f"pairs without frequency or term row (inputs out of date?): {missing['fact_id'].tolist()[:5]}")
    table = table.fillna({"n_annotations": 0, "n_annotations_propagated": 0})
    table["label_tokens"] = table["label"].str.split().str.len()
    table["label_chars"] = table["label"].str.len()
    table["id_leading_zeros"] = table["id"].map(leading_zeros)
    counts = [c for c in COLUMNS if c not in ("fact_id", "ontology", "split")]
    return table[COLUMNS].astype({c: "int64" for c in counts})
