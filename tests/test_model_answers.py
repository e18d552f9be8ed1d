"""The extract answer rule: extraction reads a JSON field first, then the first identifier match; on a
real tiny model the extract rule agrees with the teacher-forced exact rule wherever the greedy reply is
the identifier alone, and the teacher-forced columns are the same under both rules."""

import pytest
import yaml

from conftest import ROOT
from latentfacts.configcheck import ConfigError, check_answer_rule
from latentfacts.model.answers import AnswerRule, answer_settings, extract_identifier
from latentfacts.model.evaluation import epoch_table, evaluation_examples, example_targets, sampling_from_config
from latentfacts.model.lm import load_model, load_tokenizer
from tiny_lm import SYSTEM, TEMPLATES, tiny_facts, tiny_lm_dir

EVALUATE = {
    "answer": "extract",
    "max_new_tokens": 16,
    "identifier_patterns": {"HPO": r"HP:\d{7}", "GO": r"GO:\d{7}"},
    "json_field": "{ontology}_ID",
    "reply_chars": 60,
}
PROMPTS = {"system_message": SYSTEM, "templates": TEMPLATES, "evaluation_template": 0}
SAMPLING = sampling_from_config({"temperature": 1.0, "top_k": 0, "top_p": 1.0})
RULE = AnswerRule.from_settings(EVALUATE)


def test_extraction_reads_the_json_field_first_then_the_first_match():
    pattern = r"HP:\d{7}"
    assert extract_identifier('{"HPO_ID": "HP:0001250", "note": "not HP:0000001"}', pattern, "HPO_ID") == "HP:0001250"
    # the JSON field wins over an identifier written before it
    assert extract_identifier('See HP:0000001. {"HPO_ID": "HP:0001250"}', pattern, "HPO_ID") == "HP:0001250"
    # no JSON (or no identifier in the field): the first match anywhere
    assert extract_identifier("The HPO identifier for Seizure is HP:0001250, not HP:0000002.", pattern, "HPO_ID") == "HP:0001250"
    assert extract_identifier('{"HPO_ID": "unknown"} maybe HP:0001250', pattern, "HPO_ID") == "HP:0001250"
    assert extract_identifier("HP:12345 is too short", pattern) is None
    assert RULE.identifier('{"GO_ID": "GO:0005634"}', "GO") == "GO:0005634"
    assert answer_settings({**EVALUATE, "answer": "exact"}) == {"answer": "exact"}
    assert AnswerRule.from_settings({"answer": "exact"}) is None


@pytest.fixture(scope="module")
def tiny():
    tokenizer, model, facts = load_tokenizer(tiny_lm_dir()), load_model(tiny_lm_dir()), tiny_facts()
    return model, tokenizer, facts, evaluation_examples(tokenizer, facts, PROMPTS)


def test_extract_and_exact_agree_where_the_reply_is_the_identifier(tiny):
    model, tokenizer, facts, examples = tiny
    exact = epoch_table(model, tokenizer, examples, SAMPLING, 8, 4, 0, 1)
    extract = epoch_table(model, tokenizer, examples, SAMPLING, 8, len(examples), 0, 1, RULE, example_targets(facts, examples))
    assert list(exact.columns) == list(extract.columns)
    # under exact `correct` is the teacher-forced rule and nothing is generated to read
    assert (exact["correct"] == exact["correct_exact"]).all() and exact["reply"].isna().all()
    # the teacher-forced columns do not depend on the answer rule
    for column in ("correct_exact", "logprob", "p_sample", "first_token_rank"):
        assert exact[column].tolist() == extract[column].tolist(), column
    table = extract.merge(facts[["fact_id", "id"]], on="fact_id")
    assert (table["correct"] == (table["extracted_id"] == table["id"])).all()
    alone = table["reply"] == table["id"]
    assert alone.sum() >= 4  # the tiny model answers some of its facts with the identifier alone
    assert table.loc[alone, "correct"].all() and table.loc[alone, "correct_exact"].all()
    # right under exact means the greedy reply is the identifier, so right under extract
    assert (table.loc[table["correct_exact"], "reply"] == table.loc[table["correct_exact"], "id"]).all()
    assert table.loc[table["correct_exact"], "correct"].all()


@pytest.mark.parametrize(
    "evaluate, message",
    [
        ({"identifier_patterns": {"HPO": "HP:(\\d{7}"}}, r"evaluate.identifier_patterns.HPO: 'HP:\(\\\\d\{7\}' is no regular expression"),
        ({"answer": "extract", "identifier_patterns": {"HPO": "HP:\\d{7}"}}, "evaluate.identifier_patterns: no pattern for GO"),
    ],
)
def test_bad_answer_settings_are_named(evaluate, message):
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["evaluate"].update(evaluate)
    with pytest.raises(ConfigError, match=message):
        check_answer_rule(config)
