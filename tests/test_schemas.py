"""The data contract in workflow/schemas/tables/: well formed, naming real rules, and the one source of the
column names that readers check. (The workflow tests check the tables a run writes against it.)"""

import pandas as pd
import pytest
from test_envs import rules

from latentfacts.analysis import comparison, cox, degradation, dynamics, effects, kaplan_meier, km_contrasts, trajectories
from latentfacts.basemodel import corpus
from latentfacts.schemas import FIELDS, KINDS, columns, schema, table_names, violations

RULES = set(rules()) | {"all"}


@pytest.mark.parametrize("name", table_names())
def test_a_schema_names_its_table_rules_and_typed_columns(name):
    spec = schema(name)
    assert FIELDS <= set(spec) and spec["table"] == name and spec["description"].strip()
    assert spec["file"].startswith("results/")
    # a renamed rule must be renamed here too: the contract names who writes and reads each table
    assert spec["written_by"].split()[0] in RULES, f"{name}: written_by {spec['written_by']!r} is no rule"
    unknown = [reader for reader in spec["read_by"] if reader.split()[0] not in RULES | {"measurements"}]
    assert unknown == [], f"{name}: read_by names no rule: {unknown}"
    assert set(spec["key"]) <= set(spec["columns"])
    for column, kind in spec["columns"].items():
        assert kind["type"] in KINDS and kind["description"].strip(), column


def test_readers_and_writers_agree_with_the_schemas():
    assert cox.HR_COLUMNS == columns("cox_fit") == columns("discrete_fit")
    assert cox.PH_COLUMNS == columns("ph")
    assert kaplan_meier.CURVE_COLUMNS == columns("km_curves")[1:]  # after the endpoint
    assert kaplan_meier.RMST_COLUMNS == columns("km_rmst")[1:]
    assert effects.EFFECT_COLUMNS == columns("effects_endpoint") == columns("effects")[1:]
    assert km_contrasts.CONTRAST_COLUMNS == columns("km_contrasts")[1:]
    assert degradation.LOGRANK_COLUMNS == columns("degradation_logrank")[1:]
    assert degradation.CURVE_COLUMNS == columns("degradation_curves")[1:]
    assert (dynamics.CURVE_COLUMNS, dynamics.SUMMARY_COLUMNS) == (columns("dynamics_curves"), columns("dynamics_summary"))
    assert comparison.ESTIMATE_COLUMNS == columns("comparison_hazard_ratios")
    assert comparison.RATE_COLUMNS == columns("comparison_rates")
    assert comparison.RECALL_COLUMNS == columns("comparison_recall")
    assert comparison.POOLED_COLUMNS == columns("comparison_pooled_cox")
    for reader, table in [
        (trajectories.PAIRS_COLUMNS, "pairs"),
        (trajectories.COVARIATE_COLUMNS, "covariates"),
        (trajectories.BASELINE_COLUMNS, "baseline"),
        (trajectories.EVAL_COLUMNS, "eval"),
        (corpus.PAIRS_COLUMNS, "pairs"),
        (corpus.TERMS_COLUMNS, "terms"),
        (corpus.ANNOTATIONS_COLUMNS, "annotations"),
    ]:
        assert set(reader) <= set(columns(table)), table


def test_violations_name_missing_unexpected_and_mistyped_columns():
    table = pd.DataFrame({"fact_id": ["HP:0001250"], "epoch": [1.5], "correct": [True], "logprob": [-1.0]})
    table = table.assign(p_sample=0.5, note="x")
    assert violations(table, "eval") == [
        "missing column 'correct_exact'",
        "missing column 'first_token_rank'",
        "missing column 'extracted_id'",
        "missing column 'reply'",
        "column 'note' is not in the schema",
        "column 'epoch' is float64, not integer",
    ]
    complete = table.drop(columns="note").assign(
        epoch=1, correct_exact=True, first_token_rank=1, extracted_id=None, reply=None
    )
    assert violations(complete, "eval") == []
