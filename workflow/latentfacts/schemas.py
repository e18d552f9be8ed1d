"""The data contract: one YAML file per table in workflow/schemas/tables/, naming the table's file, the
rule that writes it, the rules that read it and each column's type and meaning. Readers take their column
names from here and the workflow tests hold every written table to it, so the two cannot drift apart."""

import re
from functools import cache
from pathlib import Path

import yaml
from pandas.api import types

TABLES = Path(__file__).resolve().parents[1] / "schemas" / "tables"
FIELDS = {"table", "file", "written_by", "read_by", "description", "key", "columns"}
# A column's `type` in a schema and the pandas columns that satisfy it. Empty cells are allowed: an
# integer column with one is read back from CSV as floats, and a column of empty cells as float.
KINDS = {
    "string": lambda s: types.is_string_dtype(s) or types.is_object_dtype(s),
    "integer": lambda s: types.is_integer_dtype(s) or (types.is_float_dtype(s) and (s.dropna() % 1 == 0).all()),
    "float": types.is_float_dtype,
    "boolean": types.is_bool_dtype,
}


def table_names():
    """Every table of the contract, by schema file name."""
    return sorted(path.stem for path in TABLES.glob("*.yaml"))


@cache
def schema(name):
    """The schema of table `name` (workflow/schemas/tables/{name}.yaml) as a mapping."""
    return yaml.safe_load((TABLES / f"{name}.yaml").read_text())


def columns(name):
    """The columns of table `name`, in the order its writer writes them."""
    return list(schema(name)["columns"])


def violations(frame, name):
    """How `frame` departs from table `name`'s schema: missing, unexpected or mistyped columns ([] if none)."""
    spec = schema(name)["columns"]
    found = [f"missing column {c!r}" for c in spec if c not in frame.columns]
    # A table with `more_columns` (one per model term, per phrasing, ...) may hold columns not listed.
    if "more_columns" not in schema(name):
        found += [f"column {c!r} is not in the schema" for c in frame.columns if c not in spec]
    found += [
        f"column {c!r} is {frame[c].dtype}, not {spec[c]['type']}"
        for c in spec
        if c in frame.columns and not (frame[c].isna().all() or KINDS[spec[c]["type"]](frame[c]))
    ]
    return found


def table_files(name):
    """A glob of table `name`'s files under a project directory (the `{...}` of its path as `*`)."""
    return re.sub(r"\{[^}]*\}", "*", schema(name)["file"].split(" (")[0])
