"""Reading the tables and JSON files the workflow's rules pass to each other, with the data
contract's checks, so a damaged or foreign file is named with what was expected before any work
starts (pyarrow alone says `ArrowInvalid ... '<Buffer>'` and names no file)."""

import json

import pandas as pd

from latentfacts.schemas import columns

# The per-epoch evaluation table of a fine-tuning run: written by the model stage, read by the
# analysis and the measurements: the configured rule's `correct` and the teacher-forced scores (the
# answer rule's audit columns correct_exact, extracted_id and reply stay in the tables for users).
AUDIT_COLUMNS = ("correct_exact", "extracted_id", "reply")
EVAL_COLUMNS = [c for c in columns("eval") if c not in AUDIT_COLUMNS]

# Snakemake remakes a missing output, not a damaged one.
REMAKE = "delete it so that the rule which writes it runs again"


class InputError(ValueError):
    """An input table does not follow the data contract or cannot be read; the message names the file."""


def require_columns(table, columns, path):
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {missing}; expected at least {columns}")


def read_table(path, columns=None):
    """The parquet table at `path`, checked to hold `columns` (if given)."""
    try:
        table = pd.read_parquet(path)
    except FileNotFoundError as error:
        raise InputError(f"{path}: file not found; expected a parquet table") from error
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError, ArrowIOError an OSError
        raise InputError(
            f"{path}: not a readable parquet table ({type(error).__name__}: {error}); truncated or overwritten? {REMAKE}"
        ) from error
    if columns is not None:
        require_columns(table, columns, path)
    return table


def read_json(path):
    """The JSON document at `path`."""
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except FileNotFoundError as error:
        raise InputError(f"{path}: file not found; expected a JSON file") from error
    except (OSError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InputError(f"{path}: not readable as JSON ({type(error).__name__}: {error}); {REMAKE}") from error
