"""One row per seed x fact x epoch: the eval tables joined with split, knowledge class and covariates."""

import pandas as pd

from latentfacts.tables import EVAL_COLUMNS, InputError, require_columns

PAIRS_COLUMNS = ["fact_id", "ontology", "id", "label", "split", "bin"]
COVARIATE_COLUMNS = [
    "fact_id",
    "id_frequency",
    "label_frequency",
    "n_annotations",
    "n_annotations_propagated",
    "depth",
    "n_parents",
    "n_synonyms",
    "label_tokens",
    "label_chars",
    "id_leading_zeros",
]
BASELINE_COLUMNS = ["fact_id", "correct", "p_sample", "knowledge"]
KNOWLEDGE_CLASSES = ["known", "latent", "unknown"]


def require_facts(table, facts, path):
    """`table` must hold exactly one row per fact of `facts`."""
    duplicated = table["fact_id"][table["fact_id"].duplicated()]
    if len(duplicated):
        raise InputError(f"{path}: fact_id {duplicated.iloc[0]!r} appears more than once")
    missing = sorted(set(facts) - set(table["fact_id"]))
    if missing:
        raise InputError(f"{path}: {len(missing)} fact(s) of pairs.parquet missing, e.g. {missing[0]!r}")


def check_eval(table, path, epoch, facts):
    require_columns(table, EVAL_COLUMNS, path)
    require_facts(table, facts, path)
    wrong_epoch = table["epoch"] != epoch
    if wrong_epoch.any():
        raise InputError(f"{path}: epoch column holds {table['epoch'][wrong_epoch].iloc[0]}, expected {epoch}")
    if not table["correct"].isin([0, 1, True, False]).all():
        raise InputError(f"{path}: column 'correct' must be boolean (or 0/1)")


def build_trajectories(pairs, covariates, baseline, evals, paths):
    """Stack `evals` ({(seed, epoch): eval table}) into the long trajectory table.

    `paths` maps 'pairs', 'covariates', 'baseline' and each (seed, epoch) to its file, for error
    messages. Every table is checked before anything is joined."""
    require_columns(pairs, PAIRS_COLUMNS, paths["pairs"])
    facts = pairs["fact_id"]
    require_facts(pairs, facts, paths["pairs"])
    require_columns(covariates, COVARIATE_COLUMNS, paths["covariates"])
    require_facts(covariates, facts, paths["covariates"])
    require_columns(baseline, BASELINE_COLUMNS, paths["baseline"])
    require_facts(baseline, facts, paths["baseline"])
    unknown_class = ~baseline["knowledge"].isin(KNOWLEDGE_CLASSES)
    if unknown_class.any():
        raise InputError(
            f"{paths['baseline']}: knowledge {baseline['knowledge'][unknown_class].iloc[0]!r} is not one of {KNOWLEDGE_CLASSES}"
        )
    for key, table in evals.items():
        check_eval(table, paths[key], key[1], facts)

    facts_table = (
        pairs[PAIRS_COLUMNS]
        .merge(
            baseline[BASELINE_COLUMNS].rename(columns={"correct": "baseline_correct", "p_sample": "baseline_p_sample"}),
            on="fact_id",
            validate="one_to_one",
        )
        .merge(covariates[COVARIATE_COLUMNS], on="fact_id", validate="one_to_one")
    )
    facts_table["baseline_correct"] = facts_table["baseline_correct"].astype(bool)
    stacked = pd.concat(
        [table[EVAL_COLUMNS].assign(seed=seed) for (seed, _), table in sorted(evals.items())], ignore_index=True
    )
    stacked["correct"] = stacked["correct"].astype(bool)
    trajectories = stacked.merge(facts_table, on="fact_id", validate="many_to_one")
    leading = ["seed", "fact_id", "epoch"]
    trajectories = trajectories[leading + [c for c in trajectories.columns if c not in leading]]
    return trajectories.sort_values(leading, kind="stable").reset_index(drop=True)

