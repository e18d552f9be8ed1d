"""Read what fine-tuning runs leave on disk (per-epoch evaluation tables), checked against the data
contract so a bad file is named before any measurement starts."""

import os

import pandas as pd

from latentfacts.tables import EVAL_COLUMNS, InputError, read_table


def read_evals(paths):
    """Stack the evaluation tables {(seed, epoch): path} into one table with a `seed` column."""
    tables = []
    for (seed, epoch), path in sorted(paths.items()):
        table = read_table(path, EVAL_COLUMNS)
        if not (table["epoch"] == epoch).all():
            raise InputError(f"{path}: epoch column must be {epoch} throughout")
        tables.append(table[EVAL_COLUMNS].assign(seed=seed))
    stacked = pd.concat(tables, ignore_index=True)
    stacked["correct"] = stacked["correct"].astype(bool)
    return stacked


def read_seen_order(checkpoint):
    """The order a fine-tuning epoch saw its facts (`seen_order.parquet` in the epoch's directory):
    fact_id and the optimizer `step` whose batch held it."""
    path = os.path.join(checkpoint, "seen_order.parquet")
    return read_table(path, ["fact_id", "step"])
